"""Start-up is race-free: several processes (here threads with their own connections) preparing one fresh
database at once migrate it once and create the role groups and the bootstrap admin once; a start while another
holds the start-up lock waits for it, or gives up after its bound and says why."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.db.models import Group, User
from app.db.startup_lock import StartupLockTimeout, startup_lock
from app.main import prepare_database
from app.services.context import AppContext
from app.services.identity import ROLES
from app.settings import Settings
from tests.conftest import BACKENDS, create_postgres_schema, drop_postgres_schema, postgres_schema_url

STARTERS = 4


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database without any table: the first start of a new installation."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'voronka.db'}"
        return
    schema = create_postgres_schema()
    yield postgres_schema_url(schema)
    drop_postgres_schema(schema)


def test_several_processes_starting_on_a_fresh_database_prepare_it_once(empty_database: str) -> None:
    settings = Settings(database_url=empty_database, bootstrap_admin="admin:admin-secret", auto_migrate=True,
                        embedded_worker=False, fast_password_hashing=True, _env_file=None)
    contexts = [AppContext(settings) for _ in range(STARTERS)]
    barrier = threading.Barrier(STARTERS)
    failures: list[BaseException] = []

    def start(ctx: AppContext) -> None:
        barrier.wait()
        try:
            prepare_database(ctx)
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(ctx,)) for ctx in contexts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert failures == []
    with contexts[0].db.read() as session:
        assert session.scalar(select(func.count()).select_from(User).where(User.username == "admin")) == 1
        assert sorted(session.scalars(select(Group.id).where(Group.id.in_(ROLES)))) == sorted(ROLES)
    for ctx in contexts:
        ctx.close()


def test_a_start_waits_for_the_start_up_lock_and_gives_up_after_its_bound_saying_why(database_url: str) -> None:
    holder, waiter = (AppContext(Settings(database_url=database_url, _env_file=None)) for _ in range(2))
    with startup_lock(holder.db.engine):
        started = time.monotonic()
        with pytest.raises(StartupLockTimeout, match="another Voronka process has been migrating"), \
                startup_lock(waiter.db.engine, wait_seconds=0.3):
            pass
        assert time.monotonic() - started < 5
    with startup_lock(waiter.db.engine, wait_seconds=5):  # free again: taken at once
        pass
    holder.close()
    waiter.close()
