"""The schema: typed SQLAlchemy models, one module per group.

Alembic migrations in ``migrations/`` are the only way this schema reaches a
database; ``tests/capture/test_migrations.py`` proves the two agree.
"""

from capture.models.base import Base
from capture.models.behaviour import Event
from capture.models.handoff import (
    Delivery,
    DeliveryAttempt,
    RoutingVersion,
    SalesOutcome,
    TeamTurn,
    WebhookEndpoint,
)
from capture.models.leads import Answer, EmailClaim, Lead, Snooze, Visitor
from capture.models.limits import RateLimitCounter
from capture.models.mail import MailOutbox
from capture.models.scores import ScoreChange, ScoringModelVersion
from capture.models.sites import Form, SequenceVersion, Site
from capture.models.tickets import UsedTicket
from capture.models.tokens import ApiToken
from capture.models.users import SignInFailure, User

__all__ = [
    "Answer",
    "ApiToken",
    "Base",
    "Delivery",
    "DeliveryAttempt",
    "EmailClaim",
    "Event",
    "Form",
    "Lead",
    "MailOutbox",
    "RateLimitCounter",
    "RoutingVersion",
    "SalesOutcome",
    "ScoreChange",
    "ScoringModelVersion",
    "SequenceVersion",
    "SignInFailure",
    "Site",
    "Snooze",
    "TeamTurn",
    "User",
    "UsedTicket",
    "Visitor",
    "WebhookEndpoint",
]
