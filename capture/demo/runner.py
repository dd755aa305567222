"""``leadwheel demo``: a site, the B2B/B2C example form, the shipped scoring model, and a server, on SQLite.

Everything lives in one folder (default ``.leadwheel-demo/``): the database,
a random secret key made on first run, the demo site's key, and a note of the
documents the demo itself published (``shipped.json``), so a second run keeps
the same visitors, answers and whatever the marketer published since.

On every start the demo publishes the shipped sequence (``docs/examples/demo.yaml``)
and the shipped default scoring model only where that changes nothing a person chose:

- when the form or the installation has nothing live yet, or
- when the live version is still the one the demo published last and the shipped
  document has changed since (a newer release), so an untouched demo follows the release.

A version the marketer published (``leadwheel sequence import``, ``leadwheel model
publish``) is never replaced. Whenever the demo publishes a scoring model it
re-scores every lead with it, as ``leadwheel model publish`` does, so no lead is
left on a stage the live model would not give it.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from capture.config import Config
from capture.db.engine import Database
from capture.db.migrate import upgrade
from capture.db.models import Form, ScoringModelVersion, SequenceVersion, Site
from capture.qualifying.rescoring import EVERY_LEAD, rescore, scope_of
from capture.qualifying.scores import LiveModel
from capture.services import utc_now
from capture.sites.catalog import live_model_query
from capture.sites.publishing import checksum, create_site, publish, publish_model
from profiling.document import loads
from profiling.sequence import Sequence
from scoring.document import default_model, model_checksum
from scoring.model import ScoringModel

DEMO_SEQUENCE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "demo.yaml"
DEMO_FORM = "wheel"
#: In the data folder: checksums of the sequence and the model the demo published last.
SHIPPED_NOTE = "shipped.json"
#: In the data folder: the demo's mails, as .eml files (it has no mail server).
MAIL_FOLDER = "mail"
log = logging.getLogger(__name__)


def shipped_sequence() -> Sequence:
    """The demo's form: the example that walks both the B2B and the B2C path."""
    return loads(DEMO_SEQUENCE.read_text(encoding="utf-8"), DEMO_SEQUENCE.name)


def shipped_model() -> ScoringModel:
    """The demo's scoring model: the one the package ships as the installation default."""
    return default_model()


@dataclass(frozen=True)
class Live:
    """What is live now: its checksum and version number."""

    checksum: str
    version: int


def ships_over(live: Live | None, shipped: str, last_shipped: str | None) -> bool:
    """Whether the demo may publish the shipped document (checksum ``shipped``) over ``live``.

    Yes when nothing is live, or when the live version is the one the demo
    published last (``last_shipped``) and the shipped document differs from it.
    A demo folder made before the note existed has no ``last_shipped``: its
    version 1 was the demo's own (a marketer's first publish makes version 2).
    """
    if live is None:
        return True
    if live.checksum == shipped:
        return False
    if last_shipped is None:
        return live.version == 1
    return live.checksum == last_shipped


def _live_sequence(session: Session, site: Site) -> Live | None:
    row = session.execute(
        select(SequenceVersion.checksum, SequenceVersion.version)
        .join(Form, Form.id == SequenceVersion.form_id)
        .where(Form.site_id == site.id, Form.slug == DEMO_FORM)
        .order_by(SequenceVersion.version.desc())
        .limit(1)
    ).first()
    return Live(row.checksum, row.version) if row is not None else None


def _live_model(session: Session, site: Site) -> Live | None:
    """The model that scores the demo site's leads: a model a marketer published for the site, else the default."""
    applies = session.execute(live_model_query(site.id)).first()
    if applies is None:
        return None
    row = session.get_one(ScoringModelVersion, applies.id)
    return Live(row.checksum, row.version)


def _read_note(data: Path) -> dict[str, str]:
    try:
        note = json.loads((data / SHIPPED_NOTE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {key: value for key, value in note.items() if isinstance(value, str)} if isinstance(note, dict) else {}


def _write_note(data: Path, note: dict[str, str]) -> None:
    (data / SHIPPED_NOTE).write_text(json.dumps(note, indent=2, sort_keys=True) + "\n", encoding="utf-8")


@dataclass
class _Shipping:
    """One start's decisions: what the demo publishes, and its note of what it published last."""

    note: dict[str, str]
    say: Callable[[str], None]

    def may_publish(self, kind: str, what: str, live: Live | None, shipped: str) -> bool:
        """Whether to publish the shipped ``kind``; tells why a marketer's version stays live."""
        if ships_over(live, shipped, self.note.get(kind)):
            self.note[kind] = shipped
            return True
        if live is not None and live.checksum == shipped:
            self.note[kind] = shipped  # the shipped content is live, whoever published it
        elif live is not None:
            self.say(f"kept {what} version {live.version}: it was published after the demo's own")
        return False


def prepare_demo(
    data: Path, host: str, site_port: int, say: Callable[[str], None] = lambda _: None
) -> tuple[Config, str]:
    """Create (or reuse) the demo database, key and site; publish what the demo ships where it may.

    Returns (config, site key). ``say`` hears, in words, what was published or kept.
    """
    data.mkdir(parents=True, exist_ok=True)
    key_file = data / "secret-key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(48), encoding="utf-8")
        key_file.chmod(0o600)
    url = f"sqlite:///{(data / 'leadwheel.db').resolve()}"
    config = Config(
        database_url=url,
        secret_keys=(key_file.read_text(encoding="utf-8").strip(),),
        smtp_url=demo_mail_url(data),
        mail_from="Northwind demo <demo@localhost>",
        extra={"cookie_secure": False},  # the demo serves plain http: a Secure cookie would never come back
    )
    upgrade(url)
    origins = sorted({f"http://{host}:{site_port}", f"http://localhost:{site_port}", f"http://127.0.0.1:{site_port}"})
    noted = _read_note(data)
    shipping = _Shipping(note=dict(noted), say=say)
    sequence, model = shipped_sequence(), shipped_model()
    republished: LiveModel | None = None
    scope = EVERY_LEAD
    db = Database(url)
    try:
        with db.write() as session:
            site = session.scalar(select(Site).where(Site.name == "Northwind demo"))
            if site is None:
                # the demo's host page has no consent banner: it tracks as a site whose own basis covers it
                site = create_site(session, "Northwind demo", origins, utc_now(), consent_policy="not_required")
            else:
                site.allowed_origins = sorted(set(site.allowed_origins) | set(origins))
            site_key = site.public_key
            form = f"form '{DEMO_FORM}'"
            if shipping.may_publish("sequence", form, _live_sequence(session, site), checksum(sequence)):
                version = publish(session, site, DEMO_FORM, sequence, utc_now()).version.version
                say(f"published the example sequence as {form} version {version}")
            if shipping.may_publish("model", "scoring model", _live_model(session, site), model_checksum(model)):
                row = publish_model(session, model, utc_now()).version
                scope = scope_of(session, None)
                republished = LiveModel(id=row.id, version=row.version, model=model)
                say(f"published the shipped scoring model as version {row.version}")
        if republished is not None:
            # After the commit: re-scoring writes in batches of its own, as `leadwheel model publish` does.
            report = rescore(db, republished, utc_now(), scope=scope)
            if report.leads:
                leads = "1 lead" if report.leads == 1 else f"{report.leads} leads"
                say(f"re-scored {leads} with it; {report.moved} changed stage")
    finally:
        db.dispose()
    if shipping.note != noted:
        _write_note(data, shipping.note)
    return config, site_key


def demo_mail_url(data: Path) -> str:
    """The demo has no mail server: its mails are written as .eml files into ``data/mail``."""
    return (data / MAIL_FOLDER).resolve().as_uri()


def start_mail_sender(config: Config, every: float = 1.0) -> threading.Event:
    """Send the demo's queued mails (into its mail folder) from a background thread; set the event to stop.

    The demo runs no worker: this thread is its mail step, started in the serving process.
    """
    from capture.mail import send_due

    stop = threading.Event()

    def loop() -> None:
        db = Database(config.database_url)
        try:
            while not stop.wait(every):
                try:
                    send_due(db, config, utc_now)
                except Exception as exc:  # the demo goes on; the next round tries again
                    log.error("demo mail round failed: %s", type(exc).__name__)
        finally:
            db.dispose()

    threading.Thread(target=loop, name="demo-mail", daemon=True).start()
    return stop


def run_demo(*, host: str, port: int, site_port: int, data: Path) -> None:
    from capture.demo.host_site import create_site as create_host_site
    from capture.demo.host_site import snippet
    from capture.web.app import create_app
    from capture.web.serving import ByPort, serve_app

    config, site_key = prepare_demo(data, host, site_port, say=lambda line: print(line, flush=True))
    from capture.workbench.demo import ensure_demo_admin

    admin, admin_password = ensure_demo_admin(config.database_url, data)
    from capture.demo.synthetic import seed_leads

    made = seed_leads(config, site_key, DEMO_FORM)
    if made:
        print(f"made {made} synthetic leads through the public API, for the workbench to show", flush=True)
    forms_host = f"http://{host}:{port}"
    config = replace(config, public_url=forms_host)
    api = f"{forms_host}/api/v1/sites/{site_key}/forms/{DEMO_FORM}"
    mail_folder = data / MAIL_FOLDER

    def both_sites() -> ByPort:
        start_mail_sender(config)  # in the serving process (after gunicorn's fork), one per demo worker
        return ByPort(create_app(config), {site_port: create_host_site(forms_host, site_key, DEMO_FORM)})

    print(
        f"""
Leadwheel demo
  the host site:  http://{host}:{site_port}/   <- open this: Northwind's pages embed the form
  form service:   {forms_host}   (OpenAPI: {forms_host}/api/v1/openapi.json)
  site key:       {site_key}
  form:           {DEMO_FORM}
  workbench:      {forms_host}/workbench/   sign in as {admin} with the password {admin_password}

The snippet, ready to paste into a page of an allowed origin:

{snippet(forms_host, site_key, DEMO_FORM)}

Or talk to the API yourself (as a Danish visitor):
  curl -s -X POST {api}/ask -H 'Content-Type: text/plain' -d '{{"locale": "da"}}'

The form is docs/examples/demo.yaml and leads are scored with the shipped default model until
you publish your own (a restart keeps what you published):
  DATABASE_URL={config.database_url} leadwheel sequence import FILE --form {DEMO_FORM} --site {site_key}
  DATABASE_URL={config.database_url} leadwheel model publish FILE
Once you have given an e-mail, see your stage, score and why (in another terminal):
  DATABASE_URL={config.database_url} leadwheel lead show YOUR@EMAIL
Mail the demo sends (confirmation links) is not sent: each is written as an .eml file into
  {mail_folder.resolve()}/
""",
        flush=True,
    )
    serve_app([f"{host}:{port}", f"{host}:{site_port}"], workers=1, threads=4, config=config, factory=both_sites)
