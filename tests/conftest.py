"""Fixtures shared by every test: databases (SQLite always, PostgreSQL when configured), context, clients.

Database tests take the `database_url` fixture; it is parametrized over every configured backend, so with
VORONKA_TEST_POSTGRES_URL set each of them runs a second time on PostgreSQL (never silently skipped).
"""

from __future__ import annotations

import base64
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app.db.migrate import upgrade
from app.settings import Settings

POSTGRES_URL = os.environ.get("VORONKA_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]
ADMIN = ("admin", "admin-secret")


def basic_auth(username: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def postgres_schema_url(schema: str) -> str:
    """A URL whose connections live in their own schema, so test runs never see each other's tables."""
    assert POSTGRES_URL
    url = make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def create_postgres_schema() -> str:
    schema = f"t_{uuid.uuid4().hex[:12]}"
    engine = create_engine(make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)))
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    return schema


def drop_postgres_schema(schema: str) -> None:
    engine = create_engine(make_url(POSTGRES_URL.replace("postgresql://", "postgresql+psycopg://", 1)))
    with engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "voronka.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> Iterator[str]:
    schema = create_postgres_schema()
    url = postgres_schema_url(schema)
    upgrade(url)
    yield url
    drop_postgres_schema(schema)


def _truncate_postgres(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text(
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
        )).scalars().all()
        if tables:
            conn.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " CASCADE"))
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each configured backend."""
    if request.param == "sqlite":
        path = tmp_path / "voronka.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_migrated")
    _truncate_postgres(url)
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    # Cheap argon2 parameters keep the suite fast; production never sets this.
    return Settings(database_url=database_url, bootstrap_admin=":".join(ADMIN), embedded_worker=False,
                    fast_password_hashing=True, files_dir=tmp_path / "files", _env_file=None)


@pytest.fixture
def ctx(settings: Settings) -> Iterator[object]:
    from app.main import prepare_database
    from app.services.context import AppContext

    context = AppContext(settings)
    prepare_database(context)
    yield context
    context.close()


@pytest.fixture
def client(ctx: object) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from app.main import create_app

    with TestClient(create_app(context=ctx), headers=basic_auth(*ADMIN)) as test_client:  # type: ignore[arg-type]
        yield test_client


class LiveServer:
    """A real uvicorn server on a free loopback port, serving the app of one test's context."""

    def __init__(self, app: object) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        import time

        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture
def live_server(ctx: object) -> Iterator[LiveServer]:
    from app.main import create_app

    with LiveServer(create_app(context=ctx)) as server:  # type: ignore[arg-type]
        yield server
