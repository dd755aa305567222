"""Numbers for marketers: how each question fares."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from capture.models import Answer, Form, Site


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
