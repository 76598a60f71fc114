"""The dialect's tests talk to a real uvicorn (the shared `live_server` fixture) over HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import ADMIN


@pytest.fixture
def server_url(live_server: object) -> str:
    """The base URL of the running server, without a trailing slash."""
    return str(live_server.url)  # type: ignore[attr-defined]


@pytest.fixture
def engine_rest(server_url: str) -> str:
    return f"{server_url}/engine-rest"


@pytest.fixture
def admin_http(server_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server_url, auth=ADMIN, timeout=30) as client:
        yield client
