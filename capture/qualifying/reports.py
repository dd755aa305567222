"""Numbers for marketers: how each question fares, and how well scores foretell what sales decides."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from capture.db.models import Answer, Form, SalesOutcome, Site


@dataclass(frozen=True)
class QuestionStats:
    question_key: str
    answered: int
    skipped: int

    @property
    def skip_rate(self) -> float:
        total = self.answered + self.skipped
        return self.skipped / total if total else 0.0


def question_stats(session: Session, site: Site, slug: str) -> list[QuestionStats]:
    """Answers and skips per question of a form, over all its versions."""
    skipped = func.sum(case((Answer.skipped, 1), else_=0))
    rows = session.execute(
        select(Answer.question_key, func.count(), skipped)
        .join(Form, Form.id == Answer.form_id)
        .where(Form.site_id == site.id, Form.slug == slug)
        .group_by(Answer.question_key)
        .order_by(Answer.question_key)
    )
    return [QuestionStats(key, int(total) - int(skips or 0), int(skips or 0)) for key, total, skips in rows]


# --- calibration: what sales said against what the scores said ----------------------------------------------

#: score bands of the calibration report: (label, lowest score in it)
BANDS = (("0–24", float("-inf")), ("25–49", 25.0), ("50–74", 50.0), ("75–100", 75.0))
STAGE_ORDER = ("subscriber", "engaged", "recycled", "mql", "sql")
#: outcomes that mean sales took the lead
ACCEPTED_OUTCOMES = frozenset({"accepted", "opportunity", "won"})


@dataclass(frozen=True)
class OutcomeRow:
    """One outcome as kept: the lead, what sales said, when, and the lead's stage and score then."""

    lead_id: int
    outcome: str
    at: datetime
    stage: str
    score: float


@dataclass(frozen=True)
class FeedbackCounts:
    """Leads sales judged, and what it said (a lead accepted and later won counts in both)."""

    judged: int = 0
    accepted: int = 0
    rejected: int = 0
    won: int = 0

    def plus(self, verdict: Verdict) -> FeedbackCounts:
        return FeedbackCounts(
            self.judged + 1,
            self.accepted + verdict.accepted,
            self.rejected + verdict.rejected,
            self.won + verdict.won,
        )

    def as_dict(self) -> dict[str, int]:
        return {"judged": self.judged, "accepted": self.accepted, "rejected": self.rejected, "won": self.won}


@dataclass(frozen=True)
class Verdict:
    """Everything sales said about one lead, placed by its stage and score when it was first judged."""

    lead_id: int
    stage: str
    score: float
    accepted: bool
    rejected: bool
    won: bool


@dataclass(frozen=True)
class ThresholdCheck:
    """How a threshold would have done on the judged leads (by the score each had when judged)."""

    name: str
    threshold: float
    #: leads at or above the threshold that sales judged
    judged: int
    #: of those, accepted
    accepted: int
    #: accepted (or won) leads below the threshold: the score would have kept them from sales
    missed: int

    @property
    def precision(self) -> float | None:
        return self.accepted / self.judged if self.judged else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "judged": self.judged,
            "accepted": self.accepted,
            "precision": None if self.precision is None else round(self.precision, 4),
            "missed": self.missed,
        }


@dataclass(frozen=True)
class Calibration:
    since: datetime | None
    model_version: int | None
    total: FeedbackCounts
    by_band: dict[str, FeedbackCounts]
    by_stage: dict[str, FeedbackCounts]
    mql: ThresholdCheck
    sql: ThresholdCheck

    def as_dict(self) -> dict[str, Any]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "model_version": self.model_version,
            "total": self.total.as_dict(),
            "by_band": {band: tally.as_dict() for band, tally in self.by_band.items()},
            "by_stage": {stage: tally.as_dict() for stage, tally in self.by_stage.items()},
            "thresholds": {"mql": self.mql.as_dict(), "sql": self.sql.as_dict()},
        }


def band_of(score: float) -> str:
    label = BANDS[0][0]
    for name, lowest in BANDS:
        if score >= lowest:
            label = name
    return label


def verdicts(rows: Iterable[OutcomeRow]) -> list[Verdict]:
    """One verdict per lead: placed where the lead stood at its first outcome, with all it was told since."""
    by_lead: dict[int, list[OutcomeRow]] = {}
    for row in sorted(rows, key=lambda r: (r.at, r.lead_id)):
        by_lead.setdefault(row.lead_id, []).append(row)
    result = []
    for lead_id, said in by_lead.items():
        first, outcomes = said[0], {row.outcome for row in said}
        result.append(
            Verdict(
                lead_id=lead_id,
                stage=first.stage,
                score=first.score,
                accepted=bool(outcomes & ACCEPTED_OUTCOMES),
                rejected="rejected" in outcomes,
                won="won" in outcomes,
            )
        )
    return result


def calibration(
    rows: Iterable[OutcomeRow],
    *,
    mql: float,
    sql: float,
    since: datetime | None = None,
    model_version: int | None = None,
) -> Calibration:
    """The calibration report from outcome rows (pure: no database, no clock)."""
    judged = verdicts(row for row in rows if since is None or row.at >= since)
    total = FeedbackCounts()
    by_band = {name: FeedbackCounts() for name, _ in BANDS}
    by_stage: dict[str, FeedbackCounts] = {}
    for verdict in judged:
        total = total.plus(verdict)
        band = band_of(verdict.score)
        by_band[band] = by_band[band].plus(verdict)
        by_stage[verdict.stage] = by_stage.get(verdict.stage, FeedbackCounts()).plus(verdict)
    order = {stage: index for index, stage in enumerate(STAGE_ORDER)}
    by_stage = dict(sorted(by_stage.items(), key=lambda item: (order.get(item[0], len(order)), item[0])))

    def check(name: str, threshold: float) -> ThresholdCheck:
        above = [v for v in judged if v.score >= threshold]
        missed = sum(1 for v in judged if v.score < threshold and v.accepted)
        return ThresholdCheck(name, threshold, len(above), sum(1 for v in above if v.accepted), missed)

    return Calibration(since, model_version, total, by_band, by_stage, check("MQL", mql), check("SQL", sql))


def calibration_rows(session: Session, since: datetime | None = None) -> list[OutcomeRow]:
    """Every outcome kept (since a time), for :func:`calibration`."""
    query = select(SalesOutcome.lead_id, SalesOutcome.outcome, SalesOutcome.at, SalesOutcome.stage, SalesOutcome.score)
    if since is not None:
        query = query.where(SalesOutcome.at >= since)
    return [OutcomeRow(*row) for row in session.execute(query.order_by(SalesOutcome.at, SalesOutcome.id))]


def format_calibration(report: Calibration) -> str:
    """The report as an aligned plain-text table."""
    since = f" since {report.since:%Y-%m-%d}" if report.since else ""
    model = f"scoring model version {report.model_version}, " if report.model_version is not None else ""
    lines = [
        f"Sales outcomes{since}: {report.total.judged} leads judged",
        f"({model}MQL at {report.mql.threshold:g}, SQL at {report.sql.threshold:g};"
        " each lead placed by its score and stage when sales first judged it)",
        "",
    ]

    def header(label: str) -> str:
        return f"{label:<14}{'judged':>8}{'accepted':>10}{'rejected':>10}{'won':>6}{'accept rate':>13}"

    def row(label: str, tally: FeedbackCounts) -> str:
        rate = f"{tally.accepted / tally.judged:.0%}" if tally.judged else "–"
        return f"{label:<14}{tally.judged:>8}{tally.accepted:>10}{tally.rejected:>10}{tally.won:>6}{rate:>13}"

    lines.append(header("score"))
    lines.extend(row(band, tally) for band, tally in report.by_band.items())
    lines.append(row("all", report.total))
    lines.append("")
    lines.append(header("stage"))
    lines.extend(row(stage, tally) for stage, tally in report.by_stage.items())
    lines.append("")
    lines.append(f"{'threshold':<14}{'judged':>8}{'accepted':>10}{'precision':>11}{'missed':>8}")
    for check in (report.mql, report.sql):
        precision = f"{check.precision:.0%}" if check.precision is not None else "–"
        label = f"{check.name} ≥ {check.threshold:g}"
        lines.append(f"{label:<14}{check.judged:>8}{check.accepted:>10}{precision:>11}{check.missed:>8}")
    lines.append("")
    lines.append("precision: accepted ÷ leads at or above the threshold that sales judged;")
    lines.append("missed: leads sales accepted (or won) although their score was below the threshold.")
    return "\n".join(lines) + "\n"
