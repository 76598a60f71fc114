"""Malformed or out-of-range query parameters are 4xx answers naming the parameter, never 500s (on SQLite a
number beyond 64 bits cannot even be bound)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

HUGE = str(2**63)
QUERIES = [
    ("/engine-rest/task?assigned=maybe", "assigned"),
    ("/engine-rest/task?unassigned=x", "unassigned"),
    ("/engine-rest/task/count?unassigned=x", "unassigned"),
    ("/engine-rest/task?maxPriority=abc", "maxPriority"),
    (f"/engine-rest/task?priority={HUGE}", "too large"),
    (f"/engine-rest/task?minPriority={HUGE}9", "too large"),
    (f"/engine-rest/task?firstResult={HUGE}&maxResults=5", "firstResult"),
    (f"/engine-rest/process-instance?firstResult={HUGE}", "firstResult"),
    (f"/engine-rest/external-task?firstResult={HUGE}", "firstResult"),
    (f"/engine-rest/history/process-instance?firstResult={HUGE}", "firstResult"),
    (f"/api/v1/tasks?offset={HUGE}", "offset"),
    (f"/api/v1/process-instances?offset={HUGE}", "offset"),
    (f"/api/v1/jobs?offset={HUGE}", "offset"),
]


@pytest.mark.parametrize(("url", "named"), QUERIES)
def test_malformed_query_is_a_4xx_naming_the_parameter(client: TestClient, url: str, named: str) -> None:
    response = client.get(url)
    assert response.status_code in (400, 422), (url, response.status_code, response.text)
    # A number beyond 64 bits: SQLite cannot bind it, PostgreSQL says it is out of range.
    alternatives = ("too large", "out of range") if named == "too large" else (named,)
    assert any(text in response.text for text in alternatives), response.text
