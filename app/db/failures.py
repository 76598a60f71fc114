"""Which database errors mean "the database is unavailable or too slow right now" (503 + Retry-After), classified
in one place for both databases, and whether the failed work may be run once more.

Classified here: lost or refused connections (SQLSTATE class 08, server shutdown 57P01-57P03, too many
connections 53300, SQLAlchemy's disconnect detection), an exhausted connection pool, and timeouts we set
ourselves (statement_timeout 57014, lock_timeout 55P03, SQLite's busy timeout "database is locked").
Conflicts between transactions (serialization failures, deadlocks) are not outages: they stay 409s.
"""

from __future__ import annotations

from sqlalchemy import exc as sa_exc

from app.errors import Unavailable

RETRY_AFTER_SECONDS = 2

_CONNECTION_STATES = ("08", "57P01", "57P02", "57P03", "53300")
_TIMEOUT_STATES = {"57014": "a statement ran longer than the database statement timeout",
                   "55P03": "a lock was not granted within the database lock timeout"}
_SQLITE_BUSY = ("database is locked", "database is busy")
_SQLITE_GONE = ("unable to open database file", "disk i/o error")


def sqlstate(error: BaseException) -> str | None:
    orig = getattr(error, "orig", error)
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def unavailable(error: BaseException, *, committing: bool = False) -> Unavailable | None:
    """The outage this error means, or None when it is something else. `committing`: the error came from COMMIT,
    so the transaction may have been saved: never run it again, and say so."""
    if isinstance(error, Unavailable):
        return error
    if isinstance(error, sa_exc.TimeoutError):  # QueuePool: every connection busy for pool_timeout seconds
        return Unavailable("every database connection is busy; retry shortly", retry_after=RETRY_AFTER_SECONDS)
    if not isinstance(error, sa_exc.DBAPIError):
        return None
    state = sqlstate(error) or ""
    text = str(getattr(error, "orig", error)).lower()
    if state in _TIMEOUT_STATES:
        return Unavailable(f"the database is too busy: {_TIMEOUT_STATES[state]}; nothing was changed",
                           retry_after=RETRY_AFTER_SECONDS)
    if any(marker in text for marker in _SQLITE_BUSY):
        return Unavailable("the database is busy with another writer (lock timeout); nothing was changed",
                           retry_after=RETRY_AFTER_SECONDS)
    # psycopg reports a failed connect or a broken socket without any SQLSTATE (no server answered).
    client_side = isinstance(error, sa_exc.OperationalError) and not state and _from_psycopg(error)
    lost = (error.connection_invalidated or getattr(error, "is_disconnect", False) or client_side
            or state.startswith(_CONNECTION_STATES) or any(marker in text for marker in _SQLITE_GONE))
    if not lost:
        return None
    if committing:
        return Unavailable("the connection to the database was lost while saving: the change may or may not "
                           "have been saved; check before repeating it", retry_after=RETRY_AFTER_SECONDS)
    # Only a connection that was open and then dropped may be retried: a refused connection would be refused again.
    return Unavailable("the database is unavailable; nothing was changed", retry_after=RETRY_AFTER_SECONDS,
                       retryable=bool(error.connection_invalidated))


def _from_psycopg(error: sa_exc.DBAPIError) -> bool:
    return type(error.orig).__module__.startswith("psycopg")
