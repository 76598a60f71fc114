"""Fault injection against `voronka serve --workers 2` on PostgreSQL under concurrent load (docs/reliability.md).

Clients start deals and complete both tasks of each, retrying as a careful client does (503: after a pause;
connection lost: the completion again, whose repeat is a 409 when the first one went through). Meanwhile:
1. a server process is killed with SIGKILL, twice (uvicorn starts a new one);
2. the servers' PostgreSQL connections are killed (pg_terminate_backend), again and again.
Then the acknowledged-work invariant: every acknowledged start and completion is in the database exactly once,
no request ran twice (one instance per business key), no 500 reached a client, every 503 said Retry-After,
the first request after the faults succeeds, and every instance can still be driven to its end.

The worker-kill experiment (timers exactly once) is tests/e2e/test_worker_processes.py; the claim and
completion races are tests/integration/test_concurrency.py.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import HistoryEvent, InstanceStatus, ProcessInstance
from app.main import prepare_database
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import POSTGRES_URL
from tests.e2e.test_server_lifecycle import ADMIN, fresh_pg  # noqa: F401 - the fixture
from tests.factories import make_user, two_lane_deal, upload
from tests.faults import ServeProcess, admin_engine, backends_of, with_application_name

pytestmark = [pytest.mark.e2e, pytest.mark.fault,
              pytest.mark.skipif(not POSTGRES_URL, reason="needs VORONKA_TEST_POSTGRES_URL (PostgreSQL)")]

CLIENTS = 6
APP_NAME = "voronka-under-test"


@dataclass
class Ledger:
    """What the clients were told: only acknowledged work must be in the database."""

    started: list[str] = field(default_factory=list)  # business keys answered 201
    completed: list[str] = field(default_factory=list)  # task ids answered 200
    statuses: Counter[int] = field(default_factory=Counter)
    lost_connections: int = 0
    slowest_503: float = 0.0
    missing_retry_after: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


class CarefulClient:
    def __init__(self, url: str, auth: tuple[str, str], ledger: Ledger) -> None:
        self.http = httpx.Client(base_url=url, auth=auth, timeout=30)
        self.ledger = ledger

    def send(self, method: str, path: str, *, retry_lost: bool, **kwargs: object) -> httpx.Response | None:
        deadline = time.monotonic() + 60  # a careful client keeps trying through the fault window, not forever
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                response = self.http.request(method, path, **kwargs)  # type: ignore[arg-type]
            except httpx.TransportError:
                with self.ledger.lock:
                    self.ledger.lost_connections += 1
                if not retry_lost:
                    return None  # a start whose answer was lost: never repeated (it may have happened)
                time.sleep(0.05)
                continue
            with self.ledger.lock:
                self.ledger.statuses[response.status_code] += 1
            if response.status_code != 503:
                return response
            with self.ledger.lock:
                self.ledger.slowest_503 = max(self.ledger.slowest_503, time.monotonic() - started)
                self.ledger.missing_retry_after += "retry-after" not in response.headers
            time.sleep(0.1)  # the header says 2 s; the test is impatient
        raise AssertionError(f"{method} {path} did not succeed within 60 s")

    def complete(self, task_id: str, variables: dict) -> None:
        response = self.send("POST", f"/api/v1/tasks/{task_id}/complete", retry_lost=True,
                             json={"variables": variables})
        assert response is not None and response.status_code in (200, 409), response and response.text
        if response.status_code == 200:
            with self.ledger.lock:
                self.ledger.completed.append(task_id)

    def open_tasks(self, instance_id: str) -> list[dict]:
        response = self.send("GET", "/api/v1/tasks", retry_lost=True, params={"instance_id": instance_id})
        assert response is not None and response.status_code == 200, response and response.text
        return response.json()["items"]

    def one_deal(self, key: str) -> None:
        response = self.send("POST", "/api/v1/process-instances", retry_lost=False,
                             json={"definition_key": "deal", "business_key": key})
        if response is None:
            return
        assert response.status_code == 201, response.text
        with self.ledger.lock:
            self.ledger.started.append(key)
        instance = response.json()
        self.complete(instance["tasks"][0]["id"], {"company": key, "amount": 5000})
        for task in self.open_tasks(instance["id"]):
            self.complete(task["id"], {})


def run_load(url: str, auth: tuple[str, str], ledger: Ledger, stop: threading.Event,
             prefix: str) -> list[threading.Thread]:
    def loop(n: int) -> None:
        client = CarefulClient(url, auth, ledger)
        i = 0
        while not stop.is_set():
            client.one_deal(f"{prefix}-{n}-{i}")
            i += 1
        client.http.close()

    threads = [threading.Thread(target=loop, args=(n,), daemon=True) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    return threads


def finish_load(stop: threading.Event, threads: list[threading.Thread]) -> None:
    stop.set()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a client hung"


def assert_acknowledged_work_kept(ctx: AppContext, ledger: Ledger, url: str, auth: tuple[str, str]) -> None:
    assert ledger.statuses[500] == 0, ledger.statuses
    assert ledger.missing_retry_after == 0
    with ctx.db.read() as session:
        per_key = Counter(session.scalars(select(ProcessInstance.business_key)))
        completions = Counter(session.scalars(select(HistoryEvent.task_id).where(
            HistoryEvent.kind == "task_completed")))
    assert all(per_key[key] == 1 for key in ledger.started), "an acknowledged start is missing"
    assert set(per_key.values()) == {1}, "a start ran twice"
    assert all(completions[task] == 1 for task in ledger.completed), "an acknowledged completion is missing"
    assert set(completions.values()) == {1}, "a task was completed twice"
    # Every instance, also those whose answers were lost, can still reach its end.
    finisher = CarefulClient(url, auth, Ledger())
    with ctx.db.read() as session:
        unfinished = session.scalars(select(ProcessInstance.id).where(
            ProcessInstance.status != InstanceStatus.COMPLETED)).all()
    for instance_id in unfinished:
        for _ in range(3):
            for task in finisher.open_tasks(instance_id):
                finisher.complete(task["id"], {"company": "x", "amount": 5000})
    finisher.http.close()
    with ctx.db.read() as session:
        left = session.scalar(select(func.count()).select_from(ProcessInstance).where(
            ProcessInstance.status != InstanceStatus.COMPLETED))
    assert left == 0


def test_kill_9_of_a_server_process_and_killed_database_connections_lose_and_double_nothing(
        fresh_pg: str, tmp_path: Path) -> None:  # noqa: F811 - the fixture
    settings = Settings(database_url=fresh_pg, bootstrap_admin=":".join(ADMIN), embedded_worker=False,
                        fast_password_hashing=True, auto_migrate=True, _env_file=None)
    ctx = AppContext(settings)
    prepare_database(ctx)
    seller = make_user(ctx, "seller", ["designer", "hunter", "closer"])
    server = ServeProcess(with_application_name(fresh_pg, APP_NAME), tmp_path / "serve.log", workers=2,
                          env={"VORONKA_DB_CONNECT_TIMEOUT_SECONDS": "2", "VORONKA_DB_POOL_TIMEOUT_SECONDS": "2"})
    admin = admin_engine(fresh_pg)
    with server:
        assert httpx.post(server.url + "/api/v1/deployments", auth=seller, timeout=30,
                          files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201

        # 1. kill -9 of a server process, twice, under load.
        ledger, stop = Ledger(), threading.Event()
        threads = run_load(server.url, seller, ledger, stop, "kill9")
        for _ in range(2):
            time.sleep(2.5)
            victim = server.children()[0]
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and (victim in server.children() or len(server.children()) < 2):
                time.sleep(0.1)
            assert len(server.children()) == 2, "uvicorn did not replace the killed process"
        time.sleep(2)
        finish_load(stop, threads)
        print(f"kill -9: {len(ledger.started)} starts, {len(ledger.completed)} completions acknowledged, "
              f"{ledger.lost_connections} connections lost, statuses {dict(ledger.statuses)}")
        assert_acknowledged_work_kept(ctx, ledger, server.url, seller)

        # 2. the servers' database connections killed again and again under load.
        ledger, stop = Ledger(), threading.Event()
        threads = run_load(server.url, seller, ledger, stop, "pgkill")
        killed = 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            for pid in backends_of(admin, APP_NAME):
                with admin.connect() as conn:
                    killed += bool(conn.exec_driver_sql(f"SELECT pg_terminate_backend({pid})").scalar())
            time.sleep(0.3)
        after = httpx.post(server.url + "/api/v1/process-instances", auth=seller, timeout=30,
                           json={"definition_key": "deal", "business_key": "after-the-faults"})
        assert after.status_code == 201, after.text  # the first request after the faults succeeds
        ledger.started.append("after-the-faults")
        time.sleep(1)
        finish_load(stop, threads)
        print(f"pg_terminate_backend x{killed}: {len(ledger.started)} starts, {len(ledger.completed)} completions "
              f"acknowledged, statuses {dict(ledger.statuses)}, slowest 503 {ledger.slowest_503:.2f} s")
        assert killed > 0
        assert ledger.slowest_503 < 5.0
        assert_acknowledged_work_kept(ctx, ledger, server.url, seller)
    admin.dispose()
    ctx.close()
    log = (tmp_path / "serve.log").read_text()
    assert "unhandled error" not in log, log[-3000:]
    print("requests run again after a lost connection:", log.count("running POST") + log.count("running GET"))
