"""Confirming a claim: the claimant's lead joins the lead that holds the address, and is scored anew.

Apart from capture/leads/claims.py because it builds on the lead repository (a merge)
and on scoring, both of which themselves record claims or describe them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select, update

from capture.db.models import EmailClaim, Lead
from capture.leads.claims import confirm_held, release_address
from capture.leads.store import merge_leads
from capture.privacy.standing import profiling_stopped
from capture.qualifying.scores import LiveModel, score_lead

_claims = EmailClaim.__table__
_leads = Lead.__table__


def confirm_claim(
    connection: Connection,
    claim_id: int,
    now: datetime,
    via: str,
    models: Callable[[int | None], LiveModel | None],
) -> str:
    """Join the claimant's lead to the address's holder; ``confirmed``, ``already`` or ``unknown``.

    A holder whose address is confirmed survives the merge (its id is the one sales
    knows). A holder that only claimed the address itself (typed it first) is not
    joined on this proof: the address moves to the claimant and the holder becomes
    a claimant (:func:`capture.leads.claims.release_address`). Either way the address is
    confirmed and the lead that holds it is scored again from everything it now has.
    """
    row = connection.execute(
        select(_claims.c.email, _claims.c.lead_id, _claims.c.resolved_at)
        .where(_claims.c.id == claim_id)
        .with_for_update()
    ).first()
    if row is None:
        return "unknown"
    if row.resolved_at is not None:
        return "already"
    held = connection.execute(
        select(_leads.c.id, _leads.c.email_confirmed_at).where(_leads.c.email == row.email).with_for_update()
    ).first()
    if held is not None and held.id != row.lead_id and held.email_confirmed_at is not None:
        merge_leads(connection, survivor=held.id, absorbed=row.lead_id)
        holder = held.id
    else:
        if held is not None and held.id != row.lead_id:
            release_address(connection, held.id, row.email, now)  # it only claimed the address too
        connection.execute(update(_leads).where(_leads.c.id == row.lead_id).values(email=row.email))
        holder = row.lead_id
    confirm_held(connection, holder, row.email, now, via)
    site_id = connection.execute(select(_leads.c.site_id).where(_leads.c.id == holder)).scalar()
    live = models(site_id)
    if live is not None and not profiling_stopped(connection, holder):
        score_lead(connection, live, holder, now, "confirmation")
    return "confirmed"
