"""What marketers and operators change: sites, forms, published sequence and scoring model versions."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from capture.db.models import Form, ScoringModelVersion, SequenceVersion, Site
from capture.sites.catalog import live_model_query
from profiling.document import KEY_PATTERN, dump, load
from profiling.sequence import Sequence
from scoring.document import checksum as model_checksum
from scoring.document import model_document
from scoring.model import ScoringModel


class PublishingError(ValueError):
    """An operator's request that cannot be carried out; the message says why."""


def normalise_origin(raw: str) -> str:
    """``https://Example.com:443/path`` → ``https://example.com``: what browsers send as Origin."""
    parts = urlsplit(raw.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PublishingError(f"'{raw}' is not an origin such as https://www.example.com")
    if parts.username or parts.password:
        raise PublishingError(f"'{raw}' must not contain a user name or password")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    try:
        port = parts.port
    except ValueError as exc:
        raise PublishingError(f"'{raw}' has an invalid port") from exc
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port and port != default_port else "")


def create_site(
    session: Session, name: str, origins: list[str], now: datetime, consent_policy: str = "required"
) -> Site:
    """A new site; ``consent_policy`` "required" (the default: EU sites need it) or "not_required"."""
    name = name.strip()
    if not name or len(name) > 200:
        raise PublishingError("a site needs a name of 1 to 200 characters")
    if not origins:
        raise PublishingError("a site needs at least one allowed origin (--origin https://www.example.com)")
    site = Site(
        name=name,
        public_key="site_" + secrets.token_urlsafe(18),
        allowed_origins=sorted({normalise_origin(origin) for origin in origins}),
        identity_secret=secrets.token_hex(32),
        consent_policy=consent_policy,
        created_at=now,
    )
    session.add(site)
    session.flush()
    return site


def find_site(session: Session, public_key: str) -> Site:
    site = session.scalar(select(Site).where(Site.public_key == public_key))
    if site is None:
        raise PublishingError(f"no site has the key '{public_key}'")
    return site


def checksum(sequence: Sequence) -> str:
    canonical = json.dumps(dump(sequence), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Published:
    form: Form
    version: SequenceVersion
    #: False when the document equals the live version, so nothing new was published
    created: bool


def publish(
    session: Session,
    site: Site,
    slug: str,
    sequence: Sequence,
    now: datetime,
    name: str = "",
    published_by: str | None = None,
) -> Published:
    """Publish ``sequence`` as the next immutable version of the site's form ``slug``.

    The form is created on first publish. Publishing the same document again is
    a no-op, so importing a file from git twice does not churn versions.
    """
    if not KEY_PATTERN.match(slug.replace("-", "_")):
        raise PublishingError("a form slug is lower-case letters, digits, - and _, starting with a letter")
    form = session.scalar(select(Form).where(Form.site_id == site.id, Form.slug == slug).with_for_update())
    if form is None:
        form = Form(site_id=site.id, slug=slug, name=name or sequence.name, created_at=now)
        session.add(form)
        session.flush()
    digest = checksum(sequence)
    live = session.scalar(
        select(SequenceVersion).where(SequenceVersion.form_id == form.id).order_by(SequenceVersion.version.desc())
    )
    if live is not None and live.checksum == digest:
        return Published(form=form, version=live, created=False)
    number = session.scalar(select(func.max(SequenceVersion.version)).where(SequenceVersion.form_id == form.id)) or 0
    version = SequenceVersion(
        form_id=form.id,
        version=number + 1,
        document=dump(sequence),
        checksum=digest,
        published_at=now,
        published_by=published_by,
    )
    session.add(version)
    session.flush()
    return Published(form=form, version=version, created=True)


def published_sequence(session: Session, site: Site, slug: str, version: int | None = None) -> SequenceVersion:
    """A published version of a form (the live one unless ``version`` is given)."""
    query = (
        select(SequenceVersion)
        .join(Form, Form.id == SequenceVersion.form_id)
        .where(Form.site_id == site.id, Form.slug == slug)
    )
    if version is not None:
        query = query.where(SequenceVersion.version == version)
    found = session.scalar(query.order_by(SequenceVersion.version.desc()).limit(1))
    if found is None:
        raise PublishingError(f"the site has no published form '{slug}'" + (f" version {version}" if version else ""))
    return found


def sequence_of(version: SequenceVersion) -> Sequence:
    return load(version.document)


@dataclass(frozen=True)
class PublishedModel:
    version: ScoringModelVersion
    #: False when the document equals the live version, so nothing new was published
    created: bool


def publish_model(session: Session, model: ScoringModel, now: datetime, site: Site | None = None) -> PublishedModel:
    """Publish ``model`` as the next immutable scoring model version, for ``site`` or (None) as the
    installation default; a no-op if it equals the live version of that scope.

    Version numbers run across the installation, so a version names one model whichever site it is for.
    Re-scoring the leads it applies to is the caller's next step (see capture.qualifying.rescoring).
    """
    document = model_document(model)
    digest = model_checksum(document)
    site_id = site.id if site is not None else None
    # the newest version of all: its row lock serialises two publishers (SQLite: BEGIN IMMEDIATE does)
    newest = session.scalar(
        select(ScoringModelVersion).order_by(ScoringModelVersion.version.desc()).limit(1).with_for_update()
    )
    live = session.scalar(
        select(ScoringModelVersion).where(_of_scope(site_id)).order_by(ScoringModelVersion.version.desc()).limit(1)
    )
    if live is not None and live.checksum == digest:
        return PublishedModel(version=live, created=False)
    version = ScoringModelVersion(
        version=(newest.version if newest is not None else 0) + 1,
        site_id=site_id,
        document=document,
        checksum=digest,
        published_at=now,
        rescored_at=None,
    )
    session.add(version)
    session.flush()
    return PublishedModel(version=version, created=True)


def _of_scope(site_id: int | None) -> Any:
    """Versions published for exactly this site (None: the installation default's)."""
    column = ScoringModelVersion.site_id
    return column.is_(None) if site_id is None else column == site_id


def published_model(session: Session, version: int | None = None, site: Site | None = None) -> ScoringModelVersion:
    """A published scoring model version: ``version``, or the one that scores ``site``'s leads (its own
    live version, else the installation default), or with neither the installation default."""
    query = select(ScoringModelVersion)
    if version is not None:
        query = query.where(ScoringModelVersion.version == version)
        found = session.scalar(query)
    else:
        row = session.execute(live_model_query(site.id if site is not None else None)).first()
        found = session.get(ScoringModelVersion, row.id) if row is not None else None
    if found is None:
        raise PublishingError(
            f"no scoring model version {version} is published"
            if version
            else "no scoring model is published yet: `leadwheel model publish --default` publishes the built-in B2B one"
        )
    return found
