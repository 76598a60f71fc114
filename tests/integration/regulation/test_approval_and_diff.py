"""Approval of regulation changes and the diff between versions, over HTTP."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import make_user, upload
from tests.integration.regulation.models import lead_process

pytestmark = pytest.mark.db


def deploy(client: TestClient, xml: str, name: str = "reg.bpmn") -> dict:
    response = client.post("/api/v1/deployments", files=upload((name, xml)))
    assert response.status_code in (200, 201), response.text
    return response.json()["definitions"][0]


def as_user(client: TestClient, ctx: AppContext, name: str, groups: list[str]) -> TestClient:
    return TestClient(client.app, headers=basic_auth(*make_user(ctx, name, groups)))


@pytest.fixture
def head(client: TestClient, ctx: AppContext) -> TestClient:
    return as_user(client, ctx, "boss", ["head_of_sales"])


def require_approval(client: TestClient, key: str = "reg") -> None:
    response = client.put(f"/api/v1/process-definitions/{key}/settings", json={"requires_approval": True})
    assert response.status_code == 200 and response.json() == {"key": key, "requires_approval": True}


def start(client: TestClient, key: str = "reg") -> dict:
    response = client.post("/api/v1/process-instances", json={"definition_key": key, "business_key": "b1"})
    assert response.status_code == 201, response.text
    return response.json()


def test_draft_starts_no_deals_until_the_head_of_sales_approves(client: TestClient, head: TestClient) -> None:
    v1 = deploy(client, lead_process(1))
    assert v1["state"] == "approved"  # the first version is in force at once
    require_approval(client)
    v2 = deploy(client, lead_process(2))
    assert (v2["version"], v2["state"]) == (2, "draft")
    assert start(client)["definition_version"] == 1
    refused = client.post("/api/v1/process-instances", json={"definition_id": v2["id"]})
    assert refused.status_code == 409 and "draft" in refused.json()["detail"]
    versions = client.get("/api/v1/process-definitions/reg").json()["items"]
    assert [(v["version"], v["state"], v["deployed_by"]) for v in versions] == [(2, "draft", "admin"),
                                                                                 (1, "approved", "admin")]

    approved = head.post(f"/api/v1/process-definitions/{v2['id']}/approve", json={"comment": "Согласовано"})
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["state"], body["decided_by"], body["decision_comment"]) == ("approved", "boss", "Согласовано")
    assert body["decided_at"]
    assert start(client)["definition_version"] == 2
    again = head.post(f"/api/v1/process-definitions/{v2['id']}/approve")
    assert again.status_code == 409 and "only a draft" in again.json()["detail"]


def test_rejection_keeps_the_approved_version(client: TestClient, head: TestClient) -> None:
    deploy(client, lead_process(1))
    require_approval(client)
    v2 = deploy(client, lead_process(2))
    rejected = head.post(f"/api/v1/process-definitions/{v2['id']}/reject", json={"comment": "Рано"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert start(client)["definition_version"] == 1
    assert client.post("/api/v1/process-instances", json={"definition_id": v2["id"]}).status_code == 409


def test_only_the_head_of_sales_and_admins_decide_and_only_admins_change_the_setting(
        client: TestClient, ctx: AppContext) -> None:
    deploy(client, lead_process(1))
    require_approval(client)
    v2 = deploy(client, lead_process(2))
    designer = as_user(client, ctx, "des", ["designer", "hunter"])
    assert designer.post(f"/api/v1/process-definitions/{v2['id']}/approve").status_code == 403
    head = as_user(client, ctx, "boss2", ["head_of_sales"])
    assert head.put("/api/v1/process-definitions/reg/settings", json={"requires_approval": False}).status_code == 403
    assert client.get("/api/v1/process-definitions/nope/settings").status_code == 404
    assert client.post("/api/v1/process-definitions/nope/approve").status_code == 404


def test_bundled_sales_keys_require_approval_by_default_other_keys_do_not(client: TestClient) -> None:
    deploy(client, lead_process(1))
    assert client.get("/api/v1/process-definitions/reg/settings").json()["requires_approval"] is False
    v2 = deploy(client, lead_process(2))
    assert v2["state"] == "approved"
    deploy(client, lead_process(1, key="sales_deal"))
    assert client.get("/api/v1/process-definitions/sales_deal/settings").json()["requires_approval"] is True
    assert deploy(client, lead_process(2, key="sales_deal"))["state"] == "draft"


def test_diff_lists_exactly_the_changes_of_a_known_pair(client: TestClient) -> None:
    deploy(client, lead_process(1))
    deploy(client, lead_process(2))
    response = client.get("/api/v1/process-definitions/reg/diff", params={"from": 1, "to": 2})
    assert response.status_code == 200, response.text
    diff = response.json()
    assert [(e["element_id"], e["name"], e["type"]) for e in diff["added"]] == [
        ("Proposal", "Отправить КП", "UserTask")]
    assert [(e["element_id"], e["name"]) for e in diff["removed"]] == [("Obsolete", "Устаревший шаг")]
    changed = {e["element_id"]: e["fields"] for e in diff["changed"]}
    assert changed == {"Qualify": ["name"], "Call": ["candidate_groups"], "Sla": ["timer"], "Route": ["conditions"]}
    values = {e["element_id"]: e["values"] for e in diff["changed"]}
    assert values["Qualify"]["name"] == {"from": "Квалифицировать", "to": "Квалифицировать лид"}
    assert values["Call"]["candidate_groups"] == {"from": "hunter", "to": "closer"}
    assert values["Sla"]["timer"]["to"]["expression"] == "PT8H"
    assert client.get("/api/v1/process-definitions/reg/diff").json()["changed"] == diff["changed"]  # 1 -> 2 default
    bad = client.get("/api/v1/process-definitions/reg/diff", params={"from": 7, "to": 2})
    assert bad.status_code == 400 and "no version 7" in bad.json()["detail"]
    assert client.get("/api/v1/process-definitions/reg/diff", params={"from": "x"}).status_code == 422
    assert client.get("/api/v1/process-definitions/none/diff").status_code == 404
