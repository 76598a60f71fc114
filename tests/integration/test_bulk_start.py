"""POST /api/v1/process-instances/batch: many starts, per-item results, idempotent on the business key."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import make_user, two_lane_deal, upload

BATCH = "/api/v1/process-instances/batch"


def deploy(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201


def test_batch_starts_every_item_across_chunks_with_its_key_and_variables(client: TestClient) -> None:
    deploy(client)
    items = [{"business_key": f"lead-{i}", "variables": {"n": i}} for i in range(120)]  # two chunks of 100
    response = client.post(BATCH, json={"definition_key": "deal", "items": items})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["started"], body["existing"], body["failed"]) == (120, 0, 0)
    assert [r["index"] for r in body["items"]] == list(range(120))
    assert all(r["status"] == "started" and r["instance_status"] == "running" for r in body["items"])
    last = client.get(f"/api/v1/process-instances/{body['items'][119]['instance_id']}").json()
    assert last["business_key"] == "lead-119" and last["variables"] == {"n": 119}
    assert [t["element_id"] for t in last["tasks"]] == ["Qualify"]
    assert client.get("/api/v1/process-instances", params={"definition_key": "deal"}).json()["total"] == 120


def test_each_bad_item_fails_alone_with_a_located_error(client: TestClient) -> None:
    deploy(client)
    items = [
        {"business_key": "ok-1", "variables": {"a": 1}},
        {"business_key": "bad-vars", "variables": [1, 2]},
        {"business_key": "bad-name", "variables": {"1st": True}},
        {"business_key": "x" * 256},
        {"business_key": 42},
        {"business_key": "nul", "variables": {"text": "a\u0000b"}},
        {"business_key": "ok-2"},
    ]
    body = client.post(BATCH, json={"definition_key": "deal", "items": items}).json()
    statuses = [r["status"] for r in body["items"]]
    assert statuses == ["started", "failed", "failed", "failed", "failed", "failed", "started"]
    assert (body["started"], body["failed"]) == (2, 5)
    errors = {r["index"]: r["error"] for r in body["items"] if r["error"]}
    assert errors[1]["status"] == 400 and "items[1]" in errors[1]["detail"] and "JSON object" in errors[1]["detail"]
    assert errors[2]["errors"][0]["field"] == "items[2].variables.1st"
    assert errors[3]["errors"][0]["field"] == "items[3].business_key"
    assert "255" in errors[4]["detail"]
    assert errors[5]["errors"][0]["field"] == "items[5].variables.text"
    listed = client.get("/api/v1/process-instances", params={"definition_key": "deal"}).json()
    assert sorted(i["business_key"] for i in listed["items"]) == ["ok-1", "ok-2"]  # failed items left nothing


def test_unique_business_key_makes_a_repeated_import_start_nothing_twice(client: TestClient) -> None:
    deploy(client)
    first = client.post(BATCH, json={"definition_key": "deal", "unique_business_key": True,
                                     "items": [{"business_key": "A"}, {"business_key": "B"},
                                               {"business_key": "A"}]}).json()
    assert [r["status"] for r in first["items"]] == ["started", "started", "existing"]
    assert first["items"][2]["instance_id"] == first["items"][0]["instance_id"]
    again = client.post(BATCH, json={"definition_key": "deal", "unique_business_key": True,
                                     "items": [{"business_key": "B"}, {"business_key": "C"}, {}]}).json()
    assert [r["status"] for r in again["items"]] == ["existing", "started", "failed"]
    assert again["items"][0]["instance_id"] == first["items"][1]["instance_id"]
    assert again["items"][2]["error"]["errors"][0]["field"] == "items[2].business_key"
    keys = [i["business_key"] for i in client.get("/api/v1/process-instances").json()["items"]]
    assert sorted(keys) == ["A", "B", "C"]
    plain = client.post(BATCH, json={"definition_key": "deal", "items": [{"business_key": "A"}]}).json()
    assert plain["items"][0]["status"] == "started"  # without the flag a key may repeat, as with single starts


def test_whole_call_refusals_are_clear_4xx(client: TestClient, ctx: AppContext) -> None:
    deploy(client)
    assert client.post(BATCH, json={"definition_key": "nope", "items": [{}]}).status_code == 404
    assert client.post(BATCH, json={"definition_key": "deal", "items": []}).status_code == 422
    too_many = client.post(BATCH, json={"definition_key": "deal", "items": [{}] * 1001})
    assert too_many.status_code == 422 and "items" in too_many.json()["detail"]
    assert client.post(BATCH, json={"items": [{}]}).status_code == 422
    anonymous = TestClient(client.app)
    assert anonymous.post(BATCH, json={"definition_key": "deal", "items": [{}]}).status_code == 401
    xml = two_lane_deal(key="vip").replace('isExecutable="true"',
                                           'isExecutable="true" camunda:candidateStarterGroups="closer"')
    assert client.post("/api/v1/deployments", files=upload(("vip.bpmn", xml))).status_code == 201
    hunter = TestClient(client.app, headers=basic_auth(*make_user(ctx, "h1", ["hunter"])))
    refused = hunter.post(BATCH, json={"definition_key": "vip", "items": [{"business_key": "x"}]})
    assert refused.status_code == 403
    assert client.get("/api/v1/process-instances", params={"definition_key": "vip"}).json()["total"] == 0
