"""Configured limits and the schema gate, seen from outside."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app.cli import cli
from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import definitions, make_user, upload


def test_json_body_over_the_payload_limit_is_413(client: TestClient) -> None:
    limit = client.app.state.context.settings.max_payload_bytes
    response = client.post("/api/v1/process-instances",
                           json={"definition_key": "x", "variables": {"blob": "я" * limit}})
    assert response.status_code == 413
    assert response.json()["title"] == "Payload too large"


def test_serve_refuses_a_schema_that_is_behind_and_names_the_fix(tmp_path: Path, monkeypatch) -> None:
    from app.settings import get_settings

    monkeypatch.setenv("VORONKA_DATABASE_URL", f"sqlite:///{tmp_path / 'behind.db'}")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["serve", "--port", "0"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "voronka migrate" in result.output


def test_candidate_groups_expression_resolves_from_instance_data(client: TestClient, ctx: AppContext) -> None:
    model = definitions("""
  <bpmn:process id="approve" isExecutable="true">
    <bpmn:startEvent id="StartEvent" />
    <bpmn:userTask id="Approve" name="Согласовать" camunda:candidateGroups="${approverGroups}"
                   camunda:priority="${urgent ? 90 : 10}" camunda:dueDate="P2D" />
    <bpmn:endEvent id="EndEvent" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent" targetRef="Approve" />
    <bpmn:sequenceFlow id="F2" sourceRef="Approve" targetRef="EndEvent" />
  </bpmn:process>""")
    assert client.post("/api/v1/deployments", files=upload(("a.bpmn", model))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={
        "definition_key": "approve", "variables": {"approverGroups": ["head_of_sales", "accounting"],
                                                   "urgent": True}}).json()
    (task,) = instance["tasks"]
    assert sorted(task["candidate_groups"]) == ["accounting", "head_of_sales"]
    assert task["priority"] == 90 and task["due_at"] is not None
    accountant = TestClient(client.app, headers=basic_auth(*make_user(ctx, "acc", ["accounting"])))
    closer = TestClient(client.app, headers=basic_auth(*make_user(ctx, "clo", ["closer"])))
    assert closer.post(f"/api/v1/tasks/{task['id']}/claim").status_code in (403, 404)
    assert accountant.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {}}).status_code == 200


UNSTORABLE = [
    b'{"definition_key": "deal", "variables": {"a": NaN}}',
    b'{"definition_key": "deal", "variables": {"a": Infinity}}',
    b'{"definition_key": "deal", "variables": {"nested": {"list": [1, -Infinity]}}}',
    b'{"definition_key": "deal", "variables": {"a": "x\\u0000y"}}',
    b'{"definition_key": "deal", "business_key": "bk\\u0000"}',
]


def test_values_no_database_can_store_are_refused_naming_the_field(client: TestClient, ctx: AppContext) -> None:
    from tests.factories import two_lane_deal

    seller = TestClient(client.app, headers=basic_auth(*make_user(ctx, "s", ["designer", "hunter"])))
    assert seller.post("/api/v1/deployments", files=upload(("d.bpmn", two_lane_deal()))).status_code == 201
    for body in UNSTORABLE:
        response = seller.post("/api/v1/process-instances", content=body, headers={"content-type": "application/json"})
        assert response.status_code == 400, (body, response.text)
        assert response.json()["errors"][0]["field"].startswith(("variables", "business_key"))
    assert seller.get("/api/v1/process-instances").json()["total"] == 0
    task_id = seller.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()["tasks"][0]["id"]
    body = b'{"variables": {"company": "\\u0000", "amount": 5}}'
    bad = seller.post(f"/api/v1/tasks/{task_id}/complete", content=body, headers={"content-type": "application/json"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "variables.company"
