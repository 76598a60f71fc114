"""Schemathesis against both OpenAPI documents (native /api/v1 and the Camunda dialect's /engine-rest), as an
admin and as a hunter, on SQLite and PostgreSQL: a few generated requests per operation, a fixed seed, and no
answer may be a 5xx. A shipped model and a running deal give the generated ids something to miss."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.conftest import basic_auth
from tests.factories import make_user, two_lane_deal, upload

# Long polls wait by design (up to minutes when asked); they are tested in test_external_tasks.py.
SLOW = r"fetch-and-lock|fetchAndLock"
FUZZ = settings(max_examples=3, derandomize=True, deadline=None, database=None,
                phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.fixture
def fuzzed(client: TestClient, ctx: Any) -> dict[str, Any]:
    """The app with data in it, and who may call it."""
    users = {"admin": make_user(ctx, "fuzz_admin", ["admin"]), "hunter": make_user(ctx, "fuzz_hunter", ["hunter"])}
    assert client.post("/api/v1/deployments", files=upload(("d.bpmn", two_lane_deal()))).status_code == 201
    assert client.post("/api/v1/process-instances", json={"definition_key": "deal"}).status_code == 201
    return {"app": client.app, "users": users}


def fuzz(app: Any, openapi_path: str, users: dict[str, tuple[str, str]]) -> int:
    """Every operation of one document, a few generated requests each, as each user; the number of calls."""
    schema = schemathesis.openapi.from_asgi(openapi_path, app).exclude(path_regex=SLOW)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @seed(13)
        @FUZZ
        @given(case=operation.as_strategy())
        def no_server_error(case: Any) -> None:
            nonlocal calls
            for role, credentials in users.items():
                response = case.call(headers=basic_auth(*credentials))
                calls += 1
                assert response.status_code < 500, (role, case.method, case.formatted_path, response.text[:500])

        no_server_error()
    return calls


def test_native_api_answers_no_5xx(fuzzed: dict[str, Any]) -> None:
    assert fuzz(fuzzed["app"], "/openapi.json", fuzzed["users"]) > 200


def test_camunda_dialect_answers_no_5xx(fuzzed: dict[str, Any]) -> None:
    assert fuzz(fuzzed["app"], "/engine-rest/openapi.json", fuzzed["users"]) > 200
