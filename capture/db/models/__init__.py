"""The schema: typed SQLAlchemy models, one module per group.

Alembic migrations in ``migrations/`` are the only way this schema reaches a
database; ``tests/capture/db/test_migrations.py`` proves the two agree.
"""

from capture.db.models.base import Base
from capture.db.models.behaviour import BehaviourEvent
from capture.db.models.handoff import (
    Delivery,
    DeliveryAttempt,
    RoutingVersion,
    SalesOutcome,
    TeamTurn,
    WebhookEndpoint,
)
from capture.db.models.leads import Answer, EmailClaim, Lead, SnoozedQuestion, Visitor
from capture.db.models.limits import RateLimitCounter
from capture.db.models.mail import MailOutbox
from capture.db.models.privacy import ConsentRecord, Erasure
from capture.db.models.scores import ScoreChange, ScoringModelVersion
from capture.db.models.sites import Form, SequenceDraft, SequenceVersion, Site
from capture.db.models.tickets import UsedTicket
from capture.db.models.tokens import ApiToken
from capture.db.models.users import SignInFailure, User

__all__ = [
    "Answer",
    "ApiToken",
    "Base",
    "ConsentRecord",
    "Delivery",
    "DeliveryAttempt",
    "EmailClaim",
    "Erasure",
    "BehaviourEvent",
    "Form",
    "Lead",
    "MailOutbox",
    "RateLimitCounter",
    "RoutingVersion",
    "SalesOutcome",
    "ScoreChange",
    "ScoringModelVersion",
    "SequenceDraft",
    "SequenceVersion",
    "SignInFailure",
    "Site",
    "SnoozedQuestion",
    "TeamTurn",
    "User",
    "UsedTicket",
    "Visitor",
    "WebhookEndpoint",
]
