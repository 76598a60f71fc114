"""A real uvicorn on 127.0.0.1 with a free port, serving the app on the test database (SQLite, PostgreSQL)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.conftest import ADMIN


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server(ctx: object) -> Iterator[str]:
    """The base URL of a running server (no trailing slash); stopped after the test."""
    from app.main import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(context=ctx), host="127.0.0.1", port=port, log_level="warning",  # type: ignore[arg-type]
                            lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def engine_rest(live_server: str) -> str:
    return f"{live_server}/engine-rest"


@pytest.fixture
def admin_http(live_server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live_server, auth=ADMIN, timeout=30) as client:
        yield client
