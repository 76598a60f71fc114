"""Engine factory and the unit of work: one transaction per use case, committed once or rolled back."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from app.db import attempts
from app.db.failures import sqlstate, unavailable
from app.errors import Conflict, InvalidInput

READ_ONLY_OPTION = "voronka_read_only"
log = logging.getLogger(__name__)
# Lost races between transactions: 409s, not outages. Lock order (services/locks.py) keeps deadlocks rare.
CONFLICT_STATES = {"40001": "a serialization failure", "40P01": "a deadlock"}


@dataclass(frozen=True)
class Timeouts:
    """Bounds on how long one request may wait for the database (VORONKA_DB_*_SECONDS); past them it gets a 503."""

    connect: float = 5.0
    pool: float = 5.0
    statement: float | None = 15.0  # None: no limit (migrations: a big CREATE INDEX may take minutes)
    lock: float | None = 5.0  # None: PostgreSQL waits, SQLite waits 30 s


NO_STATEMENT_LIMITS = Timeouts(statement=None, lock=None)


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs: Any) -> Engine:
    timeouts = timeouts or Timeouts()
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        engine = create_engine(url, pool_pre_ping=True, pool_timeout=timeouts.pool,
                               connect_args={"connect_timeout": max(int(round(timeouts.connect)), 1)}, **kwargs)
        _set_server_timeouts(engine, timeouts)
        return engine
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite's busy timeout is its lock timeout: a writer waits that long for another writer, then gets a 503.
    engine = create_engine(url, connect_args={"check_same_thread": False,
                                              "timeout": 30.0 if timeouts.lock is None else timeouts.lock},
                           pool_timeout=timeouts.pool, **kwargs)
    _serialize_sqlite_writers(engine)
    return engine


def _set_server_timeouts(engine: Engine, timeouts: Timeouts) -> None:
    """PostgreSQL cancels a statement or a lock wait past these, so no request hangs on a locked table."""
    settings = {name: int(value * 1000) for name, value in (("statement_timeout", timeouts.statement),
                                                             ("lock_timeout", timeouts.lock)) if value is not None}
    if not settings:
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        with dbapi_connection.cursor() as cursor:
            for name, milliseconds in settings.items():
                cursor.execute(f"SET {name} = {milliseconds}")
        dbapi_connection.commit()


def _serialize_sqlite_writers(engine: Engine) -> None:
    """SQLite allows one writer: take the write lock at BEGIN so a use case never reads a snapshot it then
    cannot write (which would surface as 'database is locked' half-way through)."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # SQLite's lower() folds ASCII only; search must find "Бета" by "бет" as PostgreSQL does.
        dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Reads (e.g. loading the current user on every request) must not queue behind writers.
        read_only = conn.get_execution_options().get(READ_ONLY_OPTION)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def refused_value(exc: DataError) -> InvalidInput:
    """A value the database cannot store or compare (a NUL character, say): the client's input, not our fault."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    return InvalidInput(f"the database refused a value: {reason}")


def too_large(exc: OverflowError) -> InvalidInput:
    """A number SQLite cannot bind (beyond 64 bits): the client's input, not our fault."""
    return InvalidInput(f"a number in the request is too large for the database ({exc})")


def _commit(session: Session) -> None:
    session.flush()  # a connection lost here certainly saved nothing (and may be retried); past it, maybe it did
    try:
        session.commit()
    except OperationalError as exc:
        outage = unavailable(exc, committing=True)
        if outage is None:
            raise
        log.warning("database connection lost during COMMIT (outcome unknown): %s", exc.orig)
        raise outage from exc
    attempts.note_commit()


def _outage(error: BaseException) -> Exception | None:
    """A database outage as a 503; a connection dropped before COMMIT asks the request to be retried once."""
    outage = unavailable(error)
    if outage is not None and outage is not error:
        if outage.retryable:
            outage.retryable = attempts.ask_for_retry()
        log.warning("database unavailable%s: %s", " (will retry)" if outage.retryable else "",
                    str(getattr(error, "orig", error)).strip().splitlines()[0][:300] if str(error) else type(error))
    return outage


def _quiet_rollback(session: Session) -> None:
    with suppress(Exception):  # the connection is gone: nothing to roll back
        session.rollback()


class Database:
    """Holds the engine and hands out units of work."""

    def __init__(self, url: str, timeouts: Timeouts | None = None, **engine_kwargs: Any) -> None:
        self.url = url
        self.engine = make_engine(url, timeouts, **engine_kwargs)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY_OPTION: True}),
                                           expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One use case: everything written inside becomes visible together, or not at all."""
        session = self._sessions()
        try:
            yield session
            _commit(session)
        except StaleDataError as exc:
            session.rollback()
            raise Conflict("the object was changed by another request at the same time; reload and retry") from exc
        except OperationalError as exc:
            _quiet_rollback(session)
            outage = _outage(exc)
            if outage is not None:
                raise outage from exc
            if sqlstate(exc) in CONFLICT_STATES:  # by SQLSTATE, never by the message's words
                raise Conflict("another request changed the same data at the same time (the database "
                               f"reported {CONFLICT_STATES[sqlstate(exc) or '']}); nothing was changed, "
                               "retry") from exc
            raise
        except DataError as exc:
            session.rollback()
            raise refused_value(exc) from exc
        except OverflowError as exc:
            session.rollback()
            raise too_large(exc) from exc
        except BaseException as exc:
            _quiet_rollback(session)
            outage = _outage(exc)
            if outage is not None:
                raise outage from exc
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work: a consistent snapshot that takes no write lock (SQLite: plain BEGIN).
        Nothing written inside is committed; objects read stay usable (detached, not expired)."""
        session = self._read_sessions()
        try:
            yield session
        except DataError as exc:
            raise refused_value(exc) from exc
        except OverflowError as exc:
            raise too_large(exc) from exc
        except Exception as exc:
            outage = _outage(exc)
            if outage is not None:
                raise outage from exc
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
