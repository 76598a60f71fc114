from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from app.auth.actor import SYSTEM
from app.services import deployments
from app.services.context import AppContext
from tests.ui_support import add_users, sales_files


@pytest.fixture
def pages(ctx: AppContext) -> Iterator[Any]:
    """A browser-like client of the pages: no credentials of its own, cookies kept, redirects not followed.

    https, because the session cookie is Secure and a client (like a browser) only sends it back over TLS."""
    from fastapi.testclient import TestClient

    from app.main import create_app

    add_users(ctx)
    with TestClient(create_app(context=ctx), base_url="https://testserver", follow_redirects=False) as client:
        yield client


@pytest.fixture
def sales(ctx: AppContext) -> AppContext:
    deployments.deploy(ctx, files=sales_files(), actor=SYSTEM)
    return ctx
