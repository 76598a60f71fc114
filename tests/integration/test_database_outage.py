"""The database going away or holding a lock: 503 with Retry-After within a bound, never a 500 or a hang;
/health names the database; the first request after it returns succeeds; a connection dropped before
COMMIT is retried once and the work is done exactly once."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from app.db.models import ProcessInstance
from app.main import create_app, prepare_database
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import ADMIN, POSTGRES_URL, _truncate_postgres, basic_auth
from tests.factories import two_lane_deal, upload
from tests.faults import TcpProxy, admin_engine, terminate, wait_for_lock_waiter

LOCK_SECONDS = 0.5
BOUND_SECONDS = 3.0  # what a request may take while the database is away (docs/reliability.md)
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="needs VORONKA_TEST_POSTGRES_URL (PostgreSQL)")


def outage_settings(url: str, **overrides: object) -> Settings:
    values = {"db_lock_timeout_seconds": LOCK_SECONDS, "db_statement_timeout_seconds": 2.0,
              "db_pool_timeout_seconds": 1.0, "db_connect_timeout_seconds": 1.0, **overrides}
    return Settings(database_url=url, bootstrap_admin=":".join(ADMIN), embedded_worker=False,
                    fast_password_hashing=True, _env_file=None, **values)


@pytest.fixture
def deal_client(database_url: str) -> Iterator[tuple[TestClient, AppContext]]:
    with serving(outage_settings(database_url)) as pair:
        yield pair


@contextmanager
def serving(settings: Settings) -> Iterator[tuple[TestClient, AppContext]]:
    ctx = AppContext(settings)
    prepare_database(ctx)
    with TestClient(create_app(context=ctx), headers=basic_auth(*ADMIN)) as client:
        assert client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201
        yield client, ctx
    ctx.close()


def assert_unavailable(response, started: float) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"].isdigit()
    assert time.monotonic() - started < BOUND_SECONDS


def test_a_write_lock_held_too_long_is_a_quick_503_and_health_and_reads_stay_up(
        deal_client: tuple[TestClient, AppContext], database_url: str) -> None:
    client, ctx = deal_client
    with held_write_lock(database_url):
        started = time.monotonic()
        blocked = client.post("/api/v1/process-instances", json={"definition_key": "deal"})
        assert_unavailable(blocked, started)
        assert blocked.headers["content-type"] == "application/problem+json"
        assert "nothing was changed" in blocked.json()["detail"]
        camunda = client.post("/engine-rest/process-definition/key/deal/start", json={})
        assert camunda.status_code == 503 and camunda.headers["retry-after"].isdigit()
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["checks"]["database"]["status"] == "ok"
        assert client.get("/api/v1/tasks").status_code == 200  # reads take no write lock
    assert client.post("/api/v1/process-instances", json={"definition_key": "deal"}).status_code == 201


class held_write_lock:  # noqa: N801 - used as a context manager
    """Another client holds the write lock: SQLite's database lock, or PostgreSQL's lock on the instance table."""

    def __init__(self, url: str) -> None:
        self.url = url

    def __enter__(self) -> None:
        parsed = make_url(self.url)
        if parsed.get_backend_name() == "sqlite":
            self.sqlite = sqlite3.connect(parsed.database, isolation_level=None)
            self.sqlite.execute("BEGIN IMMEDIATE")
        else:
            self.engine = admin_engine(self.url)
            self.conn = self.engine.connect()
            self.conn.execute(text("BEGIN"))
            self.conn.execute(text("LOCK TABLE process_instance IN EXCLUSIVE MODE"))  # readers pass, writers wait

    def __exit__(self, *exc: object) -> None:
        if hasattr(self, "sqlite"):
            self.sqlite.execute("ROLLBACK")
            self.sqlite.close()
        else:
            self.conn.execute(text("ROLLBACK"))
            self.conn.close()
            self.engine.dispose()


@pytest.fixture
def pg_url(request: pytest.FixtureRequest) -> str:
    url = request.getfixturevalue("postgres_migrated")
    _truncate_postgres(url)
    return url


@needs_postgres
def test_a_connection_killed_before_commit_is_retried_once_and_the_work_done_once(pg_url: str) -> None:
    with serving(outage_settings(pg_url, db_lock_timeout_seconds=10.0)) as (client, ctx):
        admin = admin_engine(pg_url)
        outcome: list = []
        with held_write_lock(pg_url):
            request = threading.Thread(target=lambda: outcome.append(
                client.post("/api/v1/process-instances", json={"definition_key": "deal", "business_key": "k1"})))
            request.start()
            terminate(admin, wait_for_lock_waiter(admin))  # the request's connection dies inside its transaction
            wait_for_lock_waiter(admin)  # and the request runs again on a new one
        request.join(10)
        admin.dispose()
        assert outcome[0].status_code == 201, outcome[0].text
        with ctx.db.read() as session:
            assert session.scalar(select(func.count()).select_from(ProcessInstance)) == 1


@needs_postgres
def test_a_refused_database_is_a_quick_503_health_says_so_and_the_first_request_after_succeeds(
        pg_url: str) -> None:
    parsed = make_url(pg_url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy, \
            serving(outage_settings(proxy.proxied_url(pg_url))) as (client, _ctx):
        assert client.get("/api/v1/process-instances").status_code == 200
        proxy.refuse()
        for _ in range(3):
            started = time.monotonic()
            assert_unavailable(client.get("/api/v1/process-instances"), started)
            started = time.monotonic()
            assert_unavailable(client.post("/api/v1/process-instances", json={"definition_key": "deal"}),
                               started)
            started = time.monotonic()
            health = client.get("/health")
            assert_unavailable(health, started)
            database = health.json()["checks"]["database"]
            assert database["status"] == "down" and database["detail"]
            started = time.monotonic()
            assert_unavailable(client.get("/engine-rest/process-instance"), started)
        proxy.restore()
        assert client.post("/api/v1/process-instances", json={"definition_key": "deal"}).status_code == 201
        assert client.get("/health").json()["status"] == "ok"


@needs_postgres
def test_requests_run_under_the_configured_timeouts_and_migrations_under_none(pg_url: str) -> None:
    from app.db.session import NO_STATEMENT_LIMITS, Timeouts, make_engine

    for timeouts, expected in ((Timeouts(statement=2.0, lock=0.5), ("2s", "500ms")), (NO_STATEMENT_LIMITS, ("0", "0"))):
        engine = make_engine(pg_url, timeouts)
        with engine.connect() as conn:
            shown = (conn.exec_driver_sql("SHOW statement_timeout").scalar(),
                     conn.exec_driver_sql("SHOW lock_timeout").scalar())
        engine.dispose()
        assert shown == expected
