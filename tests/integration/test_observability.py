"""What an operator sees: X-Request-ID on every answer, Prometheus metrics at /metrics, and JSON log lines that
carry the request's id (also the engine's and the services' lines), its route, user, status and duration."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from app.observability.logs import JsonFormatter, RequestContextFilter
from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import make_user, two_lane_deal, upload


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        found = dict(re.findall(r'(\w+)="([^"]*)"', line.split(" ")[0]))
        if all(found.get(k) == v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_every_answer_carries_a_request_id_and_a_sane_one_is_echoed(client: TestClient) -> None:
    made = client.get("/api/v1/process-instances")
    assert re.fullmatch(r"[0-9a-f]{16}", made.headers["x-request-id"])
    assert client.get("/health", headers={"X-Request-ID": "trace-42"}).headers["x-request-id"] == "trace-42"
    for path in ("/api/v1/nowhere", "/engine-rest/task/nope", "/ui/inbox"):
        response = client.get(path, headers={"X-Request-ID": "abc-1"}, follow_redirects=False)
        assert response.headers["x-request-id"] == "abc-1", path
    anonymous = client.get("/api/v1/tasks", headers={"Authorization": "", "X-Request-ID": "anon-1"})
    assert anonymous.status_code == 401 and anonymous.headers["x-request-id"] == "anon-1"
    odd = client.get("/health", headers={"X-Request-ID": "x" * 500}).headers["x-request-id"]
    assert odd != "x" * 500 and len(odd) == 16  # refused: made up anew


def test_metrics_count_work_by_route_template_and_status(client: TestClient, ctx: AppContext) -> None:
    assert client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201
    before = client.get("/metrics").text
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    task_id = instance["tasks"][0]["id"]
    seller = make_user(ctx, "seller", ["hunter", "closer"])
    done = client.post(f"/api/v1/tasks/{task_id}/complete", auth=seller,
                       json={"variables": {"company": "Ромашка", "amount": 10}})
    assert done.status_code == 200, done.text
    assert client.post(f"/api/v1/tasks/{task_id}/complete", auth=seller, json={"variables": {}}).status_code == 409

    scrape = client.get("/metrics")
    assert scrape.status_code == 200 and scrape.headers["content-type"].startswith("text/plain")
    after = scrape.text

    def grew(name: str, **labels: str) -> float:
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert grew("voronka_http_requests_total", route="/api/v1/tasks/{task_id}/complete", status="200") == 1
    assert grew("voronka_http_requests_total", route="/api/v1/tasks/{task_id}/complete", status="409") == 1
    assert grew("voronka_http_request_duration_seconds_count", route="/api/v1/process-instances",
                method="POST", status="201") == 1
    assert grew("voronka_instance_starts_total") == 1
    assert grew("voronka_task_completions_total") == 1
    assert grew("voronka_instances_ended_total", outcome="completed") == 1
    assert grew("voronka_engine_step_seconds_count") >= 2
    for name in ("voronka_jobs_due_waiting", "voronka_jobs_oldest_due_seconds", "voronka_external_tasks_locked",
                 "voronka_incidents_open", "voronka_db_pool_connections_in_use", "voronka_timers_fired_total",
                 "voronka_timer_lag_seconds_bucket", "voronka_login_failures_total"):
        assert f"\n{name}" in after, name
    assert sample(after, "voronka_database_up") == 1


def test_metrics_need_an_admin_or_the_metrics_token(client: TestClient, ctx: AppContext) -> None:
    anonymous = client.get("/metrics", headers={"Authorization": ""})
    assert anonymous.status_code == 401
    seller = make_user(ctx, "seller", ["hunter"])
    assert client.get("/metrics", auth=seller).status_code == 403
    ctx.settings.metrics_token = "s3cret-metrics-token-123"
    assert client.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-123"}).status_code == 200
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong-token-wrong-token"}).status_code == 401


def test_a_failed_sign_in_is_counted(client: TestClient) -> None:
    before = sample(client.get("/metrics").text, "voronka_login_failures_total")
    assert client.get("/api/v1/tasks", headers=basic_auth("admin", "wrong")).status_code == 401
    assert sample(client.get("/metrics").text, "voronka_login_failures_total") - before == 1


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestContextFilter())
    handler.setFormatter(JsonFormatter())
    root, spiff = logging.getLogger(), logging.getLogger("spiff")
    old_levels = root.level, spiff.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    spiff.setLevel(logging.INFO)  # the engine's own lines must carry the request id too
    yield stream
    root.removeHandler(handler)
    root.setLevel(old_levels[0])
    spiff.setLevel(old_levels[1])


def test_json_log_lines_carry_the_request_id_route_user_status_and_duration(
        client: TestClient, ctx: AppContext, json_log: io.StringIO) -> None:
    assert client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201
    started = client.post("/api/v1/process-instances", json={"definition_key": "deal"},
                          headers={"X-Request-ID": "req-start-1"})
    assert started.status_code == 201
    assert client.get("/api/v1/tasks", headers={**basic_auth("admin", "bad"), "X-Request-ID": "req-bad-2"}) \
        .status_code == 401
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    mine = [line for line in lines if line.get("request_id") == "req-start-1"]
    assert any(line["logger"].startswith("spiff") for line in mine), "the engine's lines carry the request id"
    access = [line for line in mine if line["logger"] == "voronka.access"]
    assert len(access) == 1
    assert access[0] | {"duration_ms": 0} == access[0] | {
        "route": "/api/v1/process-instances", "status": 201, "user": "admin", "method": "POST", "duration_ms": 0}
    assert access[0]["duration_ms"] > 0
    failed = [line for line in lines if line.get("request_id") == "req-bad-2"]
    assert {line["logger"] for line in failed} >= {"app.services.logins", "voronka.access"}
    assert all(line["level"] and line["time"] for line in lines)


def boom() -> None:
    raise RuntimeError("a bug")


def test_an_unexpected_error_is_a_500_with_the_request_id_in_the_answer_and_the_log(
        ctx: AppContext, json_log: io.StringIO) -> None:
    from app.main import create_app

    app = create_app(context=ctx)
    app.add_api_route("/api/v1/boom", boom, methods=["GET"])
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/v1/boom", headers={"X-Request-ID": "bug-1"})
    assert response.status_code == 500 and response.headers["x-request-id"] == "bug-1"
    assert response.json()["detail"] == "an unexpected error occurred; it has been logged"
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]
    logged = [line for line in lines if line.get("request_id") == "bug-1"]
    assert any(line["message"] == "unhandled error" and "RuntimeError: a bug" in line["exception"]
               for line in logged)
    assert any(line["logger"] == "voronka.access" and line["status"] == 500 for line in logged)
