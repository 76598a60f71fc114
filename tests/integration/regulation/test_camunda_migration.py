"""Camunda 7's migration REST shapes: generate, validate, execute, executeAsync and the batch's progress."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.worker.loop import Worker
from tests.integration.regulation.models import lead_process, steps
from tests.integration.regulation.test_approval_and_diff import deploy
from tests.integration.regulation.test_migration import complete_open, start

pytestmark = pytest.mark.db


def test_generate_validate_execute_and_an_async_batch(client: TestClient, ctx: AppContext) -> None:
    v1 = deploy(client, steps(1))
    first, second = start(client, "steps", "k1"), start(client, "steps", "k2")
    complete_open(client, second)
    v2 = deploy(client, steps(2))

    generated = client.post("/engine-rest/migration/generate", json={
        "sourceProcessDefinitionId": v1["id"], "targetProcessDefinitionId": v2["id"], "updateEventTriggers": False})
    assert generated.status_code == 200, generated.text
    plan = generated.json()
    assert plan["sourceProcessDefinitionId"] == v1["id"] and plan["targetProcessDefinitionId"] == v2["id"]
    assert {"sourceActivityIds": ["A"], "targetActivityIds": ["A"], "updateEventTrigger": False} in plan["instructions"]

    report = client.post("/engine-rest/migration/validate", json=plan)
    assert report.status_code == 200 and report.json() == {"instructionReports": [], "variableReports": {}}
    broken = {**plan, "instructions": [{"sourceActivityIds": ["A"], "targetActivityIds": ["Nope"]}]}
    bad = client.post("/engine-rest/migration/validate", json=broken).json()
    assert bad["instructionReports"][0]["instruction"]["sourceActivityIds"] == ["A"]
    assert "no element 'Nope'" in bad["instructionReports"][0]["failures"][0]
    refused = client.post("/engine-rest/migration/execute", json={"migrationPlan": broken,
                                                                  "processInstanceIds": [first]})
    assert refused.status_code == 400 and refused.json()["type"] == "MigrationPlanValidationException"

    done = client.post("/engine-rest/migration/execute", json={"migrationPlan": plan, "processInstanceIds": [first]})
    assert done.status_code == 204, done.text
    assert client.get(f"/engine-rest/process-instance/{first}").json()["definitionId"] == v2["id"]

    batch = client.post("/engine-rest/migration/executeAsync", json={
        "migrationPlan": plan, "processInstanceQuery": {"businessKeyLike": "k%"}, "skipCustomListeners": True})
    assert batch.status_code == 200, batch.text
    body = batch.json()
    assert (body["type"], body["totalJobs"], body["createUserId"]) == ("instance-migration", 1, "admin")
    stats = client.get("/engine-rest/batch/statistics").json()
    assert [(s["id"], s["remainingJobs"], s["completedJobs"]) for s in stats] == [(body["id"], 1, 0)]
    Worker(ctx).run_until_idle()
    stats = client.get("/engine-rest/batch/statistics").json()
    assert (stats[0]["remainingJobs"], stats[0]["completedJobs"], stats[0]["failedJobs"]) == (0, 1, 0)
    assert client.get(f"/engine-rest/batch/{body['id']}").json()["id"] == body["id"]
    assert client.get("/engine-rest/batch/nope").status_code == 404


def test_execute_refuses_an_instance_that_cannot_migrate_with_its_report(client: TestClient) -> None:
    v1 = deploy(client, lead_process(1))
    waiting = start(client, "reg", "o")
    complete_open(client, waiting, {"amount": 10})
    complete_open(client, waiting)  # now in Obsolete, which v2 removed
    v2 = deploy(client, lead_process(2))
    plan = client.post("/engine-rest/migration/generate", json={
        "sourceProcessDefinitionId": v1["id"], "targetProcessDefinitionId": v2["id"]}).json()
    refused = client.post("/engine-rest/migration/execute", json={"migrationPlan": plan,
                                                                  "processInstanceIds": [waiting]})
    assert refused.status_code == 400
    body = refused.json()
    assert body["type"] == "MigratingProcessInstanceValidationException"
    assert body["validationReport"]["processInstanceId"] == waiting and "Obsolete" in body["message"]
    assert client.get(f"/engine-rest/process-instance/{waiting}").json()["definitionId"] == v1["id"]


def test_a_draft_is_listed_as_suspended(client: TestClient) -> None:
    deploy(client, lead_process(1, key="sales_deal"))
    draft = deploy(client, lead_process(2, key="sales_deal"))
    listed = client.get("/engine-rest/process-definition", params={"key": "sales_deal"}).json()
    assert {(d["version"], d["suspended"]) for d in listed} == {(1, False), (2, True)} or \
        {(d["version"], d["suspended"]) for d in listed} == {(2, True)}
    assert client.get(f"/engine-rest/process-definition/{draft['id']}").json()["suspended"] is True
    assert client.get("/engine-rest/process-definition/key/sales_deal").json()["version"] == 1
