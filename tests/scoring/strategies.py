"""Hypothesis strategies for scoring: random valid model documents, profiles and events.

Everything is drawn from small shared pools (event types, paths, property values, field values)
so that rules both match and miss. ``model_documents()`` builds documents that
:func:`scoring.document.parse_model` accepts: fit rules of every check, engagement rules with
and without path globs, property filters, caps, half-lives and windows, sometimes negative
points, sometimes disqualifiers. ``models("positive")``/``models("negative")`` force the sign of
every engagement rule's points, for the monotonicity properties.

Times: every event falls in the 400 days after ``BASE``; ``moments()`` are at or after
``LAST``, the last moment an event can have. Scores are meant to be taken after the events
they include (see docs/scoring-format.md, "Time").
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from scoring.document import parse_model
from scoring.inputs import Event, Profile
from scoring.model import ScoringModel

BASE = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 400 * 86_400
LAST = BASE + timedelta(seconds=SPAN_SECONDS)

EVENT_TYPES = ("page_view", "demo_request", "email_click")
PATHS = ("/pricing", "/pricing/enterprise", "/careers", "/blog/spring", "/", None)
GLOBS = (None, "/pricing*", "/careers*", "/blog/*")
CAMPAIGNS = ("spring", "autumn")
ROLES = ("decision_maker", "influencer", "user")
TAGS = ("leads", "quality", "speed")
TITLES = ("Head of Sales", "CFO", "Marketing assistant", "Headhunter", "sales director")
EMAILS = ("ann@acme.com", "bo@eu.acme.com", "cy@gmail.com", "di@student.aau.dk", "ed@rival.io", "fe@other.dk", None)


# Strategies are built once: hypothesis validates each new strategy object, which would
# otherwise dominate the run time of every property.
_ANY_POINTS = st.one_of(st.integers(-50, 50), st.floats(-50, 50, allow_nan=False).map(lambda x: round(x, 2)))
_POINTS = {
    None: _ANY_POINTS,
    "positive": _ANY_POINTS.map(lambda p: abs(p) or 1),
    "negative": _ANY_POINTS.map(lambda p: -abs(p) or -1),
}
_EVENT_TYPE = st.sampled_from(EVENT_TYPES)
_GLOB = st.sampled_from(GLOBS)
_CAMPAIGN = st.sampled_from(CAMPAIGNS)
_CAP = st.integers(1, 60).map(float) | st.sampled_from([0.5, 2.5, 12.5])
_KIND = st.sampled_from(["plain", "decay", "decay", "window"])
_HALF_LIFE = st.sampled_from([0.5, 1, 7, 14, 90, 365]) | st.floats(0.1, 400)
_WINDOW = st.builds(
    lambda count, days: {"count": count, "days": days}, st.integers(1, 4), st.sampled_from([1, 7, 30, 0.25])
)
_CHECK = st.sampled_from(["equals", "in", "range", "mentions", "known", "tags", "domain"])
_ROLE = st.sampled_from(ROLES)
_ROLES = st.lists(_ROLE, min_size=1, max_size=2, unique=True)
_WORDS = st.lists(st.sampled_from(["head", "cfo", "director"]), min_size=1, max_size=3)
_KNOWN_FIELD = st.sampled_from(["budget", "size"])
_TAG = st.sampled_from(TAGS)
_DOMAIN_LIST = st.sampled_from(["targets", "free_mail", "student"])
_BOUND = st.integers(0, 1000)
_RANGE_KIND = st.sampled_from(["min", "max", "both"])


@st.composite
def engagement_rule(draw: st.DrawFn, sign: str | None) -> dict[str, Any]:
    rule: dict[str, Any] = {"event": draw(_EVENT_TYPE)}
    glob = draw(_GLOB)
    if glob is not None:
        rule["path"] = glob
    if draw(st.booleans()) and draw(st.booleans()):
        rule["props"] = {"campaign": draw(_CAMPAIGN)}
    rule["points"] = draw(_POINTS[sign])
    if draw(st.booleans()):
        rule["cap"] = draw(_CAP)
    kind = draw(_KIND)
    if kind == "decay":
        rule["half_life_days"] = draw(_HALF_LIFE)
    elif kind == "window":
        rule["window"] = draw(_WINDOW)
    if rule["points"] < 0 and kind != "window" and "cap" not in rule:
        rule["cap"] = draw(_CAP)  # required: negative points must be bounded
    return rule


@st.composite
def fit_rule(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    check = draw(_CHECK)
    if check == "equals":
        rule.update(field="role", equals=draw(_ROLE))
    elif check == "in":
        rule.update(field="role", **{"in": draw(_ROLES)})
    elif check == "range":
        low, kind = draw(_BOUND), draw(_RANGE_KIND)
        bounds = (
            {"min": low}
            if kind == "min"
            else {"max": low}
            if kind == "max"
            else {"min": low, "max": low + draw(_BOUND)}
        )
        rule.update(field="size", **bounds)
    elif check == "mentions":
        rule.update(field="title", mentions=draw(_WORDS))
    elif check == "known":
        rule.update(field=draw(_KNOWN_FIELD), known=True)
    elif check == "tags":
        rule.update(field="tags", equals=draw(_TAG))
    else:
        rule.update(email_domain=draw(_DOMAIN_LIST))
    rule["points"] = draw(_ANY_POINTS)
    return rule


#: Segments on the drawn ``segment`` field (b2b / b2c), in the sequence format's condition words.
SEGMENTS = ("b2b", "b2c")
_SEGMENT = st.sampled_from(
    [
        None, None, None,
        {"field": "segment", "equals": "b2b"},
        {"field": "segment", "not_equals": "b2b"},
        {"field": "segment", "in": ["b2c"]},
        {"field": "segment", "known": True},
        [{"field": "segment", "equals": "b2b"}, {"field": "size", "gte": 50}],
    ]
)  # fmt: skip


@st.composite
def in_segment(draw: st.DrawFn, rule: st.SearchStrategy[dict[str, Any]]) -> dict[str, Any]:
    """A rule, sometimes for one segment only."""
    drawn = draw(rule)
    when = draw(_SEGMENT)
    return drawn if when is None else {**drawn, "when": when}


@st.composite
def intent_rule(draw: st.DrawFn) -> dict[str, Any]:
    """What the lead told us: a timeline, a budget, a hand-raise checkbox."""
    rule: dict[str, Any] = draw(
        st.sampled_from(
            [
                {"field": "timeline", "equals": "3m"},
                {"field": "timeline", "in": ["6m", "12m"]},
                {"field": "budget", "equals": "gt_50k"},
                {"field": "demo", "equals": True},
            ]
        )
    )
    return {**rule, "points": draw(_ANY_POINTS)}


_ENGAGEMENT_RULES = {sign: st.lists(in_segment(engagement_rule(sign)), min_size=1, max_size=6) for sign in _POINTS}
_FIT_RULES = st.lists(in_segment(fit_rule()), max_size=5)
_INTENT_RULES = st.lists(in_segment(intent_rule()), max_size=4)
_INTENT_WEIGHT = st.sampled_from([0, 1, 2])
_MIN_INTEREST = st.sampled_from([0.5, 10, 30])
_MIN_INTENT = st.sampled_from([0.5, 10, 20])
_MIN_ENGAGEMENT = st.sampled_from([0, 0, 10])
_MQL = st.integers(1, 60)
_FRACTION = st.floats(0, 1)
_FIT_WEIGHT = st.sampled_from([0, 0.5, 1, 2])
_ENGAGEMENT_WEIGHT = st.sampled_from([0.5, 1, 3])
_MIN_FIT = st.sampled_from([0, 10, 30])
_DISQUALIFIERS = st.sampled_from([0, 0, 1, 2])


@st.composite
def model_documents(draw: st.DrawFn, sign: str | None = None) -> dict[str, Any]:
    engagement = [
        {"id": f"e{i}", "label": f"Engagement {i}", **rule} for i, rule in enumerate(draw(_ENGAGEMENT_RULES[sign]))
    ]
    fit = [{"id": f"f{i}", "label": f"Fit {i}", **rule} for i, rule in enumerate(draw(_FIT_RULES))]
    intent = [{"id": f"i{i}", "label": f"Intent {i}", **rule} for i, rule in enumerate(draw(_INTENT_RULES))]
    mql = draw(_MQL)
    document: dict[str, Any] = {
        "name": "Drawn",
        "thresholds": {"mql": mql, "sql": mql + 1 + int(draw(_FRACTION) * (99 - mql))},
        "hysteresis": int(draw(_FRACTION) * (mql - 1)),
        "weights": {"fit": draw(_FIT_WEIGHT), "intent": draw(_INTENT_WEIGHT), "engagement": draw(_ENGAGEMENT_WEIGHT)},
        "mql_gate": {"min_interest": draw(_MIN_INTEREST)},
        "domains": {"targets": ["acme.com"], "rivals": ["rival.io"]},
        "fit": fit,
        "intent": intent,
        "engagement": engagement,
    }
    fields = sorted({rule["field"] for rule in fit if "field" in rule})
    raises = [rule["id"] for rule in [*intent, *engagement] if draw(st.booleans()) and draw(st.booleans())]
    document["sql_gate"] = {
        "min_fit": draw(_MIN_FIT) if fields else 10,
        "any_known": fields[:1],
        "min_intent": draw(_MIN_INTENT),
        "min_engagement": draw(_MIN_ENGAGEMENT),
    }
    if draw(st.booleans()):  # else the model's rules on demo and offer requests
        document["sql_gate"]["hand_raises"] = raises
    disqualifiers = [
        {"id": "competitor", "label": "Competitor", "email_domain": "rivals"},
        {"id": "no_role", "label": "Just a user", "field": "role", "equals": "user"},
    ][: draw(_DISQUALIFIERS)]
    if disqualifiers:
        document["disqualifiers"] = disqualifiers
    return document


_MODELS = {sign: model_documents(sign).map(parse_model) for sign in _POINTS}


def models(sign: str | None = None) -> st.SearchStrategy[ScoringModel]:
    return _MODELS[sign]


_SECONDS = st.integers(0, SPAN_SECONDS) | st.integers(SPAN_SECONDS - 20 * 86_400, SPAN_SECONDS)
_SECONDS = _SECONDS | st.integers(SPAN_SECONDS - 86_400, SPAN_SECONDS)
_PROPS = st.sampled_from([{}, {"campaign": "spring"}, {"campaign": "autumn"}, {"campaign": 3}])
_ANY_TYPE = st.sampled_from((*EVENT_TYPES, "webinar_signup"))
_PATH = st.sampled_from(PATHS)


@st.composite
def events(draw: st.DrawFn) -> Event:
    seconds = draw(_SECONDS)
    return Event(type=draw(_ANY_TYPE), at=BASE + timedelta(seconds=seconds), path=draw(_PATH), props=draw(_PROPS))


# Hypothesis favours short lists; half of the draws are busy leads, where order and decay matter.
_EVENT_LISTS = st.lists(events(), max_size=40) | st.lists(events(), min_size=15, max_size=60)


def event_lists() -> st.SearchStrategy[list[Event]]:
    return _EVENT_LISTS


_FIELD_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "role": _ROLE,
    "size": st.integers(0, 2000) | st.floats(0, 2000, allow_nan=False),
    "title": st.sampled_from(TITLES),
    "budget": st.sampled_from(["lt_5k", "gt_50k"]),
    "tags": st.lists(_TAG, unique=True, max_size=3),
    "first_name": st.just("Ann"),
    "segment": st.sampled_from(SEGMENTS),
    "timeline": st.sampled_from(["3m", "6m", "12m", "later"]),
    "demo": st.booleans(),
}
_FIELD_NAMES = st.lists(st.sampled_from(sorted(_FIELD_VALUES)), unique=True)
_EMAIL = st.sampled_from(EMAILS)


@st.composite
def profiles(draw: st.DrawFn) -> Profile:
    names = draw(_FIELD_NAMES)
    return Profile(fields={name: draw(_FIELD_VALUES[name]) for name in names}, email=draw(_EMAIL))


# Mostly soon after the last event (where decay has not wiped out the differences), sometimes years later.
_MOMENTS = (st.integers(0, 14 * 86_400) | st.integers(0, 3 * 365 * 86_400)).map(lambda s: LAST + timedelta(seconds=s))


def moments() -> st.SearchStrategy[datetime]:
    """Moments at or after the last event (up to three years later)."""
    return _MOMENTS
