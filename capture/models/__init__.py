"""The schema: typed SQLAlchemy models, one module per group.

Alembic migrations in ``migrations/`` are the only way this schema reaches a
database; ``tests/capture/test_migrations.py`` proves the two agree.
"""

from capture.models.base import Base
from capture.models.leads import Answer, Lead, ProfileField, Snooze, Visitor
from capture.models.sites import Form, SequenceVersion, Site

__all__ = ["Answer", "Base", "Form", "Lead", "ProfileField", "SequenceVersion", "Site", "Snooze", "Visitor"]
