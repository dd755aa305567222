"""The Sequences pages: each form's question sequence as cards, edited in a draft, published as a version.

Every change is a POST (with its CSRF token) that applies one operation of
capture/workbench/sequences/editing.py to the draft and comes back to the editor, so it works with the
keyboard and without script; htmx is not needed for any of it. The draft is checked on every
view by the parser the CLI uses, and its problems are shown on the cards they concern.
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response as Redirect
from wtforms.fields.choices import SelectChoice

from capture.db.models import Form, SequenceDraft, SequenceVersion, Site
from capture.sites.publishing import publish
from capture.workbench.auth import requires, services, workbench_pages
from capture.workbench.forms import (
    ActionForm,
    NewQuestionForm,
    QuestionForm,
    SettingsForm,
    StageForm,
    TranslationsForm,
)
from capture.workbench.sequences import editing
from capture.workbench.spreadsheet import read_cell, safe_cell
from profiling.document import DocumentError, load, problems

#: a translator's file is a few hundred rows: a megabyte is plenty
MAX_CSV = 1_000_000

workbench_sequences = Blueprint("workbench_sequences", __name__, url_prefix="/workbench/sequences")
workbench_pages(workbench_sequences)


@workbench_sequences.route("/")
@requires("sequences", "view")
def index() -> str:
    with services().db.read() as db:
        rows = db.execute(
            select(Form.id, Form.name, Form.slug, Site.name.label("site")).join(Site).order_by(Site.name, Form.name)
        ).all()
        drafts = set(db.scalars(select(SequenceDraft.form_id)))
    return render_template("workbench/sequences/index.html", forms=rows, drafts=drafts)


def _live(db: Session, form_id: int) -> SequenceVersion | None:
    return db.scalar(
        select(SequenceVersion).where(SequenceVersion.form_id == form_id).order_by(SequenceVersion.version.desc())
    )


def _draft(db: Session, form_id: int) -> tuple[Form, SequenceVersion | None, dict[str, Any], bool]:
    """(form, live version, the document being edited, whether it is a draft): the draft, else the live version."""
    form = db.get(Form, form_id)
    if form is None:
        abort(404)
    live = _live(db, form_id)
    draft = db.get(SequenceDraft, form_id)
    if draft is not None:
        return form, live, dict(draft.document), True
    if live is None:
        abort(404)
    return form, live, dict(live.document), False


def _save(db: Session, form_id: int, document: dict[str, Any], based_on: int | None) -> None:
    draft = db.get(SequenceDraft, form_id)
    now = services().clock()
    if draft is None:
        db.add(
            SequenceDraft(
                form_id=form_id, document=document, based_on=based_on, updated_by=current_user.email, updated_at=now
            )
        )
    else:
        draft.document, draft.updated_by, draft.updated_at = document, current_user.email, now


@workbench_sequences.route("/<int:form_id>")
@requires("sequences", "view")
def edit(form_id: int, status: int = 200, new_question: NewQuestionForm | None = None) -> Any:
    with services().db.read() as db:
        form, live, document, is_draft = _draft(db, form_id)
        site = db.get(Site, form.site_id)
        history = db.scalars(
            select(SequenceVersion).where(SequenceVersion.form_id == form_id).order_by(SequenceVersion.version.desc())
        ).all()
        versions = [(v.version, v.published_at, v.published_by) for v in history]
        live_document = dict(live.document) if live is not None else None
    found = problems(json.dumps(document))
    by_question = _problems_by_question(document, found)
    return render_template(
        "workbench/sequences/edit.html",
        form=form,
        site=site,
        document=document,
        is_draft=is_draft,
        live_version=live.version if live else None,
        problems=found,
        by_question=by_question,
        coverage=editing.coverage,
        locales=editing.LOCALES,
        changes=editing.diff(live_document, document) if is_draft else [],
        versions=versions,
        new_question=new_question or NewQuestionForm(formdata=None),
        settings_form=SettingsForm(formdata=None, data=dict(document.get("settings") or {})),
        new_stage=StageForm(formdata=None),
        label_of=label_of,
        shared=editing.shared_fields(document),
        action=ActionForm(formdata=None),
    ), status


def _problems_by_question(document: dict[str, Any], found: list[Any]) -> dict[str, list[Any]]:
    """Each problem on the card of the question its path names (``stages[1].questions[0]…``)."""
    keys = {
        f"stages[{s}].questions[{q}]": item.get("key")
        for s, stage in enumerate(document.get("stages", []))
        for q, item in enumerate(stage.get("questions", []))
    }
    placed: dict[str, list[Any]] = {}
    for problem in found:
        for prefix, key in keys.items():
            if problem.path == prefix or problem.path.startswith(prefix + "."):
                placed.setdefault(key, []).append(problem)
    return placed


def _change(form_id: int, operation: Any) -> Redirect:
    """Apply one editing operation to the draft (made from the live version on the first change)."""
    ActionForm()  # the CSRF token was checked before the view (CSRFProtect); nothing else to read
    with services().db.write() as db:
        _form, live, document, _is_draft = _draft(db, form_id)
        try:
            changed = operation(document)
        except editing.StageNotEmpty:  # the button is only offered for an empty stage: a stale page
            abort(422)
        except editing.EditError:
            abort(404)
        _save(db, form_id, changed, live.version if live else None)
    return redirect(url_for("workbench_sequences.edit", form_id=form_id) + _in_view(changed))


def _in_view(document: dict[str, Any]) -> str:
    """Where the editor opens after a change: at the first error it made, else back at the card it came from."""
    errors = [p for p in problems(json.dumps(document)) if p.severity == "error"]
    if errors:
        placed = _problems_by_question(document, errors)
        first = next((key for key in _keys_in_order(document) if key in placed), None)
        return f"#q-{first}" if first else "#problems"
    anchor = request.form.get("anchor", "")
    return anchor if anchor.startswith("#q-") and len(anchor) < 80 else ""


def _keys_in_order(document: dict[str, Any]) -> list[str]:
    return [item.get("key") for stage in document.get("stages", []) for item in stage.get("questions", [])]


@workbench_sequences.route("/<int:form_id>/questions/<key>/move", methods=["POST"])
@requires("sequences", "edit")
def move(form_id: int, key: str) -> Redirect:
    where = request.form.get("where", "")
    if where not in ("up", "down", "top"):
        abort(400)
    return _change(form_id, lambda document: editing.move(document, key, where))


@workbench_sequences.route("/<int:form_id>/questions/<key>/delete", methods=["POST"])
@requires("sequences", "edit")
def delete(form_id: int, key: str) -> Redirect:
    return _change(form_id, lambda document: editing.delete(document, key))


@workbench_sequences.route("/<int:form_id>/questions/<key>", methods=["GET", "POST"])
@requires("sequences", "edit")
def question(form_id: int, key: str) -> Any:
    with services().db.read() as db:
        form, _live, document, _is_draft = _draft(db, form_id)
    try:
        item = editing.question(document, key)
        fields = editing.earlier_fields(document, key)
    except editing.EditError:
        abort(404)
    edited = QuestionForm(data=_question_data(item)) if request.method == "GET" else QuestionForm()
    if request.method == "GET":  # a blank row to add an option or a condition
        edited.options.append_entry()
        edited.conditions.append_entry()
    for row in edited.conditions:
        row.form.field.choices = [SelectChoice("", "—"), *(SelectChoice(field, field) for field in fields)]
    if request.method == "POST" and edited.validate_on_submit():
        return _change(form_id, lambda doc: _apply_card(doc, key, edited))
    status = 422 if edited.errors else 200
    return render_template("workbench/sequences/question.html", form=form, item=item, edited=edited), status


def _apply_card(document: dict[str, Any], key: str, edited: QuestionForm) -> dict[str, Any]:
    """Everything the card sets, as the editing operations set it."""
    labels = {locale: (getattr(edited, f"label_{locale}").data or "").strip() for locale in editing.LOCALES}
    changes = {
        "label": labels,
        "required": edited.required.data,
        "skippable": edited.skippable.data,
        "freshness_days": edited.freshness_days.data,
    }
    document = editing.update(document, key, changes)
    if editing.question(document, key).get("options") or any(row.form.value.data for row in edited.options):
        options = [
            {
                "value": (row.form.value.data or "").strip(),
                "label": {
                    locale: (getattr(row.form, f"label_{locale}").data or "").strip() for locale in editing.LOCALES
                },
            }
            for row in edited.options
        ]
        document = editing.set_options(document, key, options)
    conditions = [
        {
            "field": row.form.field.data or "",
            "operator": row.form.operator.data or "",
            "value": row.form.value.data or "",
        }
        for row in edited.conditions
    ]
    document = editing.set_conditions(document, key, conditions, edited.match.data == "any")
    validators = {name: getattr(edited, name).data for name in editing.VALIDATORS}
    return editing.set_validators(document, key, validators)


def _question_data(item: dict[str, Any]) -> dict[str, Any]:
    labels = item.get("label") or {}
    conditions = item.get("when_any") or item.get("when") or []
    if isinstance(conditions, dict):
        conditions = [conditions]
    return {
        **{f"label_{locale}": labels.get(locale, "") for locale in editing.LOCALES},
        "required": bool(item.get("required")),
        "skippable": item.get("skippable", True),
        "freshness_days": item.get("freshness_days"),
        "options": [_option_row(option) for option in item.get("options", [])],
        "match": "any" if item.get("when_any") else "all",
        "conditions": [_condition_row(c) for c in conditions],
        **{name: item.get(name) for name in editing.VALIDATORS},
    }


def _option_row(option: dict[str, Any]) -> dict[str, Any]:
    labels = option.get("label") or {}
    return {"value": option.get("value"), **{f"label_{locale}": labels.get(locale, "") for locale in editing.LOCALES}}


def _condition_row(condition: dict[str, Any]) -> dict[str, str]:
    operator = next((key for key in condition if key != "field"), "equals")
    value = condition.get(operator)
    typed = (
        ", ".join(map(str, value))
        if isinstance(value, list)
        else ""
        if value is True and operator == "known"
        else str(value)
    )
    return {"field": str(condition.get("field", "")), "operator": operator, "value": typed}


@workbench_sequences.route("/<int:form_id>/settings", methods=["POST"])
@requires("sequences", "edit")
def settings(form_id: int) -> Any:
    chosen = SettingsForm()
    if not chosen.validate_on_submit():
        return edit(form_id, 422)
    values = {
        "questions_per_visit": chosen.questions_per_visit.data,
        "snooze_visits": chosen.snooze_visits.data or 0,
        "max_reasks": chosen.max_reasks.data or 0,
        "email_first": bool(chosen.email_first.data),
        "more_on_request": bool(chosen.more_on_request.data),
    }
    return _change(form_id, lambda doc: editing.set_settings(doc, values))


@workbench_sequences.route("/<int:form_id>/stages", methods=["POST"])
@requires("sequences", "edit")
def add_stage(form_id: int) -> Any:
    new = StageForm()
    if not new.validate_on_submit():
        return edit(form_id, 422)
    key, label = new.key.data or "", new.label.data or ""
    return _change(form_id, lambda doc: editing.add_stage(doc, key, label, "en"))


@workbench_sequences.route("/<int:form_id>/stages/<key>/delete", methods=["POST"])
@requires("sequences", "edit")
def delete_stage(form_id: int, key: str) -> Redirect:
    return _change(form_id, lambda doc: editing.delete_stage(doc, key))


@workbench_sequences.route("/<int:form_id>/questions", methods=["POST"])
@requires("sequences", "edit")
def add_question(form_id: int) -> Any:
    new = NewQuestionForm()
    if not new.validate_on_submit():
        return edit(form_id, 422, new)
    stage, key, kind, label = new.stage.data or "", new.key.data or "", new.kind.data or "text", new.label.data or ""
    with services().db.read() as db:
        _form, _live, document, _is_draft = _draft(db, form_id)
    try:
        editing.add_question(document, stage, key, kind, label, "en")
    except editing.EditError as exc:  # a key taken, a stage that is not there: said next to the form
        new.key.errors = [*new.key.errors, str(exc)]
        return edit(form_id, 422, new)
    return _change(form_id, lambda doc: editing.add_question(doc, stage, key, kind, label, "en"))


@workbench_sequences.route("/<int:form_id>/discard", methods=["POST"])
@requires("sequences", "edit")
def discard(form_id: int) -> Redirect:
    ActionForm()
    with services().db.write() as db:
        draft = db.get(SequenceDraft, form_id)
        if draft is not None:
            db.delete(draft)
    return redirect(url_for("workbench_sequences.edit", form_id=form_id))


@workbench_sequences.route("/<int:form_id>/publish", methods=["POST"])
@requires("sequences", "publish")
def publish_draft(form_id: int) -> Any:
    """Publish the draft as the form's next version; refused, with its problems shown, while it has errors."""
    ActionForm()
    svc = services()
    with svc.db.write() as db:
        form, _live, document, is_draft = _draft(db, form_id)
        if not is_draft:
            return redirect(url_for("workbench_sequences.edit", form_id=form_id))
        try:
            sequence = load(document)
        except DocumentError:
            refused = True
        else:
            refused = False
            site = db.get(Site, form.site_id)
            assert site is not None
            publish(db, site, form.slug, sequence, svc.clock(), published_by=current_user.email)
            draft = db.get(SequenceDraft, form_id)
            db.delete(draft)
    if refused:
        return edit(form_id, 422)
    svc.catalog.clear()  # this process at once; the others within the catalogue's lifetime
    return redirect(url_for("workbench_sequences.edit", form_id=form_id, published=1))


@workbench_sequences.route("/<int:form_id>/versions/<int:version>/revert", methods=["POST"])
@requires("sequences", "publish")
def revert(form_id: int, version: int) -> Redirect:
    """Publish an old version anew: the history keeps both, and the old one is live again."""
    ActionForm()
    svc = services()
    with svc.db.write() as db:
        form = db.get(Form, form_id)
        old = db.scalar(
            select(SequenceVersion).where(SequenceVersion.form_id == form_id, SequenceVersion.version == version)
        )
        if form is None or old is None:
            abort(404)
        site = db.get(Site, form.site_id)
        assert site is not None
        sequence = load(old.document)
        number = publish(db, site, form.slug, sequence, svc.clock(), published_by=current_user.email).version.version
        draft = db.get(SequenceDraft, form_id)
        if draft is not None:
            db.delete(draft)
    svc.catalog.clear()
    return redirect(url_for("workbench_sequences.edit", form_id=form_id, published=number))


def label_of(item: dict[str, Any], locale: str) -> str:
    labels = item.get("label") or {}
    return str(labels.get(locale) or labels.get("en") or next(iter(labels.values()), item.get("key", "")))


@workbench_sequences.route("/<int:form_id>/translations")
@requires("sequences", "view")
def translations(form_id: int, status: int = 200, unknown: list[str] | None = None) -> Any:
    """Every text in every language, missing cells marked, and how much of each language is there."""
    with services().db.read() as db:
        form, _live, document, is_draft = _draft(db, form_id)
    rows = editing.texts(document)
    covered = {
        locale: round(100 * sum(1 for _path, cells in rows if cells.get(locale)) / len(rows)) if rows else 100
        for locale in editing.LOCALES
    }
    return render_template(
        "workbench/sequences/translations.html",
        form=form,
        rows=rows,
        covered=covered,
        locales=editing.LOCALES,
        is_draft=is_draft,
        unknown=unknown or [],
        upload=TranslationsForm(formdata=None),
    ), status


@workbench_sequences.route("/<int:form_id>/translations.csv")
@requires("sequences", "view")
def translations_csv(form_id: int) -> Response:
    """The matrix for a translator: one row per text, one column per language (UTF-8, with a BOM for spreadsheets)."""
    with services().db.read() as db:
        form, _live, document, _is_draft = _draft(db, form_id)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["path", *editing.LOCALES])
    for path, cells in editing.texts(document):
        writer.writerow([path, *(safe_cell(cells.get(locale, "")) for locale in editing.LOCALES)])
    return Response(
        "\ufeff" + buffer.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{form.slug}-translations.csv"'},
    )


@workbench_sequences.route("/<int:form_id>/translations", methods=["POST"])
@requires("sequences", "edit")
def translations_import(form_id: int) -> Any:
    """A translator's file back into the draft: filled cells replace the texts, empty ones leave them."""
    upload = TranslationsForm()
    if not upload.validate_on_submit():
        return translations(form_id, 422)
    raw = upload.file.data.read(MAX_CSV + 1)
    if len(raw) > MAX_CSV:
        return translations(form_id, 413)
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        rows = {
            row["path"]: {locale: read_cell((row.get(locale) or "").strip()) for locale in editing.LOCALES}
            for row in reader
            if row.get("path")
        }
    except (UnicodeDecodeError, csv.Error, KeyError):
        return translations(form_id, 422, ["(not a CSV file with a path column)"])
    with services().db.write() as db:
        _form, live, document, _is_draft = _draft(db, form_id)
        changed, unknown = editing.set_texts(document, rows)
        if unknown:
            return translations(form_id, 422, unknown)
        _save(db, form_id, changed, live.version if live else None)
    return redirect(url_for("workbench_sequences.translations", form_id=form_id))
