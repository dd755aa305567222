"""The Leads pages: the list (search, filters, sort, keyset pages), one lead, and the CSV export."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from capture.db.models import Form, Site
from capture.privacy.export import export_person
from capture.privacy.person import NoSuchPerson, Who, find_person
from capture.workbench.auth import requires, services, workbench_pages
from capture.workbench.forms import LeadFilterForm
from capture.workbench.leads.queries import BANDS, SORTS, STAGES, LeadFilter, LeadRow, all_rows, page_of
from capture.workbench.spreadsheet import safe_cell

workbench_leads = Blueprint("workbench_leads", __name__, url_prefix="/workbench/leads")
workbench_pages(workbench_leads)

STAGE_NAMES = {
    "subscriber": _l("Subscriber"),
    "engaged": _l("Engaged"),
    "mql": _l("MQL"),
    "sql": _l("SQL"),
    "recycled": _l("Recycled"),
}
SORT_NAMES = {"last_seen": _l("Last seen"), "created": _l("Newest"), "score": _l("Score")}
CSV_COLUMNS = (
    "id", "email", "name", "company", "site", "stage", "score", "fit", "engagement", "owner", "created_at",
    "last_seen_at",
)  # fmt: skip


def _filter_form() -> tuple[LeadFilterForm, LeadFilter]:
    form = LeadFilterForm(request.args)
    with services().db.read() as db:
        sites = [(str(s.id), s.name) for s in db.execute(select(Site.id, Site.name).order_by(Site.name))]
        forms = [(str(f.id), f"{f.site} · {f.name}") for f in db.execute(
            select(Form.id, Form.name, Site.name.label("site")).join(Site).order_by(Site.name, Form.name)
        )]  # fmt: skip
    form.site.choices = [SelectChoice("", _l("All sites")), *(SelectChoice(*site) for site in sites)]
    form.form.choices = [SelectChoice("", _l("All forms")), *(SelectChoice(*found) for found in forms)]
    form.stage.choices = [SelectChoice("", _l("All stages")), *(SelectChoice(s, STAGE_NAMES[s]) for s in STAGES)]
    form.band.choices = [SelectChoice("", _l("Any score")), *(SelectChoice(b, b) for b in BANDS)]
    form.sort.choices = [SelectChoice(key, SORT_NAMES[key]) for key in SORTS]
    form.validate()  # a bad date is shown next to its field and left out; nothing else can be wrong
    wanted = LeadFilter(
        search=(form.q.data or "").strip()[:200],
        site_id=_number(form.site.data),
        form_id=_number(form.form.data),
        stage=form.stage.data if form.stage.data in STAGES else None,
        band=form.band.data if form.band.data in BANDS else None,
        since=None if form.since.errors else form.since.data,
        until=None if form.until.errors else form.until.data,
        sort=form.sort.data if form.sort.data in SORTS else "last_seen",
    )
    return form, wanted


def _number(raw: Any) -> int | None:
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


@workbench_leads.route("/")
@requires("leads", "view")
def index() -> str:
    form, wanted = _filter_form()
    with services().db.read_connection() as connection:
        page = page_of(connection, wanted, request.args.get("after"))
    query = {key: value for key, value in request.args.items() if key != "after"}
    return render_template("workbench/leads/index.html", form=form, page=page, query=query, stages=STAGE_NAMES)


@workbench_leads.route("/export.csv")
@requires("leads", "export")
def export() -> Response:
    _form, wanted = _filter_form()
    db = services().db

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        with db.read_connection() as connection:
            for row in all_rows(connection, wanted):
                writer.writerow(_csv_cells(row))
                if buffer.tell() > 64_000:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    stamp = services().clock().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="leads-{stamp}.csv"'},
    )


def _csv_cells(row: LeadRow) -> list[str]:
    cells: list[Any] = [
        row.id, row.email or "", row.name, row.company, row.site or "", row.stage, row.score, row.fit,
        row.engagement, row.owner or "", row.created_at.isoformat(), row.last_seen_at.isoformat(),
    ]  # fmt: skip
    return [safe_cell(cell) for cell in cells]


@workbench_leads.route("/<int:lead_id>")
@requires("leads", "view")
def lead(lead_id: int) -> str:
    svc = services()
    with svc.db.read_connection() as connection:
        try:
            person = find_person(connection, Who(lead_id=lead_id))
        except NoSuchPerson:
            abort(404)
        document = export_person(connection, person, svc.clock())
    tables = document["tables"]
    (row,) = [found for found in tables["leads"] if found["id"] == person.lead_id]
    return render_template(
        "workbench/leads/lead.html",
        lead=row,
        merged=list(person.lead_ids[1:]),
        profile=document["profile"],
        explanation=row.get("explanation") or {},
        timeline=_timeline(tables),
        browsers=tables["visitors"],
        stages=STAGE_NAMES,
    )


def _timeline(tables: dict[str, list[dict[str, Any]]], limit: int = 200) -> list[tuple[str, str, str]]:
    """(when, kind, what) of the lead's answers, behaviour, stage changes, consents and hand-offs, newest first."""
    items: list[tuple[str, str, str]] = []
    for a in tables["answers"]:
        shown = _l("not now") if a["skipped"] else _short(a["value"])
        items.append((a["answered_at"], str(_l("Answer")), f"{a['field']}: {shown}"))
    for e in tables["events"]:
        items.append((e["at"], str(_l("Behaviour")), f"{e['type']} {e['path'] or ''}".strip()))
    for c in tables["score_changes"]:
        move = f"{c['stage_before'] or '—'} → {c['stage']}" if c["stage_before"] != c["stage"] else c["stage"]
        items.append((c["at"], str(_l("Score")), f"{move} · {c['score']} ({c['cause']})"))
    for r in tables.get("consent_records", []):
        items.append((r["recorded_at"], str(_l("Consent")), f"{r['purpose']}: {r['status']} ({r['source']})"))
    for d in tables["deliveries"]:
        items.append((d["created_at"], str(_l("Hand-off")), f"{d['event_type']}: {d['status']}"))
    items.sort(key=lambda item: item[0], reverse=True)
    return [(_when(at), kind, what) for at, kind, what in items[:limit]]


def _short(value: Any) -> str:
    text = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return text if len(text) <= 120 else text[:119] + "…"


def _when(at: str) -> str:
    return datetime.fromisoformat(at).strftime("%Y-%m-%d %H:%M")
