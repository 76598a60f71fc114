"""Variables nested too deep are refused at every door with the variable named (422), values the database
cannot hold are 400s, and a stored value nested deeper than the limit (from before it existed) never makes a
read fail: it is shown cut."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from app.db.models import ProcessInstance
from app.engine.data import MAX_VARIABLE_DEPTH, TOO_DEEP, json_safe
from app.services.context import AppContext
from tests.factories import external_invoice, payment_wait, two_lane_deal, upload

JSON = {"content-type": "application/json"}


def nested(depth: int) -> str:
    return "[" * depth + "1" + "]" * depth


def post(client: TestClient, url: str, body: str) -> tuple[int, str]:
    response = client.post(url, content=body.encode(), headers=JSON)
    return response.status_code, response.text


def test_too_deep_variables_are_refused_at_every_door_naming_the_variable(client: TestClient) -> None:
    for model in (two_lane_deal(), payment_wait(), external_invoice()):
        assert client.post("/api/v1/deployments", files=upload(("m.bpmn", model))).status_code == 201
    deep = nested(MAX_VARIABLE_DEPTH + 2)
    task_id = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()["tasks"][0]["id"]
    client.post("/api/v1/process-instances", json={"definition_key": "invoice", "business_key": "w"})
    client.post("/api/v1/process-instances", json={"definition_key": "billing"})
    [job] = client.post("/api/v1/external-tasks/fetch-and-lock", json={
        "worker_id": "w", "max_tasks": 1, "topics": [{"topic": "issue-invoice", "lock_duration": 60000}]}).json()
    native = [("/api/v1/process-instances", f'{{"definition_key": "deal", "variables": {{"tree": {deep}}}}}'),
              (f"/api/v1/tasks/{task_id}/complete", f'{{"variables": {{"tree": {deep}}}}}'),
              ("/api/v1/messages", f'{{"name": "payment", "business_key": "w", "variables": {{"tree": {deep}}}}}'),
              (f"/api/v1/external-tasks/{job['id']}/complete",
               f'{{"worker_id": "w", "variables": {{"tree": {deep}}}}}')]
    for url, body in native:
        status, text = post(client, url, body)
        assert status == 422 and "variables.tree" in text and "nested deeper" in text, (url, status, text)
    # A lead import answers per item.
    status, text = post(client, "/api/v1/process-instances/batch",
                        f'{{"definition_key": "deal", "items": [{{"variables": {{"tree": {deep}}}}}]}}')
    assert status == 200 and "failed" in text and "variables.tree" in text, text
    typed = json.dumps({"type": "Json", "value": nested(MAX_VARIABLE_DEPTH + 2)})
    camunda = [("/engine-rest/process-definition/key/deal/start", f'{{"variables": {{"tree": {typed}}}}}'),
               (f"/engine-rest/task/{task_id}/complete", f'{{"variables": {{"tree": {typed}}}}}'),
               ("/engine-rest/message", f'{{"messageName": "payment", "processVariables": {{"tree": {typed}}}}}')]
    for url, body in camunda:
        status, text = post(client, url, body)
        assert status == 400 and "tree" in text and "nested deeper" in text, (url, status, text)
    # Far deeper than any parser's recursion: still a clear 4xx, never a 500.
    for url, body in native[:2]:
        status, _ = post(client, url, body.replace(deep, nested(100_000)))
        assert status in (400, 422), url
    status, text = post(client, "/engine-rest/process-definition/key/deal/start",
                        '{"variables": {"tree": ' + json.dumps({"type": "Json", "value": nested(100_000)}) + "}}")
    assert status == 400 and "tree" in text
    assert client.get("/api/v1/process-instances", params={"definition_key": "deal"}).json()["total"] == 1


def test_lone_surrogates_and_nul_are_400s_naming_the_field(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("m.bpmn", two_lane_deal()))).status_code == 201
    for body in ('{"definition_key": "deal", "variables": {"name": "\\ud800"}}',
                 '{"definition_key": "deal", "variables": {"list": ["ok", "\\udfff x"]}}',
                 '{"definition_key": "deal", "business_key": "\\ud800"}'):
        status, text = post(client, "/api/v1/process-instances", body)
        assert status in (400, 422) and ("variables." in text or "business_key" in text), (body, text)


def test_a_stored_value_nested_too_deep_is_shown_cut_on_every_read(client: TestClient, ctx: AppContext) -> None:
    assert client.post("/api/v1/deployments", files=upload(("m.bpmn", two_lane_deal()))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
    value: object = 1
    for _ in range(400):
        value = [value]
    with ctx.db.transaction() as session:  # as an older version could have stored it
        session.get(ProcessInstance, instance["id"]).variables = {"tree": value, "company": "Ромашка"}
    task_id = instance["tasks"][0]["id"]
    for url in (f"/api/v1/process-instances/{instance['id']}", "/api/v1/process-instances",
                f"/api/v1/tasks/{task_id}", f"/engine-rest/task/{task_id}/variables",
                f"/engine-rest/process-instance/{instance['id']}/variables"):
        response = client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
        assert TOO_DEEP in response.text or TOO_DEEP.replace('"', '\\"') in response.text, url
    done = client.post(f"/api/v1/tasks/{task_id}/complete", json={"variables": {"company": "Ромашка", "amount": 1}})
    assert done.status_code == 200, done.text
    assert client.post(f"/api/v1/process-instances/{instance['id']}/terminate").status_code in (200, 409)


def test_engine_output_is_cut_at_the_depth_limit() -> None:
    value: object = "leaf"
    for _ in range(5000):
        value = {"x": value}
    cut = json_safe(value)
    depth = 0
    while isinstance(cut, dict):
        cut, depth = cut["x"], depth + 1
    assert (cut, depth) == (TOO_DEEP, MAX_VARIABLE_DEPTH + 1)


def test_collections_entering_scripts_are_bounded_naming_the_variable(client: TestClient) -> None:
    # Hash-colliding integers make set() quadratic inside one C call no time limit interrupts: 5,000 items
    # cost milliseconds even then, 38,000 froze a server for seconds.
    assert client.post("/api/v1/deployments", files=upload(("m.bpmn", two_lane_deal()))).status_code == 201
    colliding = [n * (2**61 - 1) for n in range(1, 5002)]  # all hash to 0
    refused = client.post("/api/v1/process-instances", json={"definition_key": "deal", "variables": {"ids": colliding}})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "variables.ids", refused.text
    assert "5001 items" in refused.json()["detail"]
    nested_refused = client.post("/api/v1/process-instances", json={
        "definition_key": "deal", "variables": {"box": {"ids": colliding}}})
    assert nested_refused.status_code == 422 and "variables.box.ids" in nested_refused.text
    accepted = client.post("/api/v1/process-instances", json={"definition_key": "deal",
                                                              "variables": {"ids": colliding[:5000]}})
    assert accepted.status_code == 201, accepted.text
