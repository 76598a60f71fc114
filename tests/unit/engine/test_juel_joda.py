"""Camunda's documented due-date idiom `${dateTime().plusDays(2).toDate()}` (Joda-Time) evaluates in JUEL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.engine.expressions import evaluate


@pytest.mark.parametrize(("text", "shift"), [
    ("${dateTime().plusDays(2).toDate()}", timedelta(days=2)),
    ("${dateTime().plusWeeks(1).minusHours(3)}", timedelta(days=7, hours=-3)),
    ("${dateTime().plusMinutes(n).toDate()}", timedelta(minutes=90)),
    ("${dateTime().minusSeconds(30)}", timedelta(seconds=-30)),
])
def test_joda_date_shifts_evaluate_relative_to_now(text: str, shift: timedelta) -> None:
    before = datetime.now(UTC)
    value = evaluate(text, {"n": 90})
    after = datetime.now(UTC)
    assert before + shift <= value <= after + shift
