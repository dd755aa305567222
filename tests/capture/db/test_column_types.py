"""The SQLite short cuts for the shared column types read and write exactly what the layered
originals do: SQLAlchemy's DATETIME text under our UTC handling, and ``json.loads``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import DateTime
from sqlalchemy.dialects import sqlite

from capture.db.engine import read_json
from capture.db.models.base import UTCDateTime

DIALECT = sqlite.dialect()
COLUMN = UTCDateTime()
#: SQLite's own DATETIME processors, as the layered TypeDecorator would run them after ours
SQLITE_TEXT = DateTime(timezone=True).dialect_impl(DIALECT)
ZONES = st.builds(lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60))
MOMENTS = st.datetimes(min_value=datetime(1000, 1, 2), max_value=datetime(9999, 12, 30), timezones=ZONES)


def layered_bind(value: datetime | None) -> Any:
    return SQLITE_TEXT.bind_processor(DIALECT)(COLUMN.process_bind_param(value, DIALECT))


def layered_result(text: str | None) -> Any:
    return COLUMN.process_result_value(SQLITE_TEXT.result_processor(DIALECT, None)(text), DIALECT)


@given(MOMENTS)
def test_a_moment_is_written_as_the_layered_type_writes_it_and_reads_back_in_utc(moment: datetime) -> None:
    write = COLUMN.dialect_impl(DIALECT).bind_processor(DIALECT)
    read = COLUMN.dialect_impl(DIALECT).result_processor(DIALECT, None)
    text = write(moment)
    assert text == layered_bind(moment)
    assert read(text) == layered_result(text) == moment
    assert read(text).tzinfo is UTC


@pytest.mark.parametrize(
    "text", ["2026-11-23 09:00:00", "2026-11-23 09:00:00.5", "2026-11-23T09:00:00.000001", "2026-11-23"]
)
def test_texts_written_elsewhere_read_as_sqlalchemy_reads_them(text: str) -> None:
    """Server defaults and hand-written SQL leave other shapes of the same moment."""
    read = COLUMN.dialect_impl(DIALECT).result_processor(DIALECT, None)
    assert read(text) == layered_result(text)
    assert read(None) is None


def test_a_naive_moment_is_refused_on_the_fast_path_too() -> None:
    write = COLUMN.dialect_impl(DIALECT).bind_processor(DIALECT)
    with pytest.raises(ValueError, match="naive"):
        write(datetime(2026, 11, 23, 9, 0))
    assert write(None) is None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=10,
)


@given(JSON_VALUES)
def test_stored_json_reads_back_as_json_loads_reads_it(value: Any) -> None:
    for text in (json.dumps(value), json.dumps(value, ensure_ascii=False)):
        assert read_json(text) == json.loads(text)


@pytest.mark.parametrize("text", ['"a" ', ' "a"', '"a\\"b"', '"\\u00e6\\ud83d\\ude00"', "12", "[1]"])
def test_unusual_but_valid_json_reads_as_json_loads_reads_it(text: str) -> None:
    assert read_json(text) == json.loads(text)


@pytest.mark.parametrize("text", ['"a"b"', '"unterminated', '"bad \\x escape"', '"', ""])
def test_text_that_is_not_one_json_string_fails_as_json_loads_fails(text: str) -> None:
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        read_json(text)
    assert got.value.msg == expected.value.msg
