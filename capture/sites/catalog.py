"""Sites, forms and published sequences, cached per process.

Published versions are immutable, so a parsed sequence is cached for good.
Sites and forms can change (origins, a newly published version), so their
lookups expire after ``ttl``: a change reaches every process within seconds
while the hot path (ask) usually costs no catalog query at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, or_, select

from capture.behaviour.event_types import STANDARD_TYPES
from capture.db.engine import Database
from capture.db.models import Form, ScoringModelVersion, SequenceVersion, Site
from capture.qualifying.scores import LiveModel
from capture.web.errors import not_found
from profiling.document import load
from profiling.sequence import Sequence
from scoring.document import parse_model


@dataclass(frozen=True)
class SiteEntry:
    id: int
    public_key: str
    allowed_origins: frozenset[str]
    #: the key of the site's ``user_hash`` (capture/leads/claims.py); never sent to a browser
    identity_secret: str = field(default="", repr=False)
    #: "required": no behaviour and no persistent identity before consent (capture/privacy/consent.py)
    consent_policy: str = "not_required"
    #: marketing consent counts only once confirmed by a mailed link
    marketing_double_opt_in: bool = False


@dataclass(frozen=True)
class PublishedForm:
    site: SiteEntry
    form_id: int
    slug: str
    version_id: int
    version: int
    sequence: Sequence


def live_model_query(site_id: int | None) -> Any:
    """The id and version of the model that applies to leads of ``site_id``: the site's newest, else the
    newest installation-wide one (a site's own version sorts first)."""
    applies: ColumnElement[bool] = ScoringModelVersion.site_id.is_(None)
    if site_id is not None:
        applies = or_(applies, ScoringModelVersion.site_id == site_id)
    own_first = ScoringModelVersion.site_id.is_(None).asc()  # false (a site's own) before true
    return (
        select(ScoringModelVersion.id, ScoringModelVersion.version)
        .where(applies)
        .order_by(own_first, ScoringModelVersion.version.desc())
        .limit(1)
    )


class Catalog:
    def __init__(self, db: Database, ttl_seconds: float, monotonic: Callable[[], float] = time.monotonic):
        self._db = db
        self._ttl = ttl_seconds
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._sites: dict[str, tuple[float, SiteEntry | None]] = {}
        self._forms: dict[tuple[str, str], tuple[float, PublishedForm | None]] = {}
        self._sequences: dict[int, Sequence] = {}
        #: by site (None: the installation default's lookup)
        self._live: dict[int | None, tuple[float, LiveModel | None]] = {}
        self._models: dict[int, LiveModel] = {}

    def clear(self) -> None:
        with self._lock:
            self._sites.clear()
            self._forms.clear()
            self._live.clear()

    def site(self, public_key: str) -> SiteEntry:
        """The site with this key, or a 404 refusal."""
        now = self._monotonic()
        cached = self._sites.get(public_key)
        if cached is None or cached[0] < now:
            entry = self._load_site(public_key)
            with self._lock:
                self._sites[public_key] = (now + self._ttl, entry)
        else:
            entry = cached[1]
        if entry is None:
            raise not_found("site_not_found", "No site has this key.")
        return entry

    def form(self, public_key: str, slug: str) -> PublishedForm:
        """The live version of a site's form, or a 404 refusal."""
        site = self.site(public_key)
        now = self._monotonic()
        cached = self._forms.get((public_key, slug))
        if cached is None or cached[0] < now:
            published = self._load_form(site, slug)
            with self._lock:
                self._forms[(public_key, slug)] = (now + self._ttl, published)
        else:
            published = cached[1]
        if published is None:
            raise not_found("form_not_found", "This site has no published form with that name.")
        return published

    def sequence(self, version_id: int) -> Sequence | None:
        """A published sequence version by id (immutable, so cached for good)."""
        sequence = self._sequences.get(version_id)
        if sequence is None:
            with self._db.read() as session:
                document = session.scalar(select(SequenceVersion.document).where(SequenceVersion.id == version_id))
            if document is None:
                return None
            sequence = load(document)
            with self._lock:
                self._sequences[version_id] = sequence
        return sequence

    def scoring_model(self, site_id: int | None = None) -> LiveModel | None:
        """The model that scores a lead of ``site_id``: the site's own live (newest) version, else the
        installation default (the newest published without a site); None before any is published."""
        now = self._monotonic()
        cached = self._live.get(site_id)
        if cached is not None and cached[0] >= now:
            return cached[1]
        with self._db.read() as session:
            row = session.execute(live_model_query(site_id)).first()
            live = None
            if row is not None:
                live = self._models.get(row.id)
                if live is None:
                    document = session.scalar(
                        select(ScoringModelVersion.document).where(ScoringModelVersion.id == row.id)
                    )
                    assert document is not None
                    live = LiveModel(id=row.id, version=row.version, model=parse_model(document))
        with self._lock:
            if live is not None:
                self._models[live.id] = live
            self._live[site_id] = (now + self._ttl, live)
        return live

    def event_types(self, site_id: int | None = None) -> frozenset[str]:
        """Event types accepted now on a site: the catalogue's and any its live model names."""
        live = self.scoring_model(site_id)
        return STANDARD_TYPES | live.model.event_types if live is not None else STANDARD_TYPES

    def _load_site(self, public_key: str) -> SiteEntry | None:
        if len(public_key) > 40:
            return None
        with self._db.read() as session:
            site = session.scalar(select(Site).where(Site.public_key == public_key))
            if site is None:
                return None
            return SiteEntry(
                id=site.id,
                public_key=site.public_key,
                allowed_origins=frozenset(site.allowed_origins),
                identity_secret=site.identity_secret,
                consent_policy=site.consent_policy,
                marketing_double_opt_in=site.marketing_double_opt_in,
            )

    def _load_form(self, site: SiteEntry, slug: str) -> PublishedForm | None:
        if len(slug) > 64:
            return None
        with self._db.read() as session:
            row = session.execute(
                select(Form.id, SequenceVersion.id, SequenceVersion.version)
                .join(SequenceVersion, SequenceVersion.form_id == Form.id)
                .where(Form.site_id == site.id, Form.slug == slug)
                .order_by(SequenceVersion.version.desc())
                .limit(1)
            ).first()
        if row is None:
            return None
        form_id, version_id, version = row
        sequence = self.sequence(version_id)
        assert sequence is not None
        return PublishedForm(
            site=site, form_id=form_id, slug=slug, version_id=version_id, version=version, sequence=sequence
        )
