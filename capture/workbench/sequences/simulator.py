"""The visit simulator's page: choose a form and a persona, see visit 1, 2, 3 … as the live wheel plays them."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from capture.db.models import Form, SequenceDraft, Site
from capture.sites.publishing import PublishingError, published_sequence, sequence_of
from capture.workbench.auth import requires, services, workbench_pages
from capture.workbench.forms import PersonaForm
from capture.workbench.sequences.simulation import Persona, VisitPlan, simulate
from profiling.document import DocumentError, load
from profiling.sequence import localised
from profiling.wheel import Reason

workbench_simulator = Blueprint("workbench_simulator", __name__, url_prefix="/workbench/simulator")
workbench_pages(workbench_simulator)

#: what each reason says to a marketer
REASONS = {
    Reason.CONDITION: _l("its condition does not hold"),
    Reason.KNOWN: _l("already known"),
    Reason.DECLINED: _l("declined for good"),
    Reason.SNOOZED: _l("“not now”: waits until visit %(visit)s"),
    Reason.SHOWN: _l("already shown on this visit"),
    Reason.QUEUED: _l("waits: this visit's questions are used up"),
    Reason.SAME_FIELD: _l("another question on this visit fills its field"),
}
STAGES = {"subscriber": _l("Subscriber"), "engaged": _l("Engaged"), "mql": _l("MQL"), "sql": _l("SQL"),
          "recycled": _l("Recycled")}  # fmt: skip


@workbench_simulator.route("/")
@requires("sequences", "view")
def index() -> str:
    svc = services()
    form = PersonaForm(request.args)
    with svc.db.read() as db:
        forms = db.execute(
            select(Form.id, Form.name, Form.slug, Site.name.label("site"), Site.id.label("site_id"))
            .join(Site)
            .order_by(Site.name, Form.name)
        ).all()
    form.form.choices = [SelectChoice(str(f.id), f"{f.site} · {f.name or f.slug}") for f in forms]
    chosen = next((f for f in forms if str(f.id) == form.form.data), forms[0] if forms else None)
    visits: list[Any] = []
    version = None
    invalid_draft = False
    if chosen is not None and request.args:
        sequence = None
        with svc.db.read() as db:
            site = db.get(Site, chosen.site_id)
            try:
                published = published_sequence(db, site, chosen.slug) if site is not None else None
            except PublishingError:  # a form with no version yet
                published = None
            if published is not None:
                sequence, version = sequence_of(published), published.version
            draft = db.get(SequenceDraft, chosen.id) if form.draft.data else None
            if draft is not None:  # the marketer's unpublished changes, when they are a valid sequence
                try:
                    sequence, version = load(draft.document), None
                except DocumentError:
                    invalid_draft = True
        live = svc.catalog.scoring_model(chosen.site_id)
        if sequence is not None:
            persona = _persona(form)
            visits = simulate(sequence, live.model if live is not None else None, persona, svc.clock())
    return render_template(
        "workbench/simulator/index.html",
        form=form,
        visits=visits,
        version=version,
        chosen=chosen,
        invalid_draft=invalid_draft,
        reasons=REASONS,
        stages=STAGES,
        text=lambda texts: localised(texts, _locale(form), "en"),
    )


def _persona(form: PersonaForm) -> Persona:
    plans = []
    for entry in form.visits.entries:
        pages = tuple(
            page.strip()[:200] for page in (entry.form.pages.data or "").split(",") if page.strip().startswith("/")
        )
        plans.append(VisitPlan(answers=entry.form.answers.data != "no", pages=pages[:20]))
    known = {"customer_type": form.kind.data} if form.kind.data in ("b2b", "b2c") else {}
    return Persona(locale=_locale(form), known=known, visits=tuple(plans))


def _locale(form: PersonaForm) -> str:
    return form.locale.data if form.locale.data in ("en", "da", "nb", "ro") else "en"
