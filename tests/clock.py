"""A controlled clock for tests that need a history with known durations (see app.db.base.set_clock)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from app.db.base import set_clock


class ControlledClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment


@contextmanager
def controlled_clock(start: datetime) -> Iterator[ControlledClock]:
    clock = ControlledClock(start)
    set_clock(clock)
    try:
        yield clock
    finally:
        set_clock(None)
