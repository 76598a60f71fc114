"""Fixtures for the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.integration.sales_desk import SalesDesk, open_desk, travelling_clock


@pytest.fixture
def desk(client: TestClient, ctx: AppContext) -> Iterator[SalesDesk]:
    """The sales department with the shipped models, on a clock the test can move forward."""
    with travelling_clock() as clock:
        yield open_desk(client, ctx, clock)
