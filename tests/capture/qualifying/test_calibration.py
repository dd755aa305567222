"""The calibration report: what sales said, by score band and stage, and how the thresholds would fare."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from capture.db.models import Lead, SalesOutcome
from capture.qualifying.reports import OutcomeRow, band_of, calibration, format_calibration
from capture.sites.publishing import publish_model
from scoring.document import default_model
from tests.capture.cli.test_cli import run as run  # noqa: F401  (the fixture)

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

#: (lead, outcome, days after T0, stage then, score then)
DATASET = [
    (1, "accepted", 0, "sql", 80.0),
    (1, "won", 20, "sql", 85.0),  # placed by its first outcome: still 75–100, sql
    (2, "rejected", 1, "sql", 78.0),
    (3, "accepted", 2, "mql", 60.0),
    (4, "rejected", 3, "mql", 55.0),
    (5, "rejected", 4, "mql", 30.0),
    (5, "accepted", 30, "recycled", 32.0),  # rejected, then accepted: counts in both
    (6, "opportunity", 5, "engaged", 20.0),  # accepted below both thresholds: missed by both
    (7, "lost", 6, "subscriber", 4.5),
    (8, "accepted", -100, "sql", 90.0),  # before --since
]


def rows() -> list[OutcomeRow]:
    return [
        OutcomeRow(lead, outcome, T0 + timedelta(days=days), stage, score)
        for lead, outcome, days, stage, score in DATASET
    ]


def test_bands_are_by_the_recorded_score() -> None:
    assert [band_of(s) for s in (-5, 0, 24.99, 25, 49.5, 50, 74.99, 75, 100, 130)] == [
        "0–24", "0–24", "0–24", "25–49", "25–49", "50–74", "50–74", "75–100", "75–100", "75–100"
    ]  # fmt: skip


def test_the_numbers_on_a_small_dataset() -> None:
    report = calibration(rows(), mql=25, sql=75, since=T0 - timedelta(days=1), model_version=3)
    data = report.as_dict()
    assert data["total"] == {"judged": 7, "accepted": 4, "rejected": 3, "won": 1}
    assert data["by_band"] == {
        "0–24": {"judged": 2, "accepted": 1, "rejected": 0, "won": 0},
        "25–49": {"judged": 1, "accepted": 1, "rejected": 1, "won": 0},
        "50–74": {"judged": 2, "accepted": 1, "rejected": 1, "won": 0},
        "75–100": {"judged": 2, "accepted": 1, "rejected": 1, "won": 1},
    }
    assert data["by_stage"] == {
        "subscriber": {"judged": 1, "accepted": 0, "rejected": 0, "won": 0},
        "engaged": {"judged": 1, "accepted": 1, "rejected": 0, "won": 0},
        "mql": {"judged": 3, "accepted": 2, "rejected": 2, "won": 0},
        "sql": {"judged": 2, "accepted": 1, "rejected": 1, "won": 1},
    }
    assert data["thresholds"] == {
        "mql": {"threshold": 25, "judged": 5, "accepted": 3, "precision": 0.6, "missed": 1},
        "sql": {"threshold": 75, "judged": 2, "accepted": 1, "precision": 0.5, "missed": 3},
    }
    assert data["model_version"] == 3 and data["since"] == "2026-09-30T12:00:00+00:00"


def test_without_since_every_outcome_counts_and_other_thresholds_change_the_verdict() -> None:
    everything = calibration(rows(), mql=25, sql=75)
    assert everything.total.judged == 8 and everything.sql.judged == 3 and everything.sql.accepted == 2
    stricter = calibration(rows(), mql=50, sql=85)
    assert (stricter.mql.judged, stricter.mql.accepted, stricter.mql.missed) == (5, 3, 2)
    assert (stricter.sql.judged, stricter.sql.accepted, stricter.sql.precision, stricter.sql.missed) == (1, 1, 1.0, 4)
    empty = calibration([], mql=25, sql=75)
    assert empty.sql.precision is None and empty.total.judged == 0
    assert "–" in format_calibration(empty)


def test_the_text_table() -> None:
    text = format_calibration(calibration(rows(), mql=25, sql=75, since=T0 - timedelta(days=1), model_version=3))
    lines = text.splitlines()
    assert lines[0] == "Sales outcomes since 2026-09-30: 7 leads judged"
    assert "scoring model version 3, MQL at 25, SQL at 75" in lines[1]
    assert "score           judged  accepted  rejected   won  accept rate" in lines
    assert "75–100               2         1         1     1          50%" in lines
    assert "0–24                 2         1         0     0          50%" in lines
    assert "all                  7         4         3     1          57%" in lines
    assert "mql                  3         2         2     0          67%" in lines
    assert "threshold       judged  accepted  precision  missed" in lines
    assert "MQL ≥ 25             5         3        60%       1" in lines
    assert "SQL ≥ 75             2         1        50%       3" in lines
    table = [line for line in lines if line and not line.startswith(("Sales", "(", "precision", "missed"))]
    assert len({len(line) for line in table if not line.startswith(("threshold", "MQL", "SQL"))}) == 1  # aligned


def test_report_calibration_from_the_cli(run: Any, app: Any, clock: Any) -> None:
    db = app.extensions["leadwheel"].db
    with db.write() as session:
        publish_model(session, default_model(), clock())
        for lead_id in sorted({lead for lead, *_ in DATASET}):
            session.add(Lead(id=lead_id, email=f"lead{lead_id}@example.com", last_seen_at=clock(), created_at=clock()))
        session.flush()
        for row in rows():
            session.add(
                SalesOutcome(lead_id=row.lead_id, outcome=row.outcome, reason="other" if row.outcome == "rejected"
                             else None, at=row.at, received_at=clock(), stage=row.stage, score=row.score)
            )  # fmt: skip
    text = run("report", "calibration", "--since", "2026-09-30")
    assert text.exit_code == 0, text.output
    assert text.output.startswith("Sales outcomes since 2026-09-30: 7 leads judged\n")
    assert "scoring model version 1, MQL at 25, SQL at 75" in text.output
    assert "SQL ≥ 75             2         1        50%       3" in text.output
    as_json = run("report", "calibration", "--format", "json")
    assert as_json.exit_code == 0
    data = json.loads(as_json.output)
    assert data["total"] == {"judged": 8, "accepted": 5, "rejected": 3, "won": 1}
    assert data["thresholds"]["sql"] == {
        "threshold": 75.0,
        "judged": 3,
        "accepted": 2,
        "precision": 0.6667,
        "missed": 3,
    }
    assert run("report", "calibration", "--since", "30/09/2026").exit_code != 0


def test_report_calibration_needs_a_published_model(run: Any) -> None:
    result = run("report", "calibration")
    assert result.exit_code != 0 and "no scoring model is published" in result.output
