"""``leadwheel report``: numbers that tell whether the scoring model is right."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click

from capture.cli.support import database_url, session_for


@click.group()
def report() -> None:
    """Reports for marketers and sales managers."""


@report.command("calibration")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Only outcomes from this day on (UTC), e.g. 2026-09-01.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def report_calibration(since: datetime | None, fmt: str) -> None:
    """What sales said about leads, by their score band and stage then, and how the live thresholds fare."""
    from capture.qualifying.reports import calibration, calibration_rows, format_calibration
    from capture.sites.publishing import published_model
    from scoring.document import parse_model

    start = since.replace(tzinfo=UTC) if since is not None else None
    with session_for(database_url()) as session:
        live = published_model(session)
        thresholds = parse_model(live.document).thresholds
        rows = calibration_rows(session, start)
        version = live.version
    result = calibration(rows, mql=thresholds.mql, sql=thresholds.sql, since=start, model_version=version)
    if fmt == "json":
        click.echo(json.dumps(result.as_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(format_calibration(result), nl=False)
