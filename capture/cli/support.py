"""What every ``leadwheel`` command needs: settings, the database, and errors as one clear line."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import click
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from capture.config import Config, ConfigError
from capture.db.engine import Database
from capture.sites.publishing import PublishingError

T = TypeVar("T")

#: PostgreSQL's SQLSTATEs for a table or column that is not there
_UNDEFINED = frozenset({"42P01", "42703"})
NO_SCHEMA = "The database at DATABASE_URL has no Leadwheel schema, or an older one: run `leadwheel db upgrade` first."


class LeadwheelGroup(click.Group):
    """The command group: a database without the schema (or behind it) is one line saying what to run."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except DBAPIError as exc:
            if schema_missing(exc):
                raise click.ClickException(NO_SCHEMA) from None
            raise


def schema_missing(exc: DBAPIError) -> bool:
    """Whether the statement failed on a table or column the migrations would have made."""
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in _UNDEFINED:
        return True
    message = str(exc.orig)
    return message.startswith(("no such table", "no such column")) or "has no column named" in message


def config_or_exit(demo: bool = False) -> Config:
    try:
        return Config.from_env(demo=demo)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def database_url() -> str:
    return os.environ.get("DATABASE_URL") or Config().database_url


@contextmanager
def session_for(url: str) -> Iterator[Session]:
    """A write session; an operator's mistake (a PublishingError) becomes a one-line error."""
    db = Database(url)
    try:
        with db.write() as session:
            yield session
    except PublishingError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        db.dispose()


def read_document(path: Path, parse: Callable[[str], T], invalid: type[ValueError], what: str) -> T:
    """Read and parse a YAML/JSON document file; every problem it has becomes one clear error.

    ``invalid`` is the parser's error type, which carries a ``problems`` list.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {path}: {exc}") from None
    try:
        return parse(text)
    except invalid as exc:
        lines = "\n".join(f"  - {problem}" for problem in getattr(exc, "problems", [str(exc)]))
        raise click.ClickException(f"{path} is not a valid {what}:\n{lines}") from None


#: ``--format table|json`` for the list commands
format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
    help="A headed table for people, or JSON (a list of objects) for scripts.",
)


def print_rows(columns: list[str], rows: Sequence[Mapping[str, object]], fmt: str, *, empty: str) -> None:
    """``rows`` (each a dict by column name) as a headed table or as JSON.

    Table cells are escaped: names, URLs and errors can hold what someone else typed, and a
    terminal must not run it. JSON keeps the values as they are (times in ISO 8601).
    """
    import json
    from datetime import datetime

    from capture.handoff.delivery import printable

    if fmt == "json":
        plain = [{name: v.isoformat() if isinstance(v, datetime) else v for name, v in row.items()} for row in rows]
        click.echo(json.dumps(plain, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(empty, err=True)
        return
    cells = [[_cell(row.get(name), printable) for name in columns] for row in rows]
    widths = [max(len(name), *(len(line[i]) for line in cells)) for i, name in enumerate(columns)]
    click.echo("  ".join(name.upper().replace("_", " ").ljust(width) for name, width in zip(columns, widths)).rstrip())
    for line in cells:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip())


def _cell(value: object, printable: Callable[[str, int], str]) -> str:
    from datetime import datetime

    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return printable(",".join(str(v) for v in value), 120)
    return printable(str(value), 120)
