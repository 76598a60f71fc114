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
