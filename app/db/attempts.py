"""One attempt at a request's work, so a dropped database connection may be retried without ever running a
committed transaction twice: every commit is noted on the attempt of the request that made it.

The HTTP layer opens an attempt per request (`app/api/retry.py`); the context variable reaches the threads that
run sync endpoints because Starlette copies the context into them (the attempt object itself is shared).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass
class Attempt:
    may_retry: bool = True  # False for the retry itself: a request runs at most twice
    commits: int = 0
    retry_wanted: bool = False


_current: ContextVar[Attempt | None] = ContextVar("voronka_db_attempt", default=None)


@contextmanager
def attempt(*, may_retry: bool = True) -> Iterator[Attempt]:
    current = Attempt(may_retry=may_retry)
    token = _current.set(current)
    try:
        yield current
    finally:
        _current.reset(token)


def note_commit() -> None:
    current = _current.get()
    if current is not None:
        current.commits += 1


def ask_for_retry() -> bool:
    """A connection dropped before this transaction committed: may the whole request run once more? Only when
    it is inside an attempt that has committed nothing yet."""
    current = _current.get()
    if current is None or current.commits or not current.may_retry:
        return False
    current.retry_wanted = True
    return True
