"""Three `voronka worker` processes share one PostgreSQL database: 200 timers fire exactly once each; then a
worker is killed with SIGKILL holding locked jobs, and the others fire those jobs once the locks expire.

Runs only when VORONKA_TEST_POSTGRES_URL is set (it needs real processes and row locks).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.auth.actor import SYSTEM
from app.db.base import utcnow
from app.db.migrate import upgrade
from app.db.models import HistoryEvent, Job, JobKind, ProcessInstance, Task
from app.services import deployments, instances
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import POSTGRES_URL, create_postgres_schema, drop_postgres_schema, postgres_schema_url
from tests.factories import timer_at

pytestmark = [pytest.mark.e2e, pytest.mark.fault,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs VORONKA_TEST_POSTGRES_URL (PostgreSQL)")]

ROOT = Path(__file__).resolve().parents[2]
LOCK_SECONDS = 3.0
INSTANCES = 200


@pytest.fixture
def pg_url() -> Iterator[str]:
    schema = create_postgres_schema()
    url = postgres_schema_url(schema)
    upgrade(url)
    yield url
    drop_postgres_schema(schema)


def start_worker(url: str, worker_id: str, batch_size: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VORONKA_DATABASE_URL": url, "VORONKA_JOB_LOCK_SECONDS": str(LOCK_SECONDS),
           "VORONKA_WORKER_POLL_SECONDS": "0.2", "PYTHONPATH": str(ROOT)}
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--id", worker_id,
                                 "--batch-size", str(batch_size)], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


def start_instances(ctx: AppContext, count: int) -> list[str]:
    """`count` instances whose timers all fall due at one moment, shortly after the last one is created."""

    def one(due: datetime) -> str:
        return instances.start_instance(ctx, actor=SYSTEM, definition_key="due",
                                        variables={"due": due.isoformat()}).instance.id

    probe = utcnow() + timedelta(hours=1)
    one(probe)  # warm: the spec is parsed once per process
    began = time.monotonic()
    for _ in range(10):  # how long a start takes on this machine
        one(probe)
    per_start = (time.monotonic() - began) / 10
    due = utcnow() + timedelta(seconds=1 + 1.5 * per_start * count)
    ids = [one(due) for _ in range(count)]
    assert utcnow() < due, "creating the instances took longer than planned"
    return ids


def firings(ctx: AppContext, ids: list[str]) -> list[HistoryEvent]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "timer_fired",
                                                               HistoryEvent.instance_id.in_(ids))))


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def assert_each_fired_once(ctx: AppContext, ids: list[str]) -> list[HistoryEvent]:
    fired = firings(ctx, ids)
    per_instance = Counter(e.instance_id for e in fired)
    assert set(per_instance) == set(ids) and set(per_instance.values()) == {1}, "a timer was lost or fired twice"
    with ctx.db.transaction() as session:
        assert session.scalars(select(Job).where(Job.kind == JobKind.TIMER, Job.instance_id.in_(ids))).all() == []
        tasks = Counter(session.scalars(select(Task.instance_id).where(Task.instance_id.in_(ids),
                                                                       Task.element_id == "After")))
        assert set(tasks.values()) == {1} and len(tasks) == len(ids)
        revisions = session.scalars(select(ProcessInstance.revision).where(ProcessInstance.id.in_(ids))).all()
        assert len(set(revisions)) == 1  # every instance was written the same number of times
    return fired


def test_three_worker_processes_fire_every_timer_once_and_recover_a_killed_workers_jobs(pg_url: str,
                                                                                      tmp_path: Path) -> None:
    ctx = AppContext(Settings(database_url=pg_url, embedded_worker=False, _env_file=None))
    workers: dict[str, subprocess.Popen[bytes]] = {}
    try:
        deployments.deploy(ctx, files=[("due.bpmn", timer_at().encode())], actor=SYSTEM)
        workers = {name: start_worker(pg_url, name, batch, tmp_path / f"{name}.log") for name, batch in
                   (("w1", 10), ("w2", 10), ("victim", 100))}
        assert wait_for(lambda: all(" started " in (tmp_path / f"{n}.log").read_text() for n in workers), 20)

        # Phase 1: 200 timers due at the same moment, three processes.
        first = start_instances(ctx, INSTANCES)
        assert wait_for(lambda: len(firings(ctx, first)) >= INSTANCES, 30), "not every timer fired"
        time.sleep(0.5)  # a double firing would show up now
        fired = assert_each_fired_once(ctx, first)
        by_worker = Counter(e.data["worker"] for e in fired)
        print("phase 1 firings per worker:", dict(by_worker))
        assert set(by_worker) <= set(workers) and sum(by_worker.values()) == INSTANCES

        # Phase 2: the two healthy workers are frozen, the victim claims a batch and dies mid-run.
        for name in ("w1", "w2"):
            workers[name].send_signal(signal.SIGSTOP)
        second = start_instances(ctx, INSTANCES)

        def victim_holds_locks() -> bool:
            with ctx.db.transaction() as session:
                return session.scalar(select(Job.id).where(Job.lock_owner == "victim").limit(1)) is not None

        assert wait_for(victim_holds_locks, 15), "the victim never claimed a batch"
        workers["victim"].kill()  # SIGKILL: no cleanup, its locks stay
        workers["victim"].wait(10)
        killed_at = utcnow()
        with ctx.db.transaction() as session:
            orphaned = {job.id: job.lock_expires_at for job in session.scalars(
                select(Job).where(Job.lock_owner == "victim", Job.instance_id.in_(second)))}
        assert orphaned, "the victim finished its batch before it could be killed"
        print(f"victim killed holding {len(orphaned)} locked job(s)")
        for name in ("w1", "w2"):
            workers[name].send_signal(signal.SIGCONT)

        assert wait_for(lambda: len(firings(ctx, second)) >= INSTANCES, 30), "jobs of the killed worker were lost"
        time.sleep(0.5)
        fired = assert_each_fired_once(ctx, second)
        recovered = [e for e in fired if e.data["job_id"] in orphaned]
        assert len(recovered) == len(orphaned)
        for event in recovered:
            assert event.data["worker"] in ("w1", "w2")
            assert event.at >= orphaned[event.data["job_id"]] >= killed_at - timedelta(seconds=LOCK_SECONDS + 1)
        assert Counter(e.data["worker"] for e in fired)["victim"] < INSTANCES
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()  # graceful: SIGTERM
        for name, process in workers.items():
            try:
                code = process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                raise AssertionError(f"worker {name} did not stop on SIGTERM") from None
            if name != "victim":
                assert code == 0, (tmp_path / f"{name}.log").read_text()
        ctx.close()
