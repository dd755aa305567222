"""Scores: fold a lead's events into a :class:`Tally`, then score profile and tally at a moment.

Why a tally instead of a list of events: the capture side keeps one small
state per lead on the lead row and adds new events to it as they arrive, and
re-scores 100,000 leads by streaming their events once. So folding must be
cheap, order-independent (events arrive late, in batches, from two leads that
merge) and bounded (a lead with a million page views must not grow its row).

Each engagement rule keeps, per lead:

* a plain rule (no decay, no window): the number of matching events and the
  latest time;
* a decaying rule: the count, the latest time ``L`` and ``S = Σ 0.5^((L − tᵢ)/h)``,
  the events' weights as of ``L``. Adding an event later than ``L`` rescales ``S``,
  an earlier one adds its own weight, so ``S`` never exceeds the count and never
  overflows. At a moment ``now ≥ L`` the rule's weight is ``S × 0.5^((now − L)/h)``,
  exactly ``Σ 0.5^((now − tᵢ)/h)``;
* a window rule: the count and the ``window.count`` latest times (a heap). The window
  holds when the oldest of those is within ``window.days`` of ``now``.

All three are functions of the multiset of events, so any order of adding (and
any split merged back) gives the same tally, up to float rounding in ``S``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from heapq import heapify, heappush, heapreplace, nlargest
from typing import Any, Literal

from scoring.inputs import Event, Profile
from scoring.model import (
    DECAY,
    SECONDS_PER_DAY,
    WINDOW,
    ScoringModel,
    email_domain,
    props_match,
)

Group = Literal["fit", "intent", "engagement", "disqualifier"]
_GROUP_ORDER = {"disqualifier": 0, "fit": 1, "intent": 2, "engagement": 3}
_NEVER = -math.inf


def timestamp(at: datetime) -> float:
    """Seconds since the epoch of an aware datetime; a naive one is refused, not guessed."""
    if at.tzinfo is None:
        raise ValueError(f"a naive datetime ({at.isoformat()}) was given; scoring needs timezone-aware times")
    return at.timestamp()


class Tally:
    """The engagement state of one lead under one model, built by folding events.

    Adding is order-independent and the state stays bounded whatever the number of
    events: see the module docstring for what is kept per rule.
    """

    __slots__ = ("model", "_routes", "_counts", "_latest", "_sums", "_heaps")

    def __init__(self, model: ScoringModel) -> None:
        self.model = model
        self._routes = model.routes
        size = len(model.engagement)
        #: matching events per rule
        self._counts = [0] * size
        #: latest matching event per rule (epoch seconds)
        self._latest = [_NEVER] * size
        #: decaying rules: Σ 0.5^((latest − t)/half-life)
        self._sums = [0.0] * size
        #: window rules that have matched: a min-heap of the ``window.count`` latest times (made on the
        #: first event: a re-score makes 100,000 tallies, most never seeing a window rule's event)
        self._heaps: dict[int, list[float]] = {}

    def add(self, event: Event) -> None:
        """Fold one event in (events no rule matches cost one dictionary look-up)."""
        self.add_row(event.type, event.at, event.path, event.props)

    def add_row(self, type: str, at: datetime, path: str | None = None, props: Mapping[str, Any] | None = None) -> None:
        """:meth:`add` without building an :class:`Event`: for streaming database rows.

        The hot path of a bulk re-score: two dictionary look-ups find the rules this type
        and path may count for (globs were matched once per distinct path, see
        :meth:`ScoringModel.route`), then a few float operations per rule.
        """
        routes = self._routes.get(type)
        if routes is None:
            return
        entries = routes.get(path)
        if entries is None:
            entries = self.model.route(type, path)
        if not entries:
            return
        if at.tzinfo is None:
            timestamp(at)  # raises
        ts = at.timestamp()
        counts, latests = self._counts, self._latest
        for index, wanted, kind, parameter in entries:
            if wanted is not None and (props is None or not props_match(wanted, props)):
                continue
            counts[index] += 1
            latest = latests[index]
            if kind == DECAY:
                sums = self._sums
                if ts >= latest:
                    sums[index] = sums[index] * 2.0 ** ((latest - ts) * parameter) + 1.0
                    latests[index] = ts
                else:
                    sums[index] += 2.0 ** ((ts - latest) * parameter)
                continue
            if kind == WINDOW:
                heap = self._heaps.get(index)
                if heap is None:
                    heap = self._heaps[index] = []
                if len(heap) < parameter:
                    heappush(heap, ts)
                elif ts > heap[0]:
                    heapreplace(heap, ts)
            if ts > latest:
                latests[index] = ts

    def merge(self, other: Tally) -> None:
        """Fold in another lead's tally (two leads merged into one); ``other`` is left as it was."""
        if other.model.tally_key != self.model.tally_key:
            raise ValueError("cannot merge tallies of models that count events differently")
        for index, rule in enumerate(self.model.engagement):
            count = other._counts[index]
            if not count:
                continue
            mine = self._counts[index]
            self._counts[index] = mine + count
            theirs_latest = other._latest[index]
            if rule.window is not None:
                heap = nlargest(rule.window.count, self._heaps.get(index, []) + other._heaps[index])
                heapify(heap)
                self._heaps[index] = heap
            elif rule.half_life_days is not None and mine:
                rate = 1.0 / (rule.half_life_days * SECONDS_PER_DAY)
                latest, total = self._latest[index], self._sums[index]
                theirs = other._sums[index]
                if latest >= theirs_latest:
                    self._sums[index] = total + theirs * 2.0 ** ((theirs_latest - latest) * rate)
                else:
                    self._sums[index] = theirs + total * 2.0 ** ((latest - theirs_latest) * rate)
            elif rule.half_life_days is not None:
                self._sums[index] = other._sums[index]
            self._latest[index] = max(self._latest[index], theirs_latest)

    def copy(self) -> Tally:
        twin = Tally(self.model)
        twin._counts = list(self._counts)
        twin._latest = list(self._latest)
        twin._sums = list(self._sums)
        twin._heaps = {index: list(heap) for index, heap in self._heaps.items()}
        return twin

    def count(self, rule_id: str) -> int:
        """How many events have matched a rule (all of them, however old)."""
        for index, rule in enumerate(self.model.engagement):
            if rule.id == rule_id:
                return self._counts[index]
        raise KeyError(rule_id)

    def state(self) -> dict[str, Any]:
        """A small JSON-able state to keep on the lead row.

        ``{"model": <tally key>, "rules": {rule id: entry}}`` with an entry per rule that
        has matched at least once: ``[count, latest]`` (plain), ``[count, latest, S]``
        (decaying) or ``[count, [times]]`` (window, at most ``window.count`` times). Times
        are epoch seconds. Its size depends on the model, never on the number of events.
        """
        rules: dict[str, Any] = {}
        for index, rule in enumerate(self.model.engagement):
            count = self._counts[index]
            if not count:
                continue
            if rule.window is not None:
                rules[rule.id] = [count, sorted(self._heaps[index])]
            elif rule.half_life_days is not None:
                rules[rule.id] = [count, self._latest[index], self._sums[index]]
            else:
                rules[rule.id] = [count, self._latest[index]]
        return {"model": self.model.tally_key, "rules": rules}

    def state_json(self) -> str:
        """:meth:`state` as JSON text: exactly ``json.dumps(self.state())``, without the dictionary in between.

        A bulk re-score writes one per lead; building the dictionary and then walking it again
        cost half as much again as this. Anything that is not a finite float falls back on
        ``json.dumps`` (which writes ``NaN`` and ``Infinity`` where ``repr`` would not).
        """
        heads = _state_heads(self.model)
        latests, sums = self._latest, self._sums
        parts = []
        for index, count in enumerate(self._counts):
            if not count:
                continue
            head, kind = heads[index]
            latest = latests[index]
            if kind == WINDOW:
                times = sorted(self._heaps[index])
                if not all(map(math.isfinite, times)):
                    return json.dumps(self.state())
                parts.append(f"{head}{count}, [{', '.join(map(repr, times))}]]")
                continue
            if not math.isfinite(latest):
                return json.dumps(self.state())
            if kind == DECAY:
                total = sums[index]
                if not math.isfinite(total):
                    return json.dumps(self.state())
                parts.append(f"{head}{count}, {latest!r}, {total!r}]")
            else:
                parts.append(f"{head}{count}, {latest!r}]")
        return f'{{"model": {_json_string(self.model.tally_key)}, "rules": {{{", ".join(parts)}}}}}'

    @classmethod
    def from_state(cls, model: ScoringModel, state: Mapping[str, Any] | None) -> Tally:
        """The tally a :meth:`state` describes; an empty one for ``None`` or another model's state.

        A state for this model that is damaged raises ValueError: silently starting
        from nothing would lose the lead's history without anyone noticing.
        """
        tally = cls(model)
        if not isinstance(state, Mapping) or state.get("model") != model.tally_key:
            return tally
        rules = state.get("rules")
        if not isinstance(rules, Mapping):
            raise ValueError("a tally state without rules")
        for index, rule in enumerate(model.engagement):
            entry = rules.get(rule.id)
            if entry is None:
                continue
            try:
                count = _whole(entry[0])
                if rule.window is not None:
                    times = [float(t) for t in entry[1]]
                    if len(entry) != 2 or not times or len(times) > rule.window.count:
                        raise ValueError
                    heapify(times)
                    tally._heaps[index] = times
                    tally._latest[index] = max(times)
                else:
                    tally._latest[index] = float(entry[1])
                    if rule.half_life_days is not None:
                        if len(entry) != 3:
                            raise ValueError
                        tally._sums[index] = float(entry[2])
                    elif len(entry) != 2:
                        raise ValueError
            except (ValueError, TypeError, IndexError, KeyError) as exc:
                raise ValueError(f"damaged tally state for rule '{rule.id}': {entry!r}") from exc
            tally._counts[index] = count
        return tally


#: a str as ``json.dumps`` writes it (``ensure_ascii``): the C encoder the json module itself uses
_json_string = json.encoder.encode_basestring_ascii
_STATE_HEADS: dict[str, tuple[tuple[str, int], ...]] = {}


def _state_heads(model: ScoringModel) -> tuple[tuple[str, int], ...]:
    """Per engagement rule, the start of its entry in :meth:`Tally.state_json` and how it folds.

    Both depend only on what the tally key digests (rule ids, half-lives, windows), so they are
    kept per key, for the few models a process sees.
    """
    heads = _STATE_HEADS.get(model.tally_key)
    if heads is None:
        if len(_STATE_HEADS) >= 64:
            _STATE_HEADS.clear()
        heads = _STATE_HEADS[model.tally_key] = tuple(
            (f"{_json_string(plan.rule.id)}: [", plan.kind) for plan in model.engagement_plan
        )
    return heads


def _whole(raw: Any) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw < 1:
        raise ValueError
    return raw


@dataclass(frozen=True)
class Contribution:
    """One rule's part in a score, for the explanation shown to marketers and sales."""

    rule: str
    label: str
    group: Group
    #: after decay and cap, rounded to 0.1 (0 for a disqualifier: it blocks, it does not subtract)
    points: float
    #: matching events (for a window rule: the events in the window), or 1
    count: int
    #: whether the rule's cap limited it
    capped: bool
    #: human words, e.g. "×4, latest 2 days ago, half-life 14 days" or "company_size = 120"
    detail: str


@dataclass(frozen=True)
class Score:
    """A lead's score at one moment, with its reasons."""

    #: clamp(sum of fit contributions, 0, 100): who the lead is
    fit: float
    #: clamp(sum of engagement contributions, 0, 100): what the lead does
    engagement: float
    #: clamp(fit weight × fit + intent weight × intent + engagement weight × engagement, 0, 100)
    total: float
    #: the share of fit criteria whose input is known, weighted by each rule's points (0..1)
    completeness: float
    #: the labels of the disqualifiers that hold; MQL and SQL are out of reach while any does
    disqualified: tuple[str, ...]
    #: every rule that counted: disqualifiers first, then by |points|, largest first
    contributions: tuple[Contribution, ...]
    #: the profile fields with a value, other than ``email`` (the SQL gate and the
    #: subscriber/engaged distinction read it)
    known_fields: frozenset[str] = frozenset()
    #: clamp(sum of intent contributions, 0, 100): what the lead told us about need, budget,
    #: timeline and authority, and hand-raises it answered
    intent: float = 0.0


_new_object = object.__new__
_set = object.__setattr__


def score(model: ScoringModel, profile: Profile, tally: Tally, now: datetime) -> Score:
    """Score a lead at ``now``: its profile against the fit and intent rules, its tally against the engagement rules.

    A rule with a segment (``when``) counts only for leads in it; a rule outside the lead's
    segment is left out of completeness too (it is not a question for this lead).

    ``now`` should not be earlier than the lead's events; a rule whose latest event is
    later than ``now`` (clock skew) is scored as of that event, so no event ever counts
    for more than its full points.
    """
    if tally.model.tally_key != model.tally_key:
        raise ValueError("the tally was folded under a model that counts events differently")
    now_ts = timestamp(now)
    contributions: list[Contribution] = []
    reasons: list[str] = []
    fields = profile.fields
    domain = email_domain(profile.email)

    fit_sum = 0.0
    weight_all = weight_known = 0.0
    applying_rules = known_rules = 0
    for fit_rule, weight, name, holds, segment in model.fit_plan:
        if segment is not None and not segment(fields):
            continue  # not for this lead's segment: no points, and not part of its completeness
        weight_all += weight
        applying_rules += 1
        if (domain if name is None else fields.get(name)) is None:
            continue  # unknown: no points, and it lowers completeness
        weight_known += weight
        known_rules += 1
        if holds(fields, domain):
            fit_sum += fit_rule.points
            points = round(fit_rule.points, 1) + 0.0
            if points:
                detail = fit_rule.criterion.describe(fields, domain)
                contributions.append(_contribution(fit_rule.id, fit_rule.label, "fit", points, 1, False, detail))
    if weight_all > 0:
        completeness = weight_known / weight_all
    else:
        completeness = known_rules / applying_rules if applying_rules else 0.0 if model.fit else 1.0

    intent_sum = 0.0
    for told, _, _, holds, segment in model.intent_plan:
        if (segment is None or segment(fields)) and holds(fields, domain):
            intent_sum += told.points
            points = round(told.points, 1) + 0.0
            if points:
                detail = told.criterion.describe(fields, domain)
                contributions.append(_contribution(told.id, told.label, "intent", points, 1, False, detail))

    for disqualifier in model.disqualifiers:
        criterion = disqualifier.criterion
        if (disqualifier.when is None or disqualifier.when.holds(fields)) and criterion.holds(fields, domain):
            reasons.append(disqualifier.label)
            detail = criterion.describe(fields, domain)
            reason = _contribution(disqualifier.id, disqualifier.label, "disqualifier", 0.0, 1, False, detail)
            contributions.append(reason)

    engagement_sum = 0.0
    plans = model.engagement_plan
    latests, sums, heaps = tally._latest, tally._sums, tally._heaps
    for index, count in enumerate(tally._counts):
        if not count:
            continue
        rule, kind, rate, window_seconds, window_count, before, after, capped_words, segment = plans[index]
        if segment is not None and not segment(fields):
            continue
        latest = latests[index]
        if kind == WINDOW:
            heap = heaps[index]
            if len(heap) < window_count or heap[0] < now_ts - window_seconds:
                continue
            raw = rule.points
            count = window_count
        elif kind == DECAY:
            raw = rule.points * sums[index] * 2.0 ** ((latest - max(now_ts, latest)) * rate)
        else:
            raw = rule.points * count
        cap = rule.cap
        capped = cap is not None and (raw > cap or raw < -cap)
        if capped:
            assert cap is not None
            raw = cap if raw > 0 else -cap
        engagement_sum += raw
        points = round(raw, 1) + 0.0  # + 0.0 turns -0.0 into 0.0
        if points:
            detail = f"×{count}{before}, latest {_ago(now_ts - latest)}{after}{capped_words if capped else ''}"
            contributions.append(_contribution(rule.id, rule.label, "engagement", points, count, capped, detail))

    fit = _clamp(fit_sum)
    intent = _clamp(intent_sum)
    engagement = _clamp(engagement_sum)
    weights = model.weights
    total = _clamp(weights.fit * fit + weights.intent * intent + weights.engagement * engagement)
    contributions.sort(key=_order)
    known_fields = frozenset(name for name, value in fields.items() if value is not None and name != "email")
    made = _new_object(Score)
    _set(
        made,
        "__dict__",
        {
            "fit": fit,
            "engagement": engagement,
            "total": total,
            "completeness": completeness,
            "disqualified": tuple(reasons),
            "contributions": tuple(contributions),
            "known_fields": known_fields,
            "intent": intent,
        },
    )
    return made


def score_events(model: ScoringModel, profile: Profile, events: Iterable[Event], now: datetime) -> Score:
    """Fold ``events`` into a fresh tally and score it: the reference that incremental scoring must equal."""
    tally = Tally(model)
    for event in events:
        tally.add(event)
    return score(model, profile, tally, now)


def _contribution(
    rule: str, label: str, group: Group, points: float, count: int, capped: bool, detail: str
) -> Contribution:
    """A Contribution without the frozen dataclass __init__ (one setattr per field): a third of the cost.

    Equal, hashable and printable like one built normally; a bulk re-score builds millions.
    """
    made = _new_object(Contribution)
    values = {"rule": rule, "label": label, "group": group, "points": points, "count": count, "capped": capped}
    values["detail"] = detail
    _set(made, "__dict__", values)
    return made


def _order(contribution: Contribution) -> tuple[bool, float, int, str]:
    """Disqualifiers first, then by |points| (largest first), fit before intent before engagement, then by id."""
    group = _GROUP_ORDER[contribution.group]
    return (group > 0, -abs(contribution.points), group, contribution.rule)


def _clamp(value: float) -> float:
    return 0.0 if value < 0.0 else 100.0 if value > 100.0 else value


def _ago(seconds: float) -> str:
    """A duration in the words a marketer would use."""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return _plural(int(seconds // 60), "minute")
    if seconds < 86_400:
        return _plural(int(seconds // 3600), "hour")
    if seconds < 14 * 86_400:
        return _plural(int(seconds // 86_400), "day")
    if seconds < 60 * 86_400:
        return _plural(int(seconds // (7 * 86_400)), "week")
    if seconds < 730 * 86_400:
        return _plural(int(seconds // (30 * 86_400)), "month")
    return _plural(int(seconds // (365 * 86_400)), "year")


def _plural(amount: int, unit: str) -> str:
    return f"{amount} {unit} ago" if amount == 1 else f"{amount} {unit}s ago"
