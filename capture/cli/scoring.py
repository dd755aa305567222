"""``leadwheel model|token|lead``: scoring models, API tokens, and why a lead scores what it does."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from capture.cli.support import database_url, format_option, print_rows, read_document, session_for
from capture.sites.api_tokens import SCOPES


@click.group()
def model() -> None:
    """Scoring models (fit + engagement rules, thresholds) as YAML or JSON documents."""


def _read_model(path: Path | None, default: bool) -> Any:
    from scoring.document import ModelError, default_model, load_model

    if default == (path is not None):
        raise click.UsageError("give a FILE or --default (the built-in B2B model), not both or neither")
    if path is None:
        return default_model()
    return read_document(path, load_model, ModelError, "scoring model")


@model.command("validate")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def model_validate(file: Path) -> None:
    """Check a scoring model file without publishing it."""
    parsed = _read_model(file, False)
    click.echo(f"{file}: valid, event types: {', '.join(sorted(parsed.event_types)) or 'none'}")


_SITE_OPTION = click.option(
    "--site",
    "site_key",
    default=None,
    help="A site's public key: the model scores only that site's leads (default: every lead whose site has none).",
)


@model.command("publish")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), required=False)
@click.option("--default", "default", is_flag=True, help="Publish the built-in B2B model (from the seed articles).")
@_SITE_OPTION
@click.option("--dry-run", is_flag=True, help="Only report how many leads would change stage.")
@click.option("--no-rescore", is_flag=True, help="Publish now, re-score later with `leadwheel model rescore`.")
def model_publish(file: Path | None, default: bool, site_key: str | None, dry_run: bool, no_rescore: bool) -> None:
    """Publish FILE as the next scoring model version (for one site with --site), then re-score the leads it
    applies to."""
    parsed = _read_model(file, default)
    publish_and_rescore(parsed, site_key, dry_run=dry_run, no_rescore=no_rescore)


def publish_and_rescore(parsed: Any, site_key: str | None, *, dry_run: bool = False, no_rescore: bool = False) -> None:
    """Publish a model for a site (or the installation) and re-score the leads it applies to, or with
    ``dry_run`` only count the leads it would move."""
    from capture.qualifying.rescoring import scope_of
    from capture.qualifying.scores import LiveModel
    from capture.services import utc_now
    from capture.sites.publishing import find_site, publish_model

    with session_for(database_url()) as session:
        site = find_site(session, site_key) if site_key is not None else None
        scope = scope_of(session, site.id if site is not None else None)
        if dry_run:
            live = LiveModel(id=0, version=0, model=parsed)
        else:
            published = publish_model(session, parsed, utc_now(), site)
            live = LiveModel(id=published.version.id, version=published.version.version, model=parsed)
    if dry_run:
        _rescore(live, scope, dry_run=True)
        return
    if not published.created:
        click.echo(f"scoring model version {live.version} already has this content; nothing published")
        return
    whose = f" for site {site_key}" if site_key is not None else ""
    click.echo(f"published scoring model version {live.version}{whose}")
    if not no_rescore:
        _rescore(live, scope)


@model.command("rescore")
def model_rescore() -> None:
    """Re-score every lead with its live model (after --no-rescore, or to finish an interrupted run)."""
    for scope, live in _live_models():
        _rescore(live, scope)


@model.command("refresh")
def model_refresh() -> None:
    """Let time work: re-evaluate kept scores as of now, so decay moves stages back. Run it hourly."""
    for scope, live in _live_models():
        _rescore(live, scope, from_state=True)


@model.command("export")
@click.option("--version", "number", type=int, default=None, help="A published version (default: the live one).")
@click.option("--format", "fmt", type=click.Choice(["yaml", "json"]), default="yaml")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None)
@_SITE_OPTION
def model_export(number: int | None, fmt: str, output: Path | None, site_key: str | None) -> None:
    """Print (or write) a published scoring model version as YAML or JSON (default: the live one, of a site
    with --site)."""
    from capture.sites.publishing import find_site, published_model
    from scoring.document import dump_model, parse_model

    with session_for(database_url()) as session:
        site = find_site(session, site_key) if site_key is not None else None
        document = published_model(session, number, site).document
        text = dump_model(parse_model(document), fmt)  # type: ignore[arg-type]
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)


def _live_models() -> Any:
    from capture.qualifying.rescoring import live_models
    from capture.sites.publishing import PublishingError

    with session_for(database_url()) as session:
        models = live_models(session)
    if not models:
        raise PublishingError(
            "no scoring model is published yet: `leadwheel model publish --default` publishes the built-in B2B one"
        )
    return models


def _rescore(live: Any, scope: Any, *, dry_run: bool = False, from_state: bool = False) -> None:
    from capture.db.engine import Database
    from capture.qualifying.rescoring import count_leads, rescore
    from capture.services import utc_now

    db = Database(database_url())
    try:
        total = count_leads(db, live, from_state=from_state, scope=scope)
        label = "checking" if dry_run else "re-scoring"
        bar: Any
        with click.progressbar(length=total, label=f"{label} {total} leads", file=sys.stderr) as bar:
            report = rescore(
                db, live, utc_now(), scope=scope, dry_run=dry_run, from_state=from_state, progress=bar.update
            )
    finally:
        db.dispose()
    verb = "would change" if dry_run else "changed"
    whose = f" ({scope.describe()})" if scope.condition() is not None else ""
    click.echo(f"{report.leads} leads scored{whose}; {report.moved} {verb} stage")
    for (before, after), leads in sorted(report.moves.items(), key=lambda item: -item[1]):
        click.echo(f"  {before or 'unscored':>10} → {after:<10} {leads}")


@click.group()
def accounts() -> None:
    """Target accounts: the companies sales wants, as a domain list of the scoring model."""


@accounts.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@_SITE_OPTION
@click.option("--list", "list_name", default="target_accounts", show_default=True, help="The model's domain list.")
@click.option("--dry-run", is_flag=True, help="Only report the domains and how many leads would change stage.")
def accounts_import(file: Path, site_key: str | None, list_name: str, dry_run: bool) -> None:
    """Replace a domain list of the live model with the domains in FILE.csv (a `domain` column, or one domain,
    e-mail address or URL per line), publish that as a new version and re-score the leads it applies to.

    With --site the new version is that site's own model (built on the one that scores its leads now)."""
    from capture.qualifying.target_accounts import lists_read, read_accounts, with_domain_list
    from capture.sites.publishing import find_site, published_model
    from scoring.document import ModelError, parse_model

    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {file}: {exc}") from None
    found = read_accounts(text)
    for line, problem in found.problems:
        click.echo(f"{file}:{line}: {problem}" if line else f"{file}: {problem}", err=True)
    if not found.domains:
        raise click.ClickException(f"{file} names no domain: nothing imported")
    with session_for(database_url()) as session:
        site = find_site(session, site_key) if site_key is not None else None
        live = parse_model(published_model(session, site=site).document)
    try:
        updated = with_domain_list(live, list_name, found.domains)
    except (ModelError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    skipped = f", {len(found.problems)} rows skipped" if found.problems else ""
    click.echo(f"{len(found.domains)} domains for the list {list_name}{skipped}")
    if list_name not in lists_read(updated):
        click.echo(f"warning: no rule of the model reads the list {list_name}: no score changes", err=True)
    publish_and_rescore(updated, site_key, dry_run=dry_run)


@click.group()
def token() -> None:
    """API tokens for back-end systems (an ESP's events, a CRM's outcomes)."""


@token.command("create")
@click.option("--site", "site_key", required=True, help="The site's public key.")
@click.option("--name", required=True, help="What will use it, e.g. 'Mailchimp'.")
@click.option("--scope", "scopes", multiple=True, required=True, type=click.Choice(SCOPES))
def token_create(site_key: str, name: str, scopes: tuple[str, ...]) -> None:
    """Create a token and print it once; only its hash is kept."""
    from capture.services import utc_now
    from capture.sites.api_tokens import create_token
    from capture.sites.publishing import find_site

    with session_for(database_url()) as session:
        row, secret = create_token(session, find_site(session, site_key), name, list(scopes), utc_now())
        token_id = row.id
    click.echo(secret)
    click.echo(f"token {token_id} ({', '.join(sorted(set(scopes)))}): keep it now, it is not shown again", err=True)


@token.command("list")
@click.option("--site", "site_key", required=True)
@format_option
def token_list(site_key: str, fmt: str) -> None:
    """List a site's tokens (their first characters only)."""
    from sqlalchemy import select

    from capture.db.models import ApiToken
    from capture.sites.publishing import find_site

    with session_for(database_url()) as session:
        site = find_site(session, site_key)
        rows = [
            {
                "id": row.id,
                "starts": f"{row.prefix}…",
                "name": row.name,
                "scopes": list(row.scopes),
                "state": f"revoked {row.revoked_at:%Y-%m-%d}" if row.revoked_at else "active",
            }
            for row in session.scalars(select(ApiToken).where(ApiToken.site_id == site.id).order_by(ApiToken.id))
        ]
    print_rows(["id", "starts", "name", "scopes", "state"], rows, fmt, empty="(no tokens: leadwheel token create)")


@token.command("revoke")
@click.argument("token_id", type=int)
def token_revoke(token_id: int) -> None:
    """Revoke a token at once."""
    from capture.db.models import ApiToken
    from capture.services import utc_now
    from capture.sites.publishing import PublishingError

    with session_for(database_url()) as session:
        row = session.get(ApiToken, token_id)
        if row is None:
            raise PublishingError(f"no token has the id {token_id}")
        row.revoked_at = row.revoked_at or utc_now()
    click.echo(f"token {token_id} revoked")


@click.group()
def lead() -> None:
    """Leads: their score, stage and why."""


@lead.command("show")
@click.argument("who")
def lead_show(who: str) -> None:
    """Show a lead (by e-mail or id): stage, scores, the rules behind them, recent changes."""
    from capture.leads.describe import describe_lead

    with session_for(database_url()) as session:
        click.echo(describe_lead(session, who), nl=False)


@click.group()
def routing() -> None:
    """Routing rules: who in sales gets a handed-off lead (account owners, rules, teams in turn)."""


@routing.command("publish")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
def routing_publish(file: Path) -> None:
    """Publish FILE as the live routing; leads already handed off keep their owner."""
    from sqlalchemy import func, select

    from capture.db.models import RoutingVersion
    from capture.services import utc_now
    from scoring.routing import RoutingError, load_routing, routing_document

    parsed = read_document(file, load_routing, RoutingError, "routing document")
    with session_for(database_url()) as session:
        number = (session.scalar(select(func.max(RoutingVersion.version))) or 0) + 1
        session.add(RoutingVersion(version=number, document=routing_document(parsed), published_at=utc_now()))
    click.echo(f"published routing version {number}")


@routing.command("export")
def routing_export() -> None:
    """Print the live routing document."""
    from sqlalchemy import select

    from capture.db.models import RoutingVersion
    from capture.sites.publishing import PublishingError
    from scoring.routing import dump_routing, parse_routing

    with session_for(database_url()) as session:
        document = session.scalar(select(RoutingVersion.document).order_by(RoutingVersion.version.desc()).limit(1))
        if document is None:
            raise PublishingError("no routing is published yet: `leadwheel routing publish FILE`")
        click.echo(dump_routing(parse_routing(document)), nl=False)
