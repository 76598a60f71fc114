"""Leads from a website form: a good key, a revoked key, a replayed idempotency key, a duplicate, the limit."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.integration.leads.lead_model import LEAD_MODEL

pytestmark = pytest.mark.db


@pytest.fixture
def key(client: TestClient, ctx: AppContext) -> dict[str, str]:
    assert client.post("/api/v1/deployments", files={"files": ("leads.bpmn", LEAD_MODEL.encode())}).status_code == 201
    created = client.post("/api/v1/api-keys", json={"name": "Сайт", "definition_key": "leads", "source": "web_form"})
    assert created.status_code == 201, created.text
    return created.json()


def post(client: TestClient, secret: str, body: dict[str, object], idem: str | None = None) -> object:
    headers = {"X-Api-Key": secret, **({"Idempotency-Key": idem} if idem else {})}
    return client.post("/api/v1/leads", json=body, headers=headers, auth=None)


LEAD = {"company": "ООО Вишня", "contact": "Ольга", "contact_phone": "8 916 123-45-67", "segment": "smb"}


def test_a_lead_with_a_good_key_starts_a_deal_and_a_replay_answers_the_same(
        client: TestClient, ctx: AppContext, key: dict[str, str]) -> None:
    anonymous = TestClient(client.app)
    first = post(anonymous, key["key"], LEAD, idem="form-1")
    assert first.status_code == 202, first.text
    assert first.json()["status"] == "created"
    deal = client.get(f"/api/v1/process-instances/{first.json()['deal_id']}").json()
    assert deal["variables"]["source"] == "web_form" and deal["variables"]["contact_phone"] == "+79161234567"
    assert deal["started_by"] == "api-key:Сайт"
    again = post(anonymous, key["key"], LEAD, idem="form-1")
    assert again.status_code == 202 and again.json() == first.json()
    other = post(anonymous, key["key"], {**LEAD, "contact": "Другая"}, idem="form-1")
    assert other.status_code == 409
    assert client.get("/api/v1/process-instances?definition_key=leads").json()["total"] == 1

    duplicate = post(anonymous, key["key"], {"company": "Вишня", "contact_phone": "+7 916 123 45 67",
                                             "segment": "smb", "comment": "ещё раз"})
    assert duplicate.status_code == 202
    assert duplicate.json() == {"status": "duplicate", "deal_id": first.json()["deal_id"], "matched": "phone"}
    history = client.get(f"/api/v1/process-instances/{first.json()['deal_id']}/history").json()["items"]
    assert [e["data"]["lead"]["comment"] for e in history if e["kind"] == "note_added"] == ["ещё раз"]

    listed = client.get("/api/v1/api-keys").json()["items"]
    assert "key" not in listed[0] and listed[0]["prefix"] == key["key"][:12] and listed[0]["last_used_at"]


def test_revoked_and_unknown_keys_bad_leads_and_the_rate_limit(client: TestClient, ctx: AppContext,
                                                               key: dict[str, str]) -> None:
    anonymous = TestClient(client.app)
    bad = post(anonymous, key["key"], {"company": "X", "contact_phone": "12", "segment": "smb", "site": "1"})
    assert bad.status_code == 422 and "site" in bad.json()["detail"]
    bad = post(anonymous, key["key"], {"company": "Груша", "contact_phone": "12", "contact_email": "a@", "inn": "1"})
    fields = {e["field"] for e in bad.json()["errors"]}
    assert bad.status_code == 422 and {"contact_phone", "contact_email", "inn", "segment"} <= fields
    assert post(anonymous, "vlk_wrong", LEAD).status_code == 401
    assert anonymous.post("/api/v1/leads", json=LEAD).status_code == 401
    ctx.settings.lead_rate_per_minute = 2
    assert post(anonymous, key["key"], {**LEAD, "company": "Слива", "contact_phone": ""}).status_code == 202
    assert post(anonymous, key["key"], {**LEAD, "company": "Айва", "contact_phone": ""}).status_code == 202
    limited = post(anonymous, key["key"], {**LEAD, "company": "Персик", "contact_phone": ""})
    assert limited.status_code == 429 and limited.headers["retry-after"] == "60"
    assert client.delete(f"/api/v1/api-keys/{key['id']}").status_code == 204
    revoked = post(anonymous, key["key"], LEAD)
    assert revoked.status_code == 401 and "revoked" in revoked.json()["detail"]


def test_only_admins_manage_keys_and_a_key_names_a_real_source(client: TestClient, ctx: AppContext,
                                                              key: dict[str, str]) -> None:
    from tests.conftest import basic_auth
    from tests.factories import add_role_users, password_of

    add_role_users(ctx, ("head_of_sales",))
    boss = basic_auth("head_of_sales", password_of("head_of_sales"))
    assert client.post("/api/v1/api-keys", headers=boss, json={"name": "x", "definition_key": "leads"}
                       ).status_code == 403
    assert client.get("/api/v1/api-keys", headers=boss).status_code == 403
    wrong = client.post("/api/v1/api-keys", json={"name": "x", "definition_key": "leads", "source": "radio"})
    assert wrong.status_code == 400 and "web_form" in wrong.json()["detail"]
    assert client.delete("/api/v1/api-keys/nope").status_code == 404
