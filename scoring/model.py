"""The scoring model as data: fit, intent and engagement rules, disqualifiers, segments, gates, thresholds.

A model is built only by :func:`scoring.document.parse_model`, which validates
every value, so nothing here re-checks its input. Everything is immutable: a
published model version is shared by every request and every bulk re-score in
a process. What the hot path needs (per event type, the rules that may match
it; each path glob compiled once) is built here, once, when the model is made.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, NamedTuple

from profiling.sequence import Condition
from scoring.inputs import Event, Profile

#: Common free-mail providers. A B2B model usually gives them negative fit points: the address
#: says nothing about the company. Subdomains match too. The list is deliberately short and
#: conservative; a model can name more in a domain list of its own.
FREE_MAIL_DOMAINS = frozenset(
    {
        "gmail.com", "googlemail.com", "hotmail.com", "hotmail.co.uk", "hotmail.dk", "hotmail.no",
        "outlook.com", "outlook.dk", "live.com", "live.dk", "live.no", "msn.com", "yahoo.com",
        "yahoo.co.uk", "yahoo.dk", "yahoo.no", "yahoo.ro", "ymail.com", "aol.com", "icloud.com",
        "me.com", "mac.com", "proton.me", "protonmail.com", "pm.me", "gmx.com", "gmx.net", "gmx.de",
        "web.de", "mail.com", "zoho.com", "yandex.com", "yandex.ru", "mail.ru", "tutanota.com",
        "fastmail.com", "hey.com", "jubii.dk", "mail.dk", "get2net.dk", "ofir.dk", "sol.dk",
        "online.no", "start.no", "frisurf.no",
    }
)  # fmt: skip
#: Labels that mark a student or pupil mailbox when they appear left of the registered domain,
#: e.g. ``student.aau.dk``, ``stud.ntnu.no``, ``studenti.example.ro``.
STUDENT_LABELS = frozenset({"student", "students", "stud", "studenti", "studenten", "elev", "elever"})
#: Domain lists every model has without declaring them.
BUILT_IN_LISTS = ("free_mail", "student")


def email_domain(email: str | None) -> str | None:
    """The lower-cased domain of an e-mail address, or None when there is no usable address."""
    if not email:
        return None
    local, at, domain = email.rpartition("@")
    domain = domain.strip().lower().rstrip(".")
    return domain if at and local and domain else None


def listed_domain(domain: str, domains: frozenset[str]) -> str | None:
    """The entry of ``domains`` that ``domain`` is, or is a subdomain of (``eu.acme.com`` is ``acme.com``).

    Walks the domain's suffixes, so the cost is a few set look-ups whatever the list's size.
    """
    candidate = domain
    while True:
        if candidate in domains:
            return candidate
        dot = candidate.find(".")
        if dot < 0:
            return None
        candidate = candidate[dot + 1 :]


def is_student_domain(domain: str) -> bool:
    """Whether a domain looks like a student or school mailbox.

    ``.edu``; ``.edu.xx`` and ``.ac.xx`` under a country (``unsw.edu.au``, ``ox.ac.uk``);
    or a student label such as ``student.`` or ``stud.`` in front of the registered domain.
    """
    labels = domain.split(".")
    if labels[-1] == "edu":
        return True
    if len(labels) >= 3 and labels[-2] in ("edu", "ac") and len(labels[-1]) == 2:
        return True
    return any(label in STUDENT_LABELS for label in labels[:-2])


#: a word, as ``mentions`` sees words: letters and digits in any script
_WORDS = re.compile(r"\w+")


class Check(StrEnum):
    """What a fit rule or disqualifier tests on the profile."""

    EQUALS = "equals"
    IN = "in"
    #: numeric, inclusive ``min`` and/or ``max``
    RANGE = "range"
    #: free text (a job title) containing any of some words, case-insensitively
    MENTIONS = "mentions"
    KNOWN = "known"
    #: the e-mail domain is on a domain list (incl. subdomains)
    EMAIL_DOMAIN = "email_domain"


def same_value(known: Any, wanted: Any) -> bool:
    """Equality as marketers mean it: 50 equals 50.0, but ``true`` only equals a boolean."""
    if isinstance(known, bool) or isinstance(wanted, bool):
        return known is wanted
    if isinstance(known, (int, float)) and isinstance(wanted, (int, float)):
        return float(known) == float(wanted)
    return bool(known == wanted)


def show_value(value: Any) -> str:
    """A profile value in a few human words, for explanations."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list):
        return ", ".join(show_value(item) for item in value) or "(none)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True)
class Criterion:
    """One test on a lead's profile: a field's value, or the e-mail domain.

    An unknown field never matches, whatever the test: unknown is not a value.
    For a list value (a multi-select answer) ``equals`` and ``in`` match when any
    chosen value matches.
    """

    check: Check
    #: the profile field tested (None for ``email_domain``)
    field: str | None = None
    #: ``equals``: one value; ``in``: the values; ``mentions``: the words
    values: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    #: ``email_domain``: the list's name (a model list or a built-in one) and, for a model list,
    #: its domains (resolved by the parser so the criterion stands on its own)
    domain_list: str | None = None
    domains: frozenset[str] = frozenset()
    #: the test, compiled once: (profile fields, e-mail domain or None) -> holds
    holds: Callable[[Mapping[str, Any], str | None], bool] = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", self._compile())

    def _compile(self) -> Callable[[Mapping[str, Any], str | None], bool]:
        """A closure for the test: scoring 100,000 leads calls it millions of times."""
        check = self.check
        if check is Check.EMAIL_DOMAIN:
            if self.domain_list == "student":
                return lambda fields, domain: domain is not None and is_student_domain(domain)
            listed = FREE_MAIL_DOMAINS if self.domain_list == "free_mail" else self.domains
            return lambda fields, domain: domain is not None and listed_domain(domain, listed) is not None
        assert self.field is not None
        name: str = self.field
        if check is Check.KNOWN:
            return lambda fields, domain: fields.get(name) is not None
        if check is Check.EQUALS or check is Check.IN:
            wanted = self.values

            def one_of(fields: Mapping[str, Any], domain: str | None) -> bool:
                value = fields.get(name)
                if value is None:
                    return False
                items = value if isinstance(value, list) else (value,)
                return any(same_value(item, choice) for item in items for choice in wanted)

            if all(isinstance(value, str) for value in wanted):
                texts = frozenset(wanted)

                def text_of(fields: Mapping[str, Any], domain: str | None) -> bool:
                    value = fields.get(name)
                    if type(value) is str:
                        return value in texts
                    return value is not None and one_of(fields, domain)

                return text_of
            return one_of
        if check is Check.RANGE:
            low = -math.inf if self.minimum is None else self.minimum
            high = math.inf if self.maximum is None else self.maximum

            def in_range(fields: Mapping[str, Any], domain: str | None) -> bool:
                value = fields.get(name)
                if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                    return False
                return bool(low <= value <= high)

            return in_range
        # Whole words or phrases, any case: the text is cut into words once, single words are
        # looked up in a set and phrases searched among the words (no regex backtracking).
        phrases = {" ".join(_WORDS.findall(str(value).lower())) for value in self.values} - {""}
        single = frozenset(phrase for phrase in phrases if " " not in phrase)
        padded = tuple(f" {phrase} " for phrase in phrases if " " in phrase)

        def mentions(fields: Mapping[str, Any], domain: str | None) -> bool:
            value = fields.get(name)
            if value is None:
                return False
            for item in value if isinstance(value, list) else (value,):
                if not isinstance(item, str):
                    continue
                words = _WORDS.findall(item.lower())
                if not single.isdisjoint(words):
                    return True
                if padded:
                    text = f" {' '.join(words)} "
                    if any(phrase in text for phrase in padded):
                        return True
            return False

        return mentions

    def reads_known(self, fields: Mapping[str, Any], domain: str | None) -> bool:
        """Whether what this criterion reads is known (the field, or an e-mail address)."""
        if self.field is None:
            return domain is not None
        return fields.get(self.field) is not None

    def describe(self, fields: Mapping[str, Any], domain: str | None) -> str:
        """What made the criterion hold, in human words (call it only when it holds)."""
        if self.field is not None:
            return f"{self.field} = {show_value(fields.get(self.field))}"
        if self.domain_list == "student":
            return f"e-mail domain {domain} looks like a student address"
        if self.domain_list == "free_mail":
            return f"e-mail domain {domain} is a free-mail provider"
        return f"e-mail domain {domain} is on the {self.domain_list} list"

    def known(self, profile: Profile) -> bool:
        """Whether the profile holds what this criterion reads."""
        return self.reads_known(profile.fields, email_domain(profile.email))

    def match(self, profile: Profile) -> str | None:
        """None if the criterion does not hold for the profile, else what made it hold."""
        domain = email_domain(profile.email)
        return self.describe(profile.fields, domain) if self.holds(profile.fields, domain) else None


#: a compiled segment test: profile fields -> whether the lead is in the segment
SegmentTest = Callable[[Mapping[str, Any]], bool]


@dataclass(frozen=True)
class Segment:
    """The leads a rule applies to: every condition holds on the profile (``when:`` in the document).

    The conditions are the sequence format's (equals, not_equals, in, not_in, gte, gt, lte, lt,
    contains, known). A lead whose segment field is unknown is in no segment: a rule for B2C
    leads only does not apply to a lead that has not said whether it buys privately, and
    neither does a rule for everyone but B2C (``not_equals: b2c``).
    """

    conditions: tuple[Condition, ...]
    #: the test, compiled once per model: scoring calls it for every rule of every lead
    holds: SegmentTest = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", _segment_test(self.conditions))


def _segment_test(conditions: tuple[Condition, ...]) -> SegmentTest:
    """One closure for all conditions; the common single ``equals`` on a text is a dict look-up."""
    if len(conditions) == 1 and conditions[0].operator.value == "equals" and isinstance(conditions[0].value, str):
        name, wanted = conditions[0].field, conditions[0].value
        return lambda fields: fields.get(name) == wanted

    def holds(fields: Mapping[str, Any]) -> bool:
        for condition in conditions:
            if fields.get(condition.field) is None or not condition.holds(fields):
                return False
        return True

    return holds


@dataclass(frozen=True)
class FitRule:
    """Points for what the profile says: awarded once when the criterion holds (never decays).

    The same shape serves two groups: **fit** (who the lead is: company size, title, target
    account) and **intent** (what the lead told us about its need, budget, timeline and
    authority, or a hand-raise such as ticking "I would like a demo"). Fit alone never
    qualifies a lead; intent is the interest an MQL needs and the evidence an SQL needs.
    """

    id: str
    label: str
    points: float
    criterion: Criterion
    #: the leads the rule applies to (None: every lead)
    when: Segment | None = None


#: An intent rule is a fit rule in the ``intent`` group: the same test, another meaning.
IntentRule = FitRule


@dataclass(frozen=True)
class Disqualifier:
    """A reason the lead must not reach MQL or SQL, whatever its points (e.g. a competitor)."""

    id: str
    label: str
    criterion: Criterion
    #: the leads the disqualifier applies to (None: every lead)
    when: Segment | None = None


@dataclass(frozen=True)
class Window:
    """``count`` matching events within the last ``days`` days (up to the moment scored)."""

    count: int
    days: float


@dataclass(frozen=True)
class EngagementRule:
    """Points for what the lead does: events of one type, optionally filtered by path and properties.

    Without a ``window`` every matching event earns ``points``, decayed by
    ``half_life_days`` and summed, the sum limited to ``cap`` either way. With a
    ``window`` the rule earns ``points`` once, while the window holds.
    """

    id: str
    label: str
    event: str
    points: float
    #: a glob on the URL path (``/pricing*``); None matches any path, including none
    path: str | None = None
    #: property equality filters, as sorted (key, value) pairs
    props: tuple[tuple[str, Any], ...] = ()
    cap: float | None = None
    half_life_days: float | None = None
    window: Window | None = None
    #: an event it counts is high-intent (a demo request, the pricing page, a sales brochure): when a lead
    #: sales already has does it, sales hears of it (capture/behaviour/events.py sends a ``lead.updated``)
    high_intent: bool = False
    #: the leads whose events the rule scores (None: every lead); events are folded either way,
    #: so a lead that enters the segment is scored on its whole history
    when: Segment | None = None
    _path_match: Callable[[str], re.Match[str] | None] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        if self.path is not None:
            object.__setattr__(self, "_path_match", compiled_glob(self.path))

    def matches(self, event: Event) -> bool:
        """Whether ``event`` counts for this rule (the engine does the same check, precompiled)."""
        if event.type != self.event:
            return False
        if self._path_match is not None and (event.path is None or self._path_match(event.path) is None):
            return False
        return props_match(self.props, event.props)


_GLOBS: dict[str, Callable[[str], re.Match[str] | None]] = {}


def compiled_glob(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """The ``match`` of a path glob's regex, compiled once per distinct glob in the process.

    ``*`` matches any run of characters including ``/``; ``?`` one character; ``[...]`` a set.
    Matching is case-sensitive, like URL paths.
    """
    found = _GLOBS.get(pattern)
    if found is None:
        found = _GLOBS[pattern] = re.compile(fnmatch.translate(pattern)).match
    return found


def props_match(wanted: tuple[tuple[str, Any], ...], props: Mapping[str, Any]) -> bool:
    for key, value in wanted:
        if key not in props or not same_value(props[key], value):
            return False
    return True


@dataclass(frozen=True)
class Thresholds:
    """Total scores at which a lead becomes a marketing- and a sales-qualified lead."""

    mql: float = 25.0
    sql: float = 75.0


@dataclass(frozen=True)
class Weights:
    """total = clamp(fit × fit weight + intent × intent weight + engagement × engagement weight, 0, 100)."""

    fit: float = 1.0
    engagement: float = 1.0
    intent: float = 1.0


#: Engagement rules on these event types are hand-raises when a model does not name its own.
HAND_RAISE_EVENTS = frozenset({"demo_request", "offer_request"})


@dataclass(frozen=True)
class MqlGate:
    """What MQL needs besides the total: shown interest, so who a lead is never qualifies it alone.

    Interest is intent + engagement: something the lead did, or something it told us about its
    need, budget, timeline or authority. A lead keeps MQL while it has any interest at all.
    """

    min_interest: float = 5.0


@dataclass(frozen=True)
class SqlGate:
    """What SQL needs besides the total: fit, evidence of buying intent, and engagement if asked.

    Evidence of buying intent is intent points of at least ``min_intent`` (BANT answers) or a
    hand-raise (a rule in ``hand_raises`` that counted: a demo request, an offer request). A
    hand-raise also stands in for ``min_engagement``: asking for a demo is behaviour. So neither
    clicks alone nor who the lead is alone ever make SQL, and with ``min_engagement`` neither do
    answers alone.
    """

    min_fit: float = 10.0
    #: at least one of these profile fields must be known (empty: no such requirement)
    any_known: tuple[str, ...] = ()
    min_intent: float = 10.0
    min_engagement: float = 0.0
    #: ids of intent or engagement rules that are a hand-raise
    hand_raises: tuple[str, ...] = ()


@dataclass(frozen=True)
class DomainList:
    """A named list of e-mail domains, e.g. the top-100 target accounts or the competitors."""

    name: str
    domains: tuple[str, ...]


#: How the engine folds a rule's events (see scoring.engine).
PLAIN, DECAY, WINDOW = 0, 1, 2
SECONDS_PER_DAY = 86_400.0


#: (index in model.engagement, props filter or None, kind, parameter): one rule as the fold sees it,
#: where the parameter is 1 / half-life in seconds for DECAY and the window count for WINDOW
Entry = tuple[int, tuple[tuple[str, Any], ...] | None, int, float]
#: Distinct paths remembered per event type (see ScoringModel.route).
MAX_ROUTES = 4096


class Candidate(NamedTuple):
    """Precompiled: the engagement rules of one event type that share one path glob.

    A plain tuple underneath, so the hot loop unpacks it without attribute look-ups.
    """

    #: the glob's compiled match, or None when these rules take any path
    path_match: Callable[[str], re.Match[str] | None] | None
    rules: tuple[Entry, ...]


@dataclass(frozen=True)
class ScoringModel:
    """A validated scoring model: how fit and engagement points are earned and what they lead to.

    Equality compares content only: two publications of the same document are equal
    models, whatever ``version`` the publisher gave them.
    """

    name: str
    fit: tuple[FitRule, ...] = ()
    engagement: tuple[EngagementRule, ...] = ()
    disqualifiers: tuple[Disqualifier, ...] = ()
    thresholds: Thresholds = Thresholds()
    #: points below a threshold a lead must fall before it loses MQL or SQL (no flapping)
    hysteresis: float = 10.0
    weights: Weights = Weights()
    sql_gate: SqlGate = SqlGate()
    #: points for what the lead told us about its need, budget, timeline, authority, or a hand-raise
    intent: tuple[IntentRule, ...] = ()
    mql_gate: MqlGate = MqlGate()
    domains: tuple[DomainList, ...] = ()
    description: str = ""
    #: set by the publisher (see :meth:`with_version`); not part of the document
    version: int | None = field(default=None, compare=False)
    #: every event type the model's rules name
    event_types: frozenset[str] = field(init=False, repr=False, compare=False)
    #: every profile field the model reads (fit, intent, disqualifiers and segments)
    fields: frozenset[str] = field(init=False, repr=False, compare=False)
    #: the ids of the rules in ``sql_gate.hand_raises``, for the lifecycle's look-up
    hand_raise_ids: frozenset[str] = field(init=False, repr=False, compare=False)
    #: identifies what a tally's state depends on (see :meth:`scoring.engine.Tally.state`)
    tally_key: str = field(init=False, repr=False, compare=False)
    #: event type -> the candidates for it, in rule order
    candidates: Mapping[str, tuple[Candidate, ...]] = field(init=False, repr=False, compare=False)
    #: event type -> {path -> the rule entries an event of that type and path may count for}: a cache
    #: filled by :meth:`route`, so a site's few hundred distinct paths are matched against globs once
    routes: dict[str, dict[str | None, tuple[Entry, ...]]] = field(init=False, repr=False, compare=False)
    #: per fit rule, what scoring reads of it (see ProfilePlan)
    fit_plan: tuple[ProfilePlan, ...] = field(init=False, repr=False, compare=False)
    #: per intent rule, what scoring reads of it
    intent_plan: tuple[ProfilePlan, ...] = field(init=False, repr=False, compare=False)
    #: per engagement rule, what scoring reads of it (see _engagement_plan)
    engagement_plan: tuple[EngagementPlan, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        profile_rules: tuple[FitRule | Disqualifier, ...] = (*self.fit, *self.intent, *self.disqualifiers)
        read = {rule.criterion.field for rule in profile_rules if rule.criterion.field is not None}
        every_rule: tuple[FitRule | Disqualifier | EngagementRule, ...] = (*profile_rules, *self.engagement)
        read.update(c.field for rule in every_rule if rule.when is not None for c in rule.when.conditions)
        object.__setattr__(self, "event_types", frozenset(rule.event for rule in self.engagement))
        object.__setattr__(self, "fields", frozenset(read))
        object.__setattr__(self, "hand_raise_ids", frozenset(self.sql_gate.hand_raises))
        object.__setattr__(self, "tally_key", _tally_key(self.engagement))
        object.__setattr__(self, "candidates", _candidates(self.engagement))
        object.__setattr__(self, "routes", {event: {} for event in self.candidates})
        object.__setattr__(self, "fit_plan", tuple(map(_profile_plan, self.fit)))
        object.__setattr__(self, "intent_plan", tuple(map(_profile_plan, self.intent)))
        engagement_plan = tuple(_engagement_plan(rule) for rule in self.engagement)
        object.__setattr__(self, "engagement_plan", engagement_plan)

    def route(self, event_type: str, path: str | None) -> tuple[Entry, ...]:
        """The rule entries an event of this type and path may count for (props are checked per event).

        Remembered per model, up to ``MAX_ROUTES`` paths per event type; past that the memory is
        dropped and refilled, so a site with endless unique paths costs glob matches, never memory.
        """
        routes = self.routes.get(event_type)
        if routes is None:
            return ()
        entries = tuple(
            entry
            for path_match, rules in self.candidates[event_type]
            if path_match is None or (path is not None and path_match(path) is not None)
            for entry in rules
        )
        if len(routes) >= MAX_ROUTES:
            routes.clear()
        routes[path] = entries
        return entries

    def is_high_intent(self, event: Event) -> bool:
        """Whether ``event`` counts for a rule marked ``high_intent``: news sales wants even on a lead it has."""
        return any(rule.high_intent and rule.matches(event) for rule in self.engagement)

    def with_version(self, version: int | None) -> ScoringModel:
        """The same model stamped with the version number it was published as."""
        return replace(self, version=version)

    def matching_rules(self, event: Event) -> tuple[EngagementRule, ...]:
        """The engagement rules ``event`` counts for (to explain one event; the engine does not use it)."""
        return tuple(rule for rule in self.engagement if rule.matches(event))

    def rule(self, rule_id: str) -> FitRule | EngagementRule | Disqualifier | None:
        rules: tuple[FitRule | EngagementRule | Disqualifier, ...] = (
            *self.fit, *self.intent, *self.engagement, *self.disqualifiers
        )  # fmt: skip
        return next((rule for rule in rules if rule.id == rule_id), None)


class ProfilePlan(NamedTuple):
    """A fit or intent rule as the scorer reads it: a plain tuple, unpacked without attribute look-ups."""

    rule: FitRule
    #: |points|: the rule's weight in completeness
    weight: float
    #: the field the criterion reads, or None for the e-mail domain
    field: str | None
    holds: Callable[[Mapping[str, Any], str | None], bool]
    #: the segment's test, or None when the rule applies to every lead
    segment: SegmentTest | None


def _profile_plan(rule: FitRule) -> ProfilePlan:
    segment = rule.when.holds if rule.when is not None else None
    return ProfilePlan(rule, abs(rule.points), rule.criterion.field, rule.criterion.holds, segment)


class EngagementPlan(NamedTuple):
    """An engagement rule as the scorer reads it, with the fixed words of its explanation prepared."""

    rule: EngagementRule
    kind: int
    #: 1 / half-life in seconds (DECAY)
    rate: float
    #: window length in seconds and the events it needs (WINDOW)
    window_seconds: float
    window_count: int
    #: the explanation is f"×{count}{before}, latest {ago}{after}", plus ``capped`` when the cap bit
    before: str
    after: str
    capped: str
    #: the segment's test, or None when the rule applies to every lead
    segment: SegmentTest | None


def _engagement_plan(rule: EngagementRule) -> EngagementPlan:
    def number(value: float) -> str:
        return str(int(value)) if float(value).is_integer() else f"{value:g}"

    capped = f", capped at {number(rule.cap)}" if rule.cap is not None else ""
    segment = rule.when.holds if rule.when is not None else None
    if rule.window is not None:
        window = rule.window
        before = f" within {number(window.days)} days"
        seconds = window.days * SECONDS_PER_DAY
        return EngagementPlan(rule, WINDOW, 0.0, seconds, window.count, before, "", capped, segment)
    if rule.half_life_days is not None:
        after = f", half-life {number(rule.half_life_days)} days"
        rate = 1.0 / (rule.half_life_days * SECONDS_PER_DAY)
        return EngagementPlan(rule, DECAY, rate, 0.0, 0, "", after, capped, segment)
    return EngagementPlan(rule, PLAIN, 0.0, 0.0, 0, "", "", capped, segment)


def _tally_key(rules: tuple[EngagementRule, ...]) -> str:
    """A digest of exactly what a tally's state depends on.

    Points, caps, labels and window lengths are applied when scoring, not when
    folding, so changing them keeps stored tallies valid (a re-score needs no
    event reads); changing which events a rule counts, or how they decay, does not.
    """
    shape = [
        [rule.id, rule.event, rule.path, [list(pair) for pair in rule.props], rule.half_life_days,
         rule.window.count if rule.window else None]
        for rule in rules
    ]  # fmt: skip
    digest = hashlib.sha256(json.dumps(shape, sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()[:16]


def _candidates(rules: tuple[EngagementRule, ...]) -> Mapping[str, tuple[Candidate, ...]]:
    grouped: dict[str, dict[str | None, list[Entry]]] = {}
    for index, rule in enumerate(rules):
        if rule.window is not None:
            kind, parameter = WINDOW, float(rule.window.count)
        elif rule.half_life_days is not None:
            kind, parameter = DECAY, 1.0 / (rule.half_life_days * SECONDS_PER_DAY)
        else:
            kind, parameter = PLAIN, 0.0
        by_path = grouped.setdefault(rule.event, {})
        by_path.setdefault(rule.path, []).append((index, rule.props or None, kind, parameter))
    return {
        event: tuple(
            Candidate(path_match=None if path is None else compiled_glob(path), rules=tuple(entries))
            for path, entries in by_path.items()
        )
        for event, by_path in grouped.items()
    }
