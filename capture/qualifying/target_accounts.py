"""Target accounts from a CSV file: the domains of the companies sales wants, into a model's domain list.

Marketers export such lists from a CRM or a spreadsheet, so the file is read
leniently: a ``domain`` column (any other columns are ignored) or, without that
header, one entry per line; an entry may be a domain, an e-mail address or a
URL, each reduced to its domain (``https://www.acme.com/about`` → ``acme.com``).
Rows that name no domain are reported with their line, never guessed at.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from scoring.document import DOMAIN_PATTERN, model_document, parse_model
from scoring.model import BUILT_IN_LISTS, ScoringModel
from scoring.schema import MAX_DOMAINS

#: the list the shipped default model's target-account rule reads
TARGET_ACCOUNTS = "target_accounts"
#: header names taken as the domain column (compared lower-cased)
DOMAIN_COLUMNS = ("domain", "website", "url", "email", "e-mail")


@dataclass(frozen=True)
class Accounts:
    """The domains a file names, in file order without repeats, and what was wrong with the other rows."""

    domains: tuple[str, ...]
    #: (line number, why) per row that names no domain
    problems: tuple[tuple[int, str], ...]


def domain_of(entry: str) -> str | None:
    """The domain an entry names: a domain, an e-mail address or a URL; None if it names none."""
    text = entry.strip().strip('"').strip()
    if not text:
        return None
    if "@" in text and "://" not in text:
        text = text.rpartition("@")[2]
    elif "://" in text or "/" in text:
        try:
            host = urlsplit(text if "://" in text else f"https://{text}").hostname
        except ValueError:
            return None
        text = host or ""
    domain = text.lower().rstrip(".")
    if domain.startswith("www."):
        domain = domain[4:]
    return domain if DOMAIN_PATTERN.match(domain) else None


def read_accounts(text: str) -> Accounts:
    """Read a CSV (or a plain list, one per line) of target accounts."""
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t") if sample.strip() else csv.excel
    except csv.Error:
        dialect = csv.excel  # one column: nothing to sniff
    rows = list(csv.reader(io.StringIO(text), dialect))
    column, start = 0, 0
    header = [cell.strip().lower() for cell in rows[0]] if rows else []
    named = next((name for name in DOMAIN_COLUMNS if name in header), None)
    if named is not None:
        column, start = header.index(named), 1
    domains: dict[str, None] = {}
    problems: list[tuple[int, str]] = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not any(cell.strip() for cell in row):
            continue
        entry = row[column] if column < len(row) else ""
        domain = domain_of(entry)
        if domain is None:
            problems.append((number, f"{entry.strip()!r} is not a domain, e-mail address or URL"))
        else:
            domains.setdefault(domain)
    if len(domains) > MAX_DOMAINS:
        problems.append((0, f"{len(domains)} domains: a list holds at most {MAX_DOMAINS}"))
    return Accounts(tuple(domains), tuple(problems))


def with_domain_list(model: ScoringModel, name: str, domains: tuple[str, ...]) -> ScoringModel:
    """``model`` with its domain list ``name`` replaced by ``domains`` (added if it had none)."""
    if name in BUILT_IN_LISTS:
        raise ValueError(f"'{name}' is a built-in list; import into a list of your own")
    document = model_document(model)
    document["domains"] = {**document.get("domains", {}), name: list(domains)}
    return parse_model(document)


def lists_read(model: ScoringModel) -> frozenset[str]:
    """The domain lists some rule of ``model`` reads."""
    criteria = [rule.criterion for rule in model.fit] + [rule.criterion for rule in model.disqualifiers]
    return frozenset(c.domain_list for c in criteria if c.domain_list is not None)
