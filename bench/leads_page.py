"""The workbench's Leads list with many leads: server time per page, against the workbench's home page.

Fills a fresh database with ``--leads`` leads (100,000 by default; bulk inserts, as the list does
not care how they came), signs in, and times in-process requests (Flask's test client: server
time, no network) of the first page, a filtered page, a searched page, a page sorted by score and
a page deep in the keyset, each ``--repeat`` times. Prints p50 and p95 per page, and the ratio of
each p95 to the home page's p95 measured in the same run (a page that renders no data at all).

    .venv/bin/python bench/leads_page.py --postgres          # the issue's target: p95 <= 100 ms
    .venv/bin/python bench/leads_page.py --leads 20000       # SQLite, smaller
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from bench.tempdb import temporary_database  # noqa: E402
from capture.config import Config  # noqa: E402
from capture.db.migrate import upgrade  # noqa: E402
from capture.db.models import Lead  # noqa: E402
from capture.leads import profile_doc  # noqa: E402
from capture.sites.publishing import create_site  # noqa: E402
from capture.web.app import create_app  # noqa: E402
from capture.workbench.accounts import create_user  # noqa: E402

PASSWORD = "correct horse battery"
COMPANIES = ("Northwind", "Contoso", "Fabrikam", "Tailspin", "Litware", "Adatum", "Proseware", "Wingtip")


def fill(app: object, leads: int) -> None:
    services = app.extensions["leadwheel"]  # type: ignore[attr-defined]
    now = datetime.now(UTC)
    with services.db.write() as session:
        sites = [create_site(session, f"Site {n}", [f"https://s{n}.example"], now).id for n in range(3)]
        create_user(session, "admin@example.com", PASSWORD, "admin", now)
    batch: list[dict[str, object]] = []
    with services.db.write_connection() as connection:
        for i in range(leads):
            batch.append(
                {
                    "email": f"person{i}@{COMPANIES[i % 8].lower()}.example",
                    "site_id": sites[i % 3],
                    "profile": {
                        "first_name": profile_doc.entry(f"Person{i}", now, 0),
                        "company": profile_doc.entry(COMPANIES[i % 8], now, 0),
                    },
                    "stage": ("subscriber", "engaged", "mql", "sql")[i % 4],
                    "score": float((i * 37) % 100),
                    "last_seen_at": now - timedelta(seconds=i * 7),
                    "created_at": now - timedelta(days=30, seconds=i),
                }
            )
            if len(batch) == 5000:
                connection.execute(insert(Lead), batch)
                batch = []
        if batch:
            connection.execute(insert(Lead), batch)
    if services.db.engine.dialect.name == "postgresql":  # what autovacuum would have done by now
        with services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")


def timings(client: object, url: str, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(url)  # type: ignore[attr-defined]
        out.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    return out


def deep_cursor(client: object, pages: int) -> str:
    """The URL of the page ``pages`` deep, by following "Next page" links."""
    import re

    url = "/workbench/leads/"
    for _ in range(pages):
        page = client.get(url).get_data(as_text=True)  # type: ignore[attr-defined]
        url = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")  # type: ignore[union-attr]
    return url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", action="store_true", help="run on a fresh PostgreSQL database")
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    backend = "postgresql" if args.postgres else "sqlite"
    with tempfile.TemporaryDirectory() as directory, temporary_database(backend, Path(directory)) as url:
        upgrade(url)
        app = create_app(Config(database_url=url, secret_keys=("bench-" + "x" * 32,), ratelimit_enabled=False,
                                extra={"cookie_secure": False}))  # fmt: skip
        started = time.perf_counter()
        fill(app, args.leads)
        print(f"{backend}: {args.leads} leads in {time.perf_counter() - started:.1f} s")
        client = app.test_client()
        page = client.get("/workbench/sign-in").get_data(as_text=True)
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = client.post(
            "/workbench/sign-in", data={"csrf_token": token, "email": "admin@example.com", "password": PASSWORD}
        )
        assert signed.status_code == 302
        pages = {
            "home (baseline)": "/workbench/",
            "first page": "/workbench/leads/",
            "stage + score band": "/workbench/leads/?stage=mql&band=50-74",
            "site, by score": "/workbench/leads/?site=2&sort=score",
            "search 'contoso'": "/workbench/leads/?q=contoso",
            "search, one match": "/workbench/leads/?q=person99999%40",
            "40 pages deep": deep_cursor(client, 40),
        }
        timings(client, "/workbench/leads/", 3)  # warm up
        results = {name: timings(client, url, args.repeat) for name, url in pages.items()}
        base = statistics.quantiles(results["home (baseline)"], n=20)[18]
        print(f"{'page':<22}{'p50 ms':>9}{'p95 ms':>9}{'p95 × home':>12}")
        for name, measured in results.items():
            p50 = statistics.median(measured)
            p95 = statistics.quantiles(measured, n=20)[18]
            print(f"{name:<22}{p50:>9.1f}{p95:>9.1f}{p95 / base:>12.1f}")
        app.extensions["leadwheel"].db.dispose()


if __name__ == "__main__":
    main()
