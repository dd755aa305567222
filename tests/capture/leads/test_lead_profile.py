"""The profile document's rules: newest answer per field, a slow tab never undoes a newer one."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from capture.db import json_text
from capture.leads import profile_doc
from profiling.wheel import Known

AT = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def test_a_later_answer_replaces_the_value_kept() -> None:
    kept = {"company_size": profile_doc.entry(10, AT, 1)}
    later = profile_doc.learned(kept, [("company_size", 120, AT + timedelta(minutes=1), 2)])
    assert profile_doc.values(later) == {"company_size": 120}
    assert profile_doc.answer_id(later["company_size"]) == 2
    assert kept == {"company_size": profile_doc.entry(10, AT, 1)}  # the document read is left as it was


def test_a_slow_tab_answering_earlier_does_not_undo_a_newer_answer() -> None:
    kept = {"company_size": profile_doc.entry(120, AT, 2)}
    slow = profile_doc.learned(
        kept, [("company_size", 10, AT - timedelta(seconds=5), 3), ("budget", "large", AT - timedelta(seconds=5), 4)]
    )
    assert profile_doc.values(slow) == {"company_size": 120, "budget": "large"}  # a new field is still learned
    assert profile_doc.answer_id(slow["company_size"]) == 2


def test_rebuilt_from_answers_oldest_first_keeps_the_newest_per_field() -> None:
    answers = [
        (1, "email", "a@example.com", AT),
        (2, "first_name", "Ada", AT),
        (3, "first_name", "Ada L.", AT + timedelta(1)),
    ]
    document = profile_doc.rebuilt(answers)
    assert profile_doc.values(document) == {"email": "a@example.com", "first_name": "Ada L."}
    assert profile_doc.answered_at(document["first_name"]) == AT + timedelta(1)


def test_the_document_reads_back_from_its_json_as_the_wheel_knows_it() -> None:
    tokyo = timezone(timedelta(hours=9))
    document = profile_doc.learned(
        {}, [("looking_for", ["reports"], AT.astimezone(tokyo), 7), ("decides", True, AT, 8)]
    )
    stored = json.loads(json_text.dumps(document))  # as the engine writes it
    assert profile_doc.known(stored) == {"looking_for": Known(["reports"], AT), "decides": Known(True, AT)}
    assert profile_doc.answered_at(stored["looking_for"]).tzinfo is not None  # aware, in UTC
    assert profile_doc.known(None) == {} and profile_doc.values(None) == {}


def test_a_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        profile_doc.entry("x", datetime(2026, 11, 23, 9, 0), 1)
