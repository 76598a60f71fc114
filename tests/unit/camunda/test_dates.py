"""Camunda's date format out, Camunda's and ISO 8601 in."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from app.camunda.dates import camunda_date, parse_camunda_date
from app.errors import InvalidInput


def test_dates_are_written_in_camunda_format_in_utc() -> None:
    moscow = timezone(timedelta(hours=3))
    assert camunda_date(datetime(2026, 11, 29, 13, 0, 0, 123456, tzinfo=moscow)) == "2026-11-29T10:00:00.123+0000"
    assert camunda_date(None) is None


@pytest.mark.parametrize("text", ["2026-11-29T10:00:00.000+0000", "2026-11-29T10:00:00Z",
                                  "2026-11-29T13:00:00.000+03:00", "2026-11-29T10:00:00"])
def test_camunda_and_iso_dates_are_read(text: str) -> None:
    assert parse_camunda_date(text) == datetime(2026, 11, 29, 10, 0, tzinfo=UTC)


def test_unreadable_dates_name_the_field() -> None:
    with pytest.raises(InvalidInput, match="dueAfter"):
        parse_camunda_date("tomorrow", field="dueAfter")
