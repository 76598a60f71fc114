"""The server core over HTTP: deploy, start, work tasks through both branches, survive a restart."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from app.services.context import AppContext
from tests.conftest import ADMIN, basic_auth
from tests.factories import make_user, two_lane_deal, upload


def deploy(client: TestClient, xml: str, name: str = "deal.bpmn") -> dict:
    response = client.post("/api/v1/deployments", files=upload((name, xml)))
    assert response.status_code in (200, 201), response.text
    return response.json()


def open_task(client: TestClient, instance_id: str) -> dict:
    tasks = client.get("/api/v1/tasks", params={"instance_id": instance_id}).json()
    assert tasks["total"] == 1, tasks
    return tasks["items"][0]


def test_deploy_creates_version_one_and_identical_reupload_creates_nothing(client: TestClient) -> None:
    first = client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal())))
    assert first.status_code == 201
    assert [(d["key"], d["version"], d["name"]) for d in first.json()["definitions"]] == [("deal", 1, "Сделка")]
    again = client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal())))
    assert again.status_code == 200
    assert again.json()["definitions"][0]["id"] == first.json()["definitions"][0]["id"]
    changed = client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal(threshold=5))))
    assert changed.status_code == 201 and changed.json()["definitions"][0]["version"] == 2
    versions = client.get("/api/v1/process-definitions/deal").json()
    assert [v["version"] for v in versions["items"]] == [2, 1]
    xml = client.get("/api/v1/process-definitions/deal/xml", params={"version": 1})
    assert xml.status_code == 200 and "amount &gt; 1000" in xml.text


def as_user(client: TestClient, ctx: AppContext, name: str, groups: list[str]) -> TestClient:
    return TestClient(client.app, headers=basic_auth(*make_user(ctx, name, groups)))


@pytest.fixture
def seller(client: TestClient, ctx: AppContext) -> TestClient:
    """One person who deploys (designer) and works both lanes (hunter, closer)."""
    return as_user(client, ctx, "seller", ["designer", "hunter", "closer"])


def test_big_deal_goes_from_hunter_to_closer_and_completes(client: TestClient, ctx: AppContext) -> None:
    hunter = as_user(client, ctx, "hunter1", ["hunter"])
    closer = as_user(client, ctx, "closer1", ["closer"])
    deploy(client, two_lane_deal())
    started = client.post("/api/v1/process-instances",
                          json={"definition_key": "deal", "business_key": "ООО Ромашка", "variables": {}})
    assert started.status_code == 201, started.text
    instance = started.json()
    assert instance["status"] == "running" and instance["definition_version"] == 1
    task = open_task(client, instance["id"])
    assert task["element_id"] == "Qualify" and task["candidate_groups"] == ["hunter"]
    assert {f["id"] for f in task["form"]} == {"company", "amount"}
    assert task["funnel_stage"] == "qualified" and task["work_kind"] == "main"

    done = hunter.post(f"/api/v1/tasks/{task['id']}/complete",
                       json={"variables": {"company": "Ромашка", "amount": 5000}})
    assert done.status_code == 200, done.text
    closing = open_task(client, instance["id"])
    assert closing["element_id"] == "Close" and closing["candidate_groups"] == ["closer"]
    signed = closer.post(f"/api/v1/tasks/{closing['id']}/complete", json={"variables": {"signed": True}})
    assert signed.status_code == 200

    final = client.get(f"/api/v1/process-instances/{instance['id']}").json()
    assert final["status"] == "completed" and final["tasks"] == []
    assert final["variables"] == {"company": "Ромашка", "amount": 5000, "signed": True}
    history = client.get(f"/api/v1/process-instances/{instance['id']}/history").json()["items"]
    kinds = [e["kind"] for e in history]
    assert kinds[0] == "instance_started" and kinds[-1] == "instance_completed"
    assert kinds.count("task_completed") == 2
    gateway = next(e for e in history if e["kind"] == "gateway_taken")
    assert gateway["element_id"] == "Route" and gateway["data"]["taken"] == ["Close"]
    assert [e["actor"] for e in history if e["kind"] == "task_completed"] == ["hunter1", "closer1"]


def test_small_deal_ends_after_qualification(client: TestClient, ctx: AppContext) -> None:
    client = as_user(client, ctx, "hunter1", ["hunter"])
    deploy_as_admin = TestClient(client.app, headers=basic_auth(*ADMIN))
    deploy(deploy_as_admin, two_lane_deal())
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    task = open_task(client, instance["id"])
    client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"company": "Лютик", "amount": 10}})
    final = client.get(f"/api/v1/process-instances/{instance['id']}").json()
    assert final["status"] == "completed"
    history = client.get(f"/api/v1/process-instances/{instance['id']}/history").json()["items"]
    assert next(e for e in history if e["kind"] == "gateway_taken")["data"]["taken"] == ["EndSmall"]


def test_state_survives_a_restart_between_steps(ctx: AppContext) -> None:
    credentials = basic_auth(*make_user(ctx, "seller", ["designer", "hunter", "closer"]))
    with TestClient(create_app(context=ctx), headers=credentials) as first:
        deploy(first, two_lane_deal())
        instance = first.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
        task = open_task(first, instance["id"])
    # A new context means a new engine, connection pool and spec cache: nothing survives but the database.
    fresh = AppContext(ctx.settings)
    try:
        with TestClient(create_app(context=fresh), headers=credentials) as second:
            assert open_task(second, instance["id"])["id"] == task["id"]
            second.post(f"/api/v1/tasks/{task['id']}/complete",
                        json={"variables": {"company": "Ромашка", "amount": 2000}})
            closer = open_task(second, instance["id"])
        fresh2 = AppContext(ctx.settings)
        with TestClient(create_app(context=fresh2), headers=credentials) as third:
            third.post(f"/api/v1/tasks/{closer['id']}/complete", json={"variables": {"signed": False}})
            final = third.get(f"/api/v1/process-instances/{instance['id']}").json()
        fresh2.close()
    finally:
        fresh.close()
    assert final["status"] == "completed" and final["variables"]["company"] == "Ромашка"


def test_completing_twice_is_a_conflict_and_history_holds_one_completion(seller: TestClient) -> None:
    client = seller
    deploy(client, two_lane_deal())
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    task = open_task(client, instance["id"])
    body = {"variables": {"company": "Ромашка", "amount": 1}}
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json=body).status_code == 200
    second = client.post(f"/api/v1/tasks/{task['id']}/complete", json=body)
    assert second.status_code == 409
    assert second.headers["content-type"].startswith("application/problem+json")
    history = client.get(f"/api/v1/process-instances/{instance['id']}/history").json()["items"]
    assert sum(e["kind"] == "task_completed" for e in history) == 1


def test_form_errors_name_the_field(seller: TestClient) -> None:
    client = seller
    deploy(client, two_lane_deal())
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    task = open_task(client, instance["id"])
    missing = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"company": "X"}})
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["amount"]
    wrong = client.post(f"/api/v1/tasks/{task['id']}/complete",
                        json={"variables": {"company": "X", "amount": "много"}})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "amount"
    negative = client.post(f"/api/v1/tasks/{task['id']}/complete",
                           json={"variables": {"company": "X", "amount": -5}})
    assert negative.status_code == 422 and "at least 0" in negative.json()["detail"]
    assert open_task(client, instance["id"])["state"] == "open"


def test_claim_unclaim_and_terminate(seller: TestClient) -> None:
    client = seller
    deploy(client, two_lane_deal())
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal", "business_key": "bk-1"}).json()
    task = open_task(client, instance["id"])
    claimed = client.post(f"/api/v1/tasks/{task['id']}/claim").json()
    assert claimed["assignee"] == "seller"
    assert client.get("/api/v1/tasks", params={"scope": "mine"}).json()["total"] == 1
    assert client.post(f"/api/v1/tasks/{task['id']}/unclaim").json()["assignee"] is None
    listed = client.get("/api/v1/process-instances", params={"business_key": "bk-1"}).json()
    assert listed["total"] == 1
    ended = client.post(f"/api/v1/process-instances/{instance['id']}/terminate", json={"reason": "дубль"})
    assert ended.status_code == 200 and ended.json()["status"] == "terminated"
    assert client.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()["total"] == 0
    again = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {}})
    assert again.status_code == 409


def test_health_answers_without_credentials(client: TestClient) -> None:
    anonymous = TestClient(client.app)
    assert anonymous.get("/health").json()["status"] == "ok"
    assert anonymous.get("/api/v1/tasks").status_code == 401
