"""``leadwheel demo``: a site, a bilingual-and-then-some B2B/B2C form, and a server, on SQLite.

Everything lives in one folder (default ``.leadwheel-demo/``): the database,
a random secret key made on first run, and the demo site's key, so a second
run keeps the same visitors and answers.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from sqlalchemy import select

from capture.config import Config
from capture.db import Database
from capture.migrate import upgrade
from capture.models import Site
from capture.publishing import create_site, publish, publish_model
from capture.services import utc_now
from profiling.document import loads
from scoring.document import load_model

DEMO_SEQUENCE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "demo.yaml"
DEMO_SCORING = DEMO_SEQUENCE.parent / "scoring" / "demo.yaml"
DEMO_FORM = "wheel"


def prepare_demo(data: Path, host: str, site_port: int) -> tuple[Config, str]:
    """Create (or reuse) the demo database, key and site; publish the demo sequence. Returns (config, site key)."""
    data.mkdir(parents=True, exist_ok=True)
    key_file = data / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        key_file.chmod(0o600)
    url = f"sqlite:///{(data / 'leadwheel.db').resolve()}"
    config = Config(database_url=url, secret_keys=(key_file.read_text(encoding="utf-8").strip(),))
    upgrade(url)
    origins = sorted({f"http://{host}:{site_port}", f"http://localhost:{site_port}", f"http://127.0.0.1:{site_port}"})
    db = Database(url)
    try:
        with db.write() as session:
            site = session.scalar(select(Site).where(Site.name == "Northwind demo"))
            if site is None:
                site = create_site(session, "Northwind demo", origins, utc_now())
            else:
                site.allowed_origins = sorted(set(site.allowed_origins) | set(origins))
            publish(session, site, DEMO_FORM, loads(DEMO_SEQUENCE.read_text(encoding="utf-8")), utc_now())
            publish_model(session, load_model(DEMO_SCORING.read_text(encoding="utf-8")), utc_now())
            site_key = site.public_key
    finally:
        db.dispose()
    return config, site_key


def run_demo(*, host: str, port: int, site_port: int, data: Path) -> None:
    from capture.app import create_app
    from capture.demo_site import create_site as create_host_site
    from capture.demo_site import snippet
    from capture.serving import ByPort, serve_app

    config, site_key = prepare_demo(data, host, site_port)
    forms_host = f"http://{host}:{port}"
    api = f"{forms_host}/api/v1/sites/{site_key}/forms/{DEMO_FORM}"

    def both_sites() -> ByPort:
        return ByPort(create_app(config), {site_port: create_host_site(forms_host, site_key, DEMO_FORM)})

    print(
        f"""
Leadwheel demo
  the host site:  http://{host}:{site_port}/   <- open this: Northwind's pages embed the form
  form service:   {forms_host}   (OpenAPI: {forms_host}/api/v1/openapi.json)
  site key:       {site_key}
  form:           {DEMO_FORM}

The snippet, ready to paste into a page of an allowed origin:

{snippet(forms_host, site_key, DEMO_FORM)}

Or talk to the API yourself (as a Danish visitor):
  curl -s -X POST {api}/ask -H 'Content-Type: text/plain' -d '{{"locale": "da"}}'

Each page view is scored with docs/examples/scoring/demo.yaml. Once you have given an e-mail,
see your stage, score and why (in another terminal):
  DATABASE_URL={config.database_url} leadwheel lead show YOUR@EMAIL
""",
        flush=True,
    )
    serve_app([f"{host}:{port}", f"{host}:{site_port}"], workers=1, threads=4, config=config, factory=both_sites)
