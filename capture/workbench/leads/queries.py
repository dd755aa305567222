"""The leads list's queries: search, filters, sorting and keyset pages, and the CSV export's rows.

Pages go by keyset (the last row's sort value and id), not by offset: page 2,000 of a
hundred thousand leads costs what page 1 does, and a lead that arrives while someone
pages does not shift every later page by one. The export walks the same keyset in
batches, so a hundred thousand leads stream in the memory of one batch.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, and_, exists, false, func, select, tuple_

from capture.db.models import Answer, Lead, Site
from capture.leads import profile_doc

#: the profile fields a search looks in besides the address, and those a row shows as name and company
NAME_FIELDS = ("first_name", "last_name", "name")
COMPANY_FIELDS = ("company",)
STAGES = ("subscriber", "engaged", "mql", "sql", "recycled")
#: score bands as (label, lowest, below)
BANDS = {"0-24": (0.0, 25.0), "25-49": (25.0, 50.0), "50-74": (50.0, 75.0), "75+": (75.0, None)}
#: sort keys: the column, and whether it runs newest/highest first
SORTS = {"last_seen": (Lead.last_seen_at, True), "created": (Lead.created_at, True), "score": (Lead.score, True)}
PAGE = 50
MAX_SEARCH = 200


@dataclass(frozen=True)
class LeadFilter:
    """What the marketer asked for; every value came from a browser and was checked by the filter form."""

    search: str = ""
    site_id: int | None = None
    form_id: int | None = None
    stage: str | None = None
    band: str | None = None
    since: date | None = None
    until: date | None = None
    sort: str = "last_seen"


@dataclass(frozen=True)
class LeadRow:
    id: int
    email: str | None
    name: str
    company: str
    site: str | None
    stage: str
    score: float
    fit: float
    engagement: float
    owner: str | None
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class Page:
    rows: list[LeadRow]
    #: the cursor of the next page, None on the last
    after: str | None
    filters: LeadFilter = field(default_factory=LeadFilter)


def page_of(connection: Connection, wanted: LeadFilter, after: str | None, size: int = PAGE) -> Page:
    """One page of leads, after the cursor ``after`` (a bad or foreign cursor reads as the first page)."""
    rows = _rows(connection, wanted, _cursor(after, wanted.sort), size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return Page(rows, _encode(rows[-1], wanted.sort) if more and rows else None, wanted)


def all_rows(connection: Connection, wanted: LeadFilter, batch: int = 1000) -> Iterator[LeadRow]:
    """Every lead the filter selects, in its order, read a batch at a time."""
    cursor: tuple[Any, int] | None = None
    while True:
        rows = _rows(connection, wanted, cursor, batch)
        yield from rows
        if len(rows) < batch:
            return
        cursor = (_sort_value(rows[-1], wanted.sort), rows[-1].id)


def _rows(connection: Connection, wanted: LeadFilter, cursor: tuple[Any, int] | None, limit: int) -> list[LeadRow]:
    column, descending = SORTS.get(wanted.sort, SORTS["last_seen"])
    query: Select[Any] = (
        select(
            Lead.id,
            Lead.email,
            Lead.profile,
            Site.name.label("site"),
            Lead.stage,
            Lead.score,
            Lead.fit,
            Lead.engagement,
            Lead.owner,
            Lead.created_at,
            Lead.last_seen_at,
        )
        .outerjoin(Site, Site.id == Lead.site_id)
        .where(Lead.merged_into_id.is_(None), *_conditions(wanted, connection.dialect.name))
    )
    if cursor is not None:
        here = tuple_(column, Lead.id)
        query = query.where(here < tuple_(*cursor) if descending else here > tuple_(*cursor))
    order = (column.desc(), Lead.id.desc()) if descending else (column.asc(), Lead.id.asc())
    return [_row(found) for found in connection.execute(query.order_by(*order).limit(limit))]


def _conditions(wanted: LeadFilter, dialect: str) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if wanted.search:
        term = "%" + wanted.search.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(_searched_text(dialect).like(term, escape="\\"))
    if wanted.site_id is not None:
        conditions.append(Lead.site_id == wanted.site_id)
    if wanted.form_id is not None:
        conditions.append(exists().where(Answer.lead_id == Lead.id, Answer.form_id == wanted.form_id))
    if wanted.stage is not None:
        conditions.append(Lead.stage == wanted.stage if wanted.stage in STAGES else false())
    if wanted.band is not None and wanted.band in BANDS:
        lowest, below = BANDS[wanted.band]
        conditions.append(Lead.score >= lowest if below is None else and_(Lead.score >= lowest, Lead.score < below))
    if wanted.since is not None:
        conditions.append(Lead.last_seen_at >= datetime.combine(wanted.since, time(), tzinfo=UTC))
    if wanted.until is not None:
        conditions.append(Lead.last_seen_at < datetime.combine(wanted.until + timedelta(days=1), time(), tzinfo=UTC))
    return conditions


def _searched_text(dialect: str) -> ColumnElement[str]:
    """One lower-cased text per lead to look in: its address and the name and company values (one LIKE, not five).

    On PostgreSQL it is the function a migration made (migrations/versions/…_leads_search_index.py),
    which a trigram index covers where pg_trgm is available: a rare term is then an index lookup.
    """
    if dialect == "postgresql":
        return func.leadwheel_lead_search_text(Lead.email, Lead.profile)
    joined: ColumnElement[str] = func.coalesce(Lead.email, "")
    for name in NAME_FIELDS + COMPANY_FIELDS:
        joined = joined + "\n" + func.coalesce(Lead.profile[name][0].as_string(), "")
    return func.lower(joined)


def _row(found: Any) -> LeadRow:
    values = profile_doc.values(found.profile)
    name = " ".join(str(values[f]) for f in NAME_FIELDS if values.get(f) not in (None, ""))
    company = next((str(values[f]) for f in COMPANY_FIELDS if values.get(f) not in (None, "")), "")
    return LeadRow(
        found.id,
        found.email,
        name,
        company,
        found.site,
        found.stage,
        found.score,
        found.fit,
        found.engagement,
        found.owner,
        found.created_at,
        found.last_seen_at,
    )


def _sort_value(row: LeadRow, sort: str) -> Any:
    return {"created": row.created_at, "score": row.score}.get(sort, row.last_seen_at)


def _encode(row: LeadRow, sort: str) -> str:
    value = _sort_value(row, sort)
    plain = value.isoformat() if isinstance(value, datetime) else value
    return base64.urlsafe_b64encode(json.dumps([sort, plain, row.id]).encode()).decode().rstrip("=")


def _cursor(raw: str | None, sort: str) -> tuple[Any, int] | None:
    """The cursor a browser sent back; anything it could have made up reads as no cursor."""
    if not raw or len(raw) > 200:
        return None
    try:
        named, value, lead_id = json.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
        if named != sort or not isinstance(lead_id, int):
            return None
        if sort == "score":
            return (float(value), lead_id)
        moment = datetime.fromisoformat(value)
        return (moment, lead_id) if moment.tzinfo is not None else None
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def with_sort(wanted: LeadFilter, sort: str) -> LeadFilter:
    return replace(wanted, sort=sort if sort in SORTS else "last_seen")
