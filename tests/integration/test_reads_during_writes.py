"""A long write (another process holding the database) must not stall reads, health checks or the event loop."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.services.context import AppContext
from tests.conftest import ADMIN, LiveServer
from tests.factories import two_lane_deal, upload


@contextmanager
def database_held_by_a_writer(url: str, *, definitions_too: bool = False) -> Iterator[None]:
    """Another process in the middle of a long write: SQLite's write lock, or on PostgreSQL exclusive table
    locks on instances and jobs (they block only writers) and, with `definitions_too`, the definitions (which
    also blocks reading them: a deploy has to wait)."""
    if make_url(url).get_backend_name() == "sqlite":
        conn = sqlite3.connect(make_url(url).database, isolation_level=None, check_same_thread=False)
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")
            conn.close()
        return
    engine = create_engine(url)
    with engine.connect() as conn:
        if definitions_too:
            conn.execute(text("LOCK TABLE process_definition IN ACCESS EXCLUSIVE MODE"))
        conn.execute(text("LOCK TABLE process_instance, job, history_event IN EXCLUSIVE MODE"))
        try:
            yield
        finally:
            conn.rollback()
    engine.dispose()


def test_reads_and_health_answer_while_another_process_writes(client: TestClient, ctx: AppContext) -> None:
    assert client.post("/api/v1/deployments", files=upload(("d.bpmn", two_lane_deal()))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    with database_held_by_a_writer(ctx.settings.database_url):
        started = time.monotonic()
        assert client.get("/health").status_code == 200
        assert client.get("/api/v1/process-instances").json()["total"] == 1
        assert client.get(f"/api/v1/process-instances/{instance['id']}/history").status_code == 200
        assert client.get("/api/v1/incidents").status_code == 200
        assert client.get("/api/v1/tasks").status_code == 200
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"reads waited {elapsed:.1f} s for the writer"


def test_a_deploy_waiting_for_the_database_does_not_stall_other_requests(ctx: AppContext) -> None:
    from app.main import create_app

    models = [two_lane_deal(key=f"deal{n}").encode() for n in range(3)]
    with LiveServer(create_app(context=ctx)) as server, httpx.Client(base_url=server.url, auth=ADMIN) as http:
        done: dict[str, float] = {}
        with database_held_by_a_writer(ctx.settings.database_url, definitions_too=True):
            def deploy(route: str, files: list[tuple[str, tuple[str, bytes, str]]]) -> None:
                response = httpx.post(server.url + route, files=files, auth=ADMIN, timeout=60)
                done[route] = time.monotonic()
                assert response.status_code in (200, 201), response.text

            threads = [threading.Thread(target=deploy, args=args) for args in (
                ("/api/v1/deployments", [("files", ("d.bpmn", models[0], "text/xml"))]),
                ("/engine-rest/deployment/create", [("d.bpmn", ("d.bpmn", models[1], "text/xml"))]),
                ("/v2/deployments", [("resources", ("d.bpmn", models[2], "text/xml"))]))]
            for thread in threads:
                thread.start()
            time.sleep(0.5)  # the deploys now wait for the database
            health = http.get("/health", timeout=5)
            answered = time.monotonic()
            time.sleep(0.5)
        for thread in threads:
            thread.join(60)
    assert health.status_code == 200
    assert len(done) == 3 and answered < min(done.values())
