"""The ``leadwheel`` command: serve, migrate, manage sites and sequences, run the demo.

Errors in files or arguments print one clear message and exit non-zero;
they never print a traceback.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from capture.cli.support import LeadwheelGroup, format_option, print_rows, read_document
from capture.cli.support import config_or_exit as _config
from capture.cli.support import database_url as _database_url
from capture.cli.support import session_for as _session
from capture.config import ConfigError


@click.group(cls=LeadwheelGroup)
@click.version_option(package_name="leadwheel")
def main() -> None:
    """Leadwheel: progressive-profiling forms and lead capture."""


# --- database -----------------------------------------------------------------------------------


@main.group()
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    from capture.db.migrate import upgrade

    upgrade(_database_url(), revision)
    click.echo(f"database at {revision}")


@db.command("downgrade")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION (e.g. base)."""
    from capture.db.migrate import downgrade

    downgrade(_database_url(), revision)
    click.echo(f"database at {revision}")


# --- sites --------------------------------------------------------------------------------------


@main.group()
def site() -> None:
    """Sites that embed forms."""


@site.command("create")
@click.argument("name")
@click.option(
    "--origin",
    "origins",
    multiple=True,
    required=True,
    help="Allowed origin, e.g. https://www.example.com (repeatable).",
)
@click.option(
    "--consent",
    "consent_policy",
    type=click.Choice(["required", "not_required"]),
    default="required",
    show_default=True,
    help="required: nothing kept on the device and no behaviour sent before the visitor consents.",
)
def site_create(name: str, origins: tuple[str, ...], consent_policy: str) -> None:
    """Create a site and print its public key (the data-site of the snippet)."""
    from capture.services import utc_now
    from capture.sites.publishing import create_site

    with _session(_database_url()) as session:
        created = create_site(session, name, list(origins), utc_now(), consent_policy=consent_policy)
        key = created.public_key
        allowed = created.allowed_origins
    click.echo(key)
    click.echo(f"allowed origins: {', '.join(allowed)}", err=True)


@site.command("list")
@format_option
def site_list(fmt: str) -> None:
    """List sites with their keys and origins."""
    from sqlalchemy import select

    from capture.db.models import Site

    with _session(_database_url()) as session:
        rows = [
            {"key": row.public_key, "name": row.name, "origins": list(row.allowed_origins), "created": row.created_at}
            for row in session.scalars(select(Site).order_by(Site.id))
        ]
    print_rows(["key", "name", "origins", "created"], rows, fmt, empty="(no sites: leadwheel site create)")


@site.command("identity-secret")
@click.argument("site_key")
@click.option("--rotate", is_flag=True, help="Replace it with a new one; the old one stops working at once.")
def site_identity_secret(site_key: str, rotate: bool) -> None:
    """Print the secret the site's back end signs visitors' e-mail addresses with (user_hash).

    Keep it on the server, like an API token: whoever holds it can vouch for any address on
    this site. See docs/embed.md, "Identifying a visitor".
    """
    import secrets

    from capture.sites.publishing import find_site

    with _session(_database_url()) as session:
        found = find_site(session, site_key)
        if rotate:
            found.identity_secret = secrets.token_hex(32)
        secret = found.identity_secret
    click.echo(secret)
    if rotate:
        click.echo("rotated: user_hash made with the old secret is refused from now on", err=True)


# --- sequences ----------------------------------------------------------------------------------


@main.group()
def sequence() -> None:
    """Question sequences (the knowledge wheel) as YAML or JSON documents."""


def _read_sequence(path: Path) -> Any:
    from profiling.document import DocumentError, loads

    return read_document(path, lambda text: loads(text, path.name), DocumentError, "sequence")


@sequence.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def sequence_validate(file: Path) -> None:
    """Check a sequence file without publishing it: exit 1 with its problems, 0 with any warnings."""
    from profiling.document import DocumentError, check

    parsed, warnings = read_document(file, lambda text: check(text, file.name), DocumentError, "sequence")
    count = sum(1 for _ in parsed.questions())
    click.echo(f"{file}: valid, {len(parsed.stages)} stages, {count} questions, locales {', '.join(parsed.locales)}")
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@sequence.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--form", "slug", required=True, help="The form's slug within the site.")
@click.option("--site", "site_key", required=True, help="The site's public key.")
@click.option("--name", default="", help="The form's display name (default: the sequence name).")
def sequence_import(file: Path, slug: str, site_key: str, name: str) -> None:
    """Publish FILE as the next version of a form's sequence."""
    from capture.services import utc_now
    from capture.sites.publishing import find_site, publish

    parsed = _read_sequence(file)
    with _session(_database_url()) as session:
        result = publish(session, find_site(session, site_key), slug, parsed, utc_now(), name=name)
        number = result.version.version
    if result.created:
        click.echo(f"published {slug} version {number}")
    else:
        click.echo(f"{slug} version {number} already has this content; nothing published")


@sequence.command("export")
@click.option("--form", "slug", required=True)
@click.option("--site", "site_key", required=True)
@click.option("--version", "number", type=int, default=None, help="A published version (default: the live one).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
def sequence_export(slug: str, site_key: str, number: int | None, fmt: str, output: Path | None) -> None:
    """Print (or write) a published sequence version as YAML or JSON."""
    from capture.sites.publishing import find_site, published_sequence, sequence_of
    from profiling.document import dumps

    with _session(_database_url()) as session:
        text = dumps(sequence_of(published_sequence(session, find_site(session, site_key), slug, number)), fmt)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


@sequence.command("stats")
@click.option("--form", "slug", required=True)
@click.option("--site", "site_key", required=True)
def sequence_stats(slug: str, site_key: str) -> None:
    """Answers and "not now" skips per question, with the skip rate."""
    from capture.qualifying.reports import question_stats
    from capture.sites.publishing import find_site

    with _session(_database_url()) as session:
        rows = question_stats(session, find_site(session, site_key), slug)
    click.echo(f"{'question':<28}{'answered':>10}{'skipped':>10}{'skip rate':>11}")
    for row in rows:
        click.echo(f"{row.question_key:<28}{row.answered:>10}{row.skipped:>10}{row.skip_rate:>10.0%}")


# --- serving ------------------------------------------------------------------------------------


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=None,
    help="Request threads per worker [default: 1 on SQLite, 4 on PostgreSQL].",
)
def serve(host: str, port: int, workers: int, threads: int | None) -> None:
    """Serve the API with gunicorn. On SQLite, migrations run first.

    On SQLite each worker serves one request at a time (threads would only
    compete for the GIL); add workers, about one per CPU, to serve more.
    """
    from capture.db.migrate import upgrade
    from capture.web.serving import serve_app

    config = _config()
    if config.database_url.startswith("sqlite"):
        upgrade(config.database_url)
    else:
        _require_current_schema(config.database_url)
    serve_app(f"{host}:{port}", workers=workers, config=config, threads=threads)


def _require_current_schema(url: str) -> None:
    from capture.db.migrate import is_current

    if not is_current(url):
        raise click.ClickException("the database schema is not up to date: run `leadwheel db upgrade` first")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int, help="Port of the form service.")
@click.option("--site-port", default=5001, show_default=True, type=int, help="Port of the demo host page.")
@click.option(
    "--data",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(".leadwheel-demo"),
    show_default=True,
    help="Where the demo keeps its SQLite database and secret key.",
)
def demo(host: str, port: int, site_port: int, data: Path) -> None:
    """Create a demo site with a B2B/B2C form (en, da, nb, ro) and serve it."""
    from capture.demo.runner import run_demo

    try:
        run_demo(host=host, port=port, site_port=site_port, data=data)
    except (OSError, ConfigError) as exc:
        raise click.ClickException(str(exc)) from None


from capture.cli.mail import mail  # noqa: E402
from capture.cli.privacy import maintenance, site_retention  # noqa: E402  (also adds lead export and lead erase)
from capture.cli.reports import report  # noqa: E402
from capture.cli.scoring import accounts, lead, model, routing, token  # noqa: E402  (they join the group defined above)
from capture.cli.webhooks import webhook, worker  # noqa: E402
from capture.workbench.cli import user  # noqa: E402

main.add_command(model)
main.add_command(accounts)
main.add_command(token)
main.add_command(lead)
main.add_command(maintenance)
site.add_command(site_retention)
main.add_command(report)
main.add_command(routing)
main.add_command(webhook)
main.add_command(worker)
main.add_command(mail)
main.add_command(user)

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
