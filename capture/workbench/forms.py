"""The workbench's forms (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FieldList,
    FloatField,
    Form,
    FormField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from capture.workbench.permissions import ROLES
from capture.workbench.sequences.editing import OPERATORS
from capture.workbench.sequences.editing import TYPES as QUESTION_TYPES

#: a question's option rows on its card: those it has, and room for new ones
MAX_OPTION_ROWS = 60

#: each language named in itself, so anyone can find their own
LOCALES = [SelectChoice("en", "English"), SelectChoice("da", "Dansk")]


def role_choices() -> list[SelectChoice]:
    names = {"admin": _l("Admin"), "marketer": _l("Marketer"), "sales": _l("Sales"), "viewer": _l("Viewer")}
    return [SelectChoice(role, str(names.get(role, role))) for role in ROLES]


class SignInForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class SignOutForm(FlaskForm):
    """No fields: the CSRF token alone, so no other site can sign a user out."""


class LocaleForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=LOCALES)


class SiteForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    origins = TextAreaField(
        _l("Allowed origins"),
        description=_l("One per line, e.g. https://www.example.com"),
        validators=[DataRequired()],
    )


class OriginsForm(FlaskForm):
    origins = TextAreaField(
        _l("Allowed origins"),
        description=_l("One per line, e.g. https://www.example.com"),
        validators=[DataRequired()],
    )


def policy_choices() -> list[SelectChoice]:
    return [
        SelectChoice(
            "required", str(_l("Required: nothing is kept on the device and no behaviour is sent before consent"))
        ),
        SelectChoice("not_required", str(_l("Not required: the site's own legal basis covers tracking"))),
    ]


class ConsentForm(FlaskForm):
    """A site's consent policy and whether marketing consent needs a confirmation link (double opt-in)."""

    policy = SelectField(_l("Consent"), choices=policy_choices)
    double_opt_in = BooleanField(
        _l("Marketing consent counts only once confirmed by a link mailed to the address (double opt-in)")
    )


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=12, max=1024)])
    role = SelectField(_l("Role"), choices=role_choices)


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class ActionForm(FlaskForm):
    """A button that changes something (disable, enable): the CSRF token alone."""


def origins_of(text: str) -> list[str]:
    return [line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()]


def _none_if_empty(value: str | None) -> str | None:
    return value or None


class LeadFilterForm(FlaskForm):
    """The leads list's search and filters: a GET form, so a filtered list is a link one can share."""

    class Meta:
        csrf = False  # it changes nothing

    q = StringField(_l("Search"), description=_l("E-mail, name or company"), validators=[Optional(), Length(max=200)])
    site = SelectField(_l("Site"), choices=[], validate_choice=False, filters=[_none_if_empty])
    form = SelectField(_l("Form"), choices=[], validate_choice=False, filters=[_none_if_empty])
    stage = SelectField(_l("Stage"), choices=[], validate_choice=False, filters=[_none_if_empty])
    band = SelectField(_l("Score"), choices=[], validate_choice=False, filters=[_none_if_empty])
    since = DateField(_l("Seen from"), validators=[Optional()])
    until = DateField(_l("Seen until"), validators=[Optional()])
    sort = SelectField(_l("Sort by"), choices=[], validate_choice=False)


class GrantForm(FlaskForm):
    """An admin lets one salesperson export leads (or takes it back)."""

    export = BooleanField(_l("May export leads"))


class VisitForm(Form):
    """One simulated visit: answer or "not now", and the pages viewed."""

    answers = SelectField(
        _l("On this visit"), choices=[SelectChoice("yes", _l("answers")), SelectChoice("no", _l("says “not now”"))]
    )
    pages = StringField(
        _l("Pages viewed"), description=_l("Paths, separated by commas, e.g. /pricing, /careers"),
        validators=[Optional(), Length(max=500)],
    )  # fmt: skip


class PersonaForm(FlaskForm):
    """Who the simulator plays: a GET form, so a persona is a link one can share."""

    class Meta:
        csrf = False  # it stores nothing

    form = SelectField(_l("Form"), choices=[], validate_choice=False)
    locale = SelectField(_l("Language"), choices=[*LOCALES, SelectChoice("nb", "Norsk"), SelectChoice("ro", "Română")])
    kind = SelectField(
        _l("Known before the first visit"),
        choices=[
            SelectChoice("", _l("nothing")),
            SelectChoice("b2b", _l("buys for a company")),
            SelectChoice("b2c", _l("buys for themself")),
        ],
        filters=[_none_if_empty],
    )
    draft = BooleanField(_l("Play the unpublished draft, where there is one"))
    visits = FieldList(FormField(VisitForm), min_entries=4, max_entries=6)


class OptionRowForm(Form):
    """One option of a question: the value stored, and its label in each language."""

    value = StringField(_l("Value"), validators=[Optional(), Length(max=64), Regexp(r"^[A-Za-z0-9_.-]+$")])
    label_en = StringField(_l("English"), validators=[Optional(), Length(max=500)])
    label_da = StringField(_l("Danish"), validators=[Optional(), Length(max=500)])
    label_nb = StringField(_l("Norwegian"), validators=[Optional(), Length(max=500)])
    label_ro = StringField(_l("Romanian"), validators=[Optional(), Length(max=500)])


class ConditionRowForm(Form):
    """One condition: an earlier question's field, a test, and the value it tests against."""

    field = SelectField(_l("Field"), choices=[], validate_choice=False)
    operator = SelectField(_l("Test"), choices=[SelectChoice(op, op) for op in OPERATORS])
    value = StringField(_l("Value"), description=_l("For in and not_in: values separated by commas"),
                        validators=[Optional(), Length(max=500)])  # fmt: skip


class QuestionForm(FlaskForm):
    """One question's card: its label in each of the product's languages, and how it is asked."""

    label_en = StringField(_l("Label (English)"), validators=[Optional(), Length(max=500)])
    label_da = StringField(_l("Label (Danish)"), validators=[Optional(), Length(max=500)])
    label_nb = StringField(_l("Label (Norwegian)"), validators=[Optional(), Length(max=500)])
    label_ro = StringField(_l("Label (Romanian)"), validators=[Optional(), Length(max=500)])
    required = BooleanField(_l("Required"))
    skippable = BooleanField(_l("May be answered “not now”"))
    freshness_days = IntegerField(
        _l("Ask again after (days)"),
        description=_l("Empty: an answer is kept for good"),
        validators=[Optional(), NumberRange(min=1, max=3650)],
    )
    options = FieldList(FormField(OptionRowForm), max_entries=MAX_OPTION_ROWS)
    match = SelectField(
        _l("Asked when"),
        choices=[SelectChoice("all", _l("every condition holds")), SelectChoice("any", _l("any condition holds"))],
        default="all",
    )
    conditions = FieldList(FormField(ConditionRowForm), max_entries=20)
    min_length = IntegerField(_l("Shortest answer (characters)"), validators=[Optional(), NumberRange(min=0)])
    max_length = IntegerField(_l("Longest answer (characters)"), validators=[Optional(), NumberRange(min=0)])
    min = FloatField(_l("Smallest number"), validators=[Optional()])
    max = FloatField(_l("Largest number"), validators=[Optional()])
    pattern = StringField(_l("Pattern (regular expression)"), validators=[Optional(), Length(max=200)])
    min_choices = IntegerField(_l("Fewest choices"), validators=[Optional(), NumberRange(min=0)])
    max_choices = IntegerField(_l("Most choices"), validators=[Optional(), NumberRange(min=0)])


class SettingsForm(FlaskForm):
    """The sequence's per-visit settings."""

    questions_per_visit = IntegerField(_l("Questions per visit"), validators=[DataRequired(), NumberRange(1, 20)])
    snooze_visits = IntegerField(_l("Visits a “not now” waits"), validators=[Optional(), NumberRange(0, 50)])
    max_reasks = IntegerField(_l("Times a question is asked again after “not now”"),
                              validators=[Optional(), NumberRange(0, 20)])  # fmt: skip
    email_first = BooleanField(_l("Ask for the e-mail address first"))
    more_on_request = BooleanField(_l("Offer the next questions on request (“Tell us more now”)"))


class StageForm(FlaskForm):
    key = StringField(_l("Key"), validators=[DataRequired(), Length(max=64), Regexp(r"^[a-z][a-z0-9_]*$")])
    label = StringField(_l("Name (English)"), validators=[DataRequired(), Length(max=200)])


class NewQuestionForm(FlaskForm):
    stage = StringField(_l("Stage"), validators=[DataRequired(), Length(max=64)])
    key = StringField(
        _l("Key"),
        description=_l("Lower-case letters, digits and _, e.g. job_title"),
        validators=[DataRequired(), Length(max=64), Regexp(r"^[a-z][a-z0-9_]*$")],
    )
    kind = SelectField(_l("Type"), choices=[SelectChoice(kind, kind) for kind in QUESTION_TYPES])
    label = StringField(_l("Label (English)"), validators=[DataRequired(), Length(max=500)])


class TranslationsForm(FlaskForm):
    file = FileField(_l("Translations file (CSV)"), validators=[FileRequired()])
