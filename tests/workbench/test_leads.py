"""The Leads pages as a marketer, a salesperson and an attacker use them: find, page, open, export."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import insert, select

from capture.db.models import Lead, Site
from capture.leads import profile_doc
from tests.capture.conftest import Browser
from tests.capture.conftest import publish_form as publish_form  # noqa: F401 - the fixture
from tests.workbench.conftest import csrf_token

NEXT = re.compile(r'href="([^"]+)" rel="next"')


def _bulk_leads(app: Any, count: int, site_id: int | None = None, start: int = 0) -> None:
    """``count`` leads inserted at once (a list page does not care how they came)."""
    services = app.extensions["leadwheel"]
    now = services.clock()
    rows = [
        {
            "email": f"lead{start + i}@bulk.example",
            "site_id": site_id,
            "profile": {"first_name": profile_doc.entry(f"Person{start + i}", now, 0)},
            "stage": ("subscriber", "engaged", "mql", "sql")[i % 4],
            "score": float(i % 100),
            "last_seen_at": now - timedelta(minutes=i),
            "created_at": now - timedelta(days=1),
        }
        for i in range(count)
    ]
    with services.db.write_connection() as connection:
        for at in range(0, count, 5000):
            connection.execute(insert(Lead), rows[at : at + 5000])


def _site(app: Any, key: str) -> int:
    with app.extensions["leadwheel"].db.read() as session:
        return session.scalars(select(Site.id).where(Site.public_key == key)).one()


@pytest.fixture
def answered(client: Any, publish_form: Any, clock: Any) -> list[Browser]:
    """Three leads made through the public API, as the snippet makes them."""
    form = publish_form()
    made = []
    for email, name, kind in (("ada@northwind.example", "Ada", "b2b"), ("bo@contoso.example", "Bo", "b2c"),
                              ("cy@fabrikam.example", "=HYPERLINK(\"http://evil.example\")", "b2b")):  # fmt: skip
        browser = Browser(client, form, clock)
        browser.ask()
        assert browser.answer({"email": email, "first_name": name, "customer_type": kind}).status_code == 201
        made.append(browser)
        clock.advance(minutes=1)
    return made


def test_the_list_finds_leads_by_address_and_name_and_filters_them(
    signed_in: Callable[[str | None], Any], answered: list[Browser], app: Any
) -> None:
    client = signed_in("marketer")
    page = client.get("/workbench/leads/").get_data(as_text=True)
    assert page.index("cy@fabrikam.example") < page.index("bo@contoso.example") < page.index("ada@northwind.example")

    found = client.get("/workbench/leads/?q=ADA").get_data(as_text=True)
    assert "ada@northwind.example" in found and "bo@contoso.example" not in found
    by_name = client.get("/workbench/leads/?q=bo").get_data(as_text=True)
    assert "bo@contoso.example" in by_name and "ada@northwind.example" not in by_name
    site_id = _site(app, answered[0].form.site_key)
    assert "ada@northwind.example" in client.get(f"/workbench/leads/?site={site_id}").get_data(as_text=True)
    assert "No leads match." in client.get(f"/workbench/leads/?site={site_id + 99}").get_data(as_text=True)
    assert "No leads match." in client.get("/workbench/leads/?stage=sql").get_data(as_text=True)
    assert "No leads match." in client.get("/workbench/leads/?q=%25").get_data(as_text=True)  # % is a letter here


def test_bad_filters_are_shown_and_never_fail(signed_in: Callable[[str | None], Any], answered: list[Browser]) -> None:
    client = signed_in("viewer")
    for query in ("since=yesterday", "stage=<b>x</b>", "band=9000", "sort=id;drop", "after=%00%ff", "site=-1",
                  "after=WyJzY29yZSIsICJ4IiwgMV0"):  # fmt: skip
        response = client.get(f"/workbench/leads/?{query}")
        assert response.status_code == 200, query
        assert "<b>x</b>" not in response.get_data(as_text=True)
    assert "Not a valid date value" in client.get("/workbench/leads/?since=yesterday").get_data(as_text=True)


def test_keyset_pages_cover_every_lead_once_in_order(signed_in: Callable[[str | None], Any], app: Any) -> None:
    _bulk_leads(app, 120)
    client = signed_in("viewer")
    seen: list[str] = []
    url: str | None = "/workbench/leads/?sort=last_seen"
    while url:
        page = client.get(url.replace("&amp;", "&")).get_data(as_text=True)
        seen += re.findall(r"(lead\d+)@bulk\.example</a>", page)
        found = NEXT.search(page)
        url = found.group(1) if found else None
    assert seen == [f"lead{i}" for i in range(120)]
    by_score = client.get("/workbench/leads/?sort=score").get_data(as_text=True)
    assert by_score.index("lead99@") < by_score.index("lead98@")


def test_a_leads_page_shows_where_each_value_came_from_and_what_happened(
    signed_in: Callable[[str | None], Any], answered: list[Browser], app: Any
) -> None:
    with app.extensions["leadwheel"].db.read() as session:
        lead_id = session.scalars(select(Lead.id).where(Lead.email == "cy@fabrikam.example")).one()
    page = signed_in("sales").get(f"/workbench/leads/{lead_id}").get_data(as_text=True)
    assert "cy@fabrikam.example" in page
    assert "wheel v1" in page and "https://www.example.com/pricing" in page  # form, version, page
    assert "=HYPERLINK(&#34;http://evil.example&#34;)" in page  # shown as text, escaped
    assert "Answer</strong> customer_type: b2b" in page
    assert signed_in("sales").get("/workbench/leads/999999").status_code == 404


def test_export_is_for_who_may_and_cells_cannot_run_as_formulas(
    signed_in: Callable[[str | None], Any], answered: list[Browser], users: dict[str, int]
) -> None:
    sales = signed_in("sales")
    assert "export.csv" not in sales.get("/workbench/leads/").get_data(as_text=True)
    assert sales.get("/workbench/leads/export.csv").status_code == 403

    admin = signed_in("admin")
    token = csrf_token(admin, "/workbench/users")
    assert admin.post(f"/workbench/users/{users['sales']}/export", data={"csrf_token": token}).status_code == 302
    assert "export.csv" in sales.get("/workbench/leads/").get_data(as_text=True)
    response = sales.get("/workbench/leads/export.csv?q=fabrikam")

    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:3] == ["id", "email", "name"] and len(rows) == 2
    assert rows[1][1] == "cy@fabrikam.example" and rows[1][2] == '\'=HYPERLINK("http://evil.example")'
    refused = admin.post(f"/workbench/users/{users['sales']}/export", data={})  # no CSRF token
    assert refused.status_code == 400


def test_the_export_streams_in_bounded_memory(signed_in: Callable[[str | None], Any], app: Any) -> None:
    client = signed_in("admin")

    def peak_of_export() -> tuple[int, int]:
        tracemalloc.start()
        response = client.get("/workbench/leads/export.csv", buffered=False)
        lines = sum(chunk.count(b"\n") for chunk in response.iter_encoded())
        _now, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return lines, peak

    _bulk_leads(app, 2_000)
    small_lines, small_peak = peak_of_export()
    _bulk_leads(app, 18_000, start=2_000)
    large_lines, large_peak = peak_of_export()
    assert (small_lines, large_lines) == (2_001, 20_001)
    # ten times the leads, not ten times the memory: what is held is one batch, not the file
    assert large_peak < 2 * small_peak + 1_000_000, (small_peak, large_peak)
