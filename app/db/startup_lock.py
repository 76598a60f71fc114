"""One process at a time migrates the schema and creates the first rows (role groups, the bootstrap admin, the
signing secret): `serve --workers N`, several replicas and a `voronka migrate` may all start at once.

PostgreSQL: a session advisory lock keyed by the schema; SQLite: an exclusive file lock beside the database file.
Whoever waits says so in the log every few seconds and gives up after `wait_seconds` with the reason.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import time
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

log = logging.getLogger(__name__)

LOCK_NAME = "voronka-startup"
POLL_SECONDS = 0.2
REPORT_SECONDS = 5.0


class StartupLockTimeout(RuntimeError):
    pass


@contextlib.contextmanager
def startup_lock(engine: Engine, *, wait_seconds: float = 300.0) -> Iterator[None]:
    if engine.dialect.name == "sqlite":
        database = make_url(str(engine.url)).database
        if not database or database == ":memory:":
            yield
            return
        with _file_lock(Path(database).with_name(Path(database).name + ".startup-lock"), wait_seconds):
            yield
        return
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        key = "SELECT hashtext(:name || ':' || current_schema())"
        lock_id = conn.execute(text(key), {"name": LOCK_NAME}).scalar()
        _wait(lambda: bool(conn.execute(text("SELECT pg_try_advisory_lock(:id)"), {"id": lock_id}).scalar()),
              wait_seconds)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": lock_id})


@contextlib.contextmanager
def _file_lock(path: Path, wait_seconds: float) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:

        def try_lock() -> bool:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False
            return True

        _wait(try_lock, wait_seconds)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _wait(try_lock, wait_seconds: float) -> None:  # type: ignore[no-untyped-def]
    started = last_report = time.monotonic()
    while not try_lock():
        now = time.monotonic()
        if now - started > wait_seconds:
            raise StartupLockTimeout(
                f"another Voronka process has been migrating or preparing this database for over {wait_seconds:.0f} s;"
                " if none is running, a stuck session holds the lock (PostgreSQL: pg_locks, locktype advisory)")
        if now - last_report >= REPORT_SECONDS:
            last_report = now
            log.warning("waiting: another Voronka process is migrating or preparing the database (%.0f s so far)",
                        now - started)
        time.sleep(POLL_SECONDS)
