"""Confirming a claim: the claimant's lead joins the lead that holds the address, and is scored anew.

Apart from capture/claims.py because it builds on the lead repository (a merge)
and on scoring, both of which themselves record claims or describe them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Connection, select, update

from capture.claims import confirm_held
from capture.models import EmailClaim, Lead
from capture.profiles import merge_leads
from capture.scores import LiveModel, score_lead

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

    The holder survives (its id is the one sales knows); if nobody holds the address
    any more, the claimant takes it. Either way the address is confirmed and the
    lead is scored again from everything it now has.
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
    holder = connection.execute(select(_leads.c.id).where(_leads.c.email == row.email).with_for_update()).scalar()
    if holder is None:
        connection.execute(update(_leads).where(_leads.c.id == row.lead_id).values(email=row.email))
        holder = row.lead_id
    elif holder != row.lead_id:
        merge_leads(connection, survivor=holder, absorbed=row.lead_id)
    confirm_held(connection, holder, row.email, now, via)
    site_id = connection.execute(select(_leads.c.site_id).where(_leads.c.id == holder)).scalar()
    live = models(site_id)
    if live is not None:
        score_lead(connection, live, holder, now, "confirmation")
    return "confirmed"
