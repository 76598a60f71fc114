"""`voronka serve` as a process tree on PostgreSQL: two processes start together on a fresh database and add up
their metrics; SIGTERM refuses new connections, lets the request in flight finish, and the embedded worker gives
back the jobs it had claimed (nobody waits for their locks to expire)."""

from __future__ import annotations

import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from app.auth.actor import SYSTEM
from app.db.migrate import upgrade
from app.db.models import HistoryEvent, Job, JobKind, JobState
from app.main import prepare_database
from app.services import deployments
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import POSTGRES_URL, create_postgres_schema, drop_postgres_schema, postgres_schema_url
from tests.e2e.test_worker_processes import start_instances
from tests.factories import timer_at
from tests.faults import ServeProcess
from tests.integration.test_observability import sample

pytestmark = [pytest.mark.e2e, pytest.mark.fault,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs VORONKA_TEST_POSTGRES_URL (PostgreSQL)")]
ADMIN = ("admin", "admin-secret")
TIMERS = 150


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """An empty schema: not even migrated."""
    schema = create_postgres_schema()
    yield postgres_schema_url(schema)
    drop_postgres_schema(schema)


def test_two_server_processes_start_together_on_a_fresh_database_and_add_up_their_metrics(
        fresh_pg: str, tmp_path: Path) -> None:
    server = ServeProcess(fresh_pg, tmp_path / "serve.log", workers=2,
                          env={"PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")})
    with server:
        assert len(server.children()) == 2
        for _ in range(40):  # a new connection each: both processes answer some
            assert httpx.get(server.url + "/health", timeout=10).status_code == 200
        scrape = httpx.get(server.url + "/metrics", auth=ADMIN, timeout=10)
        assert scrape.status_code == 200
        assert sample(scrape.text, "voronka_http_requests_total", route="/health", status="200") >= 40
        writers = {p.stem.rsplit("_", 1)[-1] for p in (tmp_path / "metrics").glob("counter_*.db")}
        print("processes with samples:", writers)
    assert server.process is not None and server.process.returncode == 0
    log = (tmp_path / "serve.log").read_text()
    assert "Traceback" not in log and "UniqueViolation" not in log, log[-3000:]


def test_sigterm_refuses_new_connections_finishes_the_request_in_flight_and_releases_claimed_jobs(
        fresh_pg: str, tmp_path: Path) -> None:
    upgrade(fresh_pg)
    ctx = AppContext(Settings(database_url=fresh_pg, bootstrap_admin=":".join(ADMIN), embedded_worker=False,
                              fast_password_hashing=True, _env_file=None))
    prepare_database(ctx)
    deployments.deploy(ctx, files=[("due.bpmn", timer_at().encode())], actor=SYSTEM)
    server = ServeProcess(fresh_pg, tmp_path / "serve.log", workers=1, embedded_worker=True,
                          env={"VORONKA_WORKER_BATCH_SIZE": str(TIMERS * 2), "VORONKA_JOB_LOCK_SECONDS": "120",
                               "VORONKA_LOG_LEVEL": "INFO"}).start()
    try:
        ids = start_instances(ctx, TIMERS)  # all due at one moment: the worker claims them in one batch
        assert wait_for(lambda: fired(ctx, ids), 30), "the embedded worker fired nothing"

        answers: list[httpx.Response] = []
        poll = threading.Thread(target=lambda: answers.append(httpx.post(
            server.url + "/api/v1/external-tasks/fetch-and-lock", auth=ADMIN, timeout=30,
            json={"worker_id": "w", "async_response_timeout": 1000,
                  "topics": [{"topic": "t", "lock_duration": 1000}]})))
        poll.start()
        time.sleep(0.4)  # the long poll is in flight
        assert server.process is not None
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        with pytest.raises(httpx.ConnectError):
            httpx.get(server.url + "/health", timeout=2)  # no longer accepting
        poll.join(10)
        assert answers and answers[0].status_code == 200 and answers[0].json() == []
        assert server.process.wait(20) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it is done
    finally:
        server.stop()
    log = (tmp_path / "serve.log").read_text()
    released = [int(n) for n in re.findall(r"stopping: released (\d+) claimed job", log)]
    assert "Shutting down" in log and "Finished server process" in log, log[-3000:]
    assert released and released[0] > 0, "the worker had finished every job before the stop: nothing to release"
    with ctx.db.read() as session:
        left = session.scalars(select(Job).where(Job.kind == JobKind.TIMER, Job.instance_id.in_(ids))).all()
    assert [j for j in left if j.state != JobState.READY or j.lock_owner is not None] == []
    counts = Counter(e.instance_id for e in firings(ctx, ids))
    assert set(counts.values()) <= {1} and len(counts) + len(left) == TIMERS
    print(f"fired {len(counts)} before the stop, released {released[0]}, {len(left)} ready for the next worker")
    ctx.close()


def fired(ctx: AppContext, ids: list[str]) -> bool:
    return len(firings(ctx, ids)) > 0


def firings(ctx: AppContext, ids: list[str]) -> list[HistoryEvent]:
    with ctx.db.read() as session:
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "timer_fired",
                                                               HistoryEvent.instance_id.in_(ids))))


def wait_for(condition, timeout: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False
