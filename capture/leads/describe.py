"""A lead as a person reads it: stage, scores and the reasons, for the CLI (and later the admin UI)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.db.models import Answer, EmailClaim, Form, Lead, ScoreChange, ScoringModelVersion, SequenceVersion
from capture.handoff.delivery import printable
from capture.sites.publishing import PublishingError


def find_lead(session: Session, who: str) -> Lead:
    """A lead by e-mail or id; a merged lead leads to the one it was merged into."""
    lead = (
        session.get(Lead, int(who)) if who.isdigit() else session.scalar(select(Lead).where(Lead.email == who.lower()))
    )
    if lead is None:
        raise PublishingError(f"no lead has the e-mail or id '{who}'")
    while lead.merged_into_id is not None:
        survivor = session.get(Lead, lead.merged_into_id)
        assert survivor is not None
        lead = survivor
    return lead


#: The word for where a lead stood before its first score: it had no stage yet.
BEFORE_FIRST_STAGE = "new"


def stage_move(before: str | None, after: str) -> str:
    """``mql → engaged`` for a move, ``engaged`` for a change that kept the stage, ``new → engaged`` for the first."""
    if before == after:
        return after
    return f"{before or BEFORE_FIRST_STAGE} → {after}"


def describe_lead(session: Session, who: str, changes: int = 10) -> str:
    lead = find_lead(session, who)
    trust = ""
    if lead.email is not None:
        trust = f" (confirmed by {lead.email_confirmed_via})" if lead.email_confirmed_at else " (unconfirmed)"
    lines = [f"lead {lead.id} {lead.email or '(no e-mail yet)'}{trust}"]
    claimed = session.scalars(
        select(EmailClaim.email).where(EmailClaim.lead_id == lead.id, EmailClaim.resolved_at.is_(None))
    ).all()
    if claimed:
        lines.append(f"  claims, unconfirmed: {', '.join(claimed)}")
    if lead.scored_at is None:
        lines.append("  not scored yet (no scoring model was published when it last changed)")
        return "\n".join(lines + _answer_lines(session, lead.id)) + "\n"
    version = session.scalar(select(ScoringModelVersion.version).where(ScoringModelVersion.id == lead.scoring_model_id))
    explanation = lead.explanation or {}
    lines.append(
        f"  stage {lead.stage} since {lead.stage_changed_at:%Y-%m-%d %H:%M}  ·  scored {lead.scored_at:%Y-%m-%d %H:%M}"
        f" with model version {version}"
    )
    lines.append(
        f"  score {lead.score:.1f}: fit {lead.fit:.1f}, intent {explanation.get('intent', 0.0):.1f},"
        f" engagement {lead.engagement:.1f}"
        f"  ·  fit criteria known: {lead.completeness:.0%}"
    )
    for reason in explanation.get("disqualified", []):
        lines.append(f"  DISQUALIFIED: {reason}")
    lines.append("  why:")
    for item in explanation.get("contributions", []):
        capped = " (capped)" if item.get("capped") else ""
        lines.append(f"    {item['points']:+7.1f}  {item['group']:<12} {item['label']}: {item['detail']}{capped}")
    history = session.scalars(
        select(ScoreChange).where(ScoreChange.lead_id == lead.id).order_by(ScoreChange.at.desc()).limit(changes)
    ).all()
    if history:
        lines.append("  recent changes:")
        for change in history:
            stage = stage_move(change.stage_before, change.stage)
            lines.append(f"    {change.at:%Y-%m-%d %H:%M}  {change.score:5.1f}  {stage:<22} ({change.cause})")
    return "\n".join(lines + _answer_lines(session, lead.id)) + "\n"


def _answer_lines(session: Session, lead_id: int) -> list[str]:
    """Every answer, oldest first, with where it came from: zero-party data is only as good as its provenance.

    Values are escaped (a visitor typed them; a terminal must not run them) and cut short.
    """
    rows = session.execute(
        select(Answer, Form.slug, SequenceVersion.version)
        .outerjoin(Form, Form.id == Answer.form_id)
        .outerjoin(SequenceVersion, SequenceVersion.id == Answer.sequence_version_id)
        .where(Answer.lead_id == lead_id)
        .order_by(Answer.answered_at, Answer.id)
    ).all()
    if not rows:
        return ["  answers: none yet"]
    lines = ["  answers (oldest first):"]
    for answer, slug, version in rows:
        value = "(not now)" if answer.skipped else printable(json.dumps(answer.value, ensure_ascii=False), 60)
        where = f"form {slug} v{version}" if slug is not None else answer.source
        details = [where, answer.locale]
        if answer.page_url:
            details.append(printable(answer.page_url, 80))
        if answer.consent_text:
            details.append(f"consent text {answer.consent_version or ''}: {printable(answer.consent_text, 60)}".strip())
        lines.append(
            f"    {answer.answered_at:%Y-%m-%d %H:%M}  {printable(answer.field, 40)} = {value}  ({', '.join(details)})"
        )
    return lines
