"""The inbox: mine / my groups' / both, counts, sorting, filters, and the task's assignment trail."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM
from app.services import deployments, instances
from app.services.context import AppContext
from tests.factories import add_role_users, role_relay
from tests.integration.roles_world import actor, auth


def names(response) -> list[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return [t["business_key"] for t in response.json()["items"]]


def start(ctx: AppContext, key: str, business_key: str) -> str:
    view = instances.start_instance(ctx, actor=actor("hunter"), definition_key=key, business_key=business_key)
    return view.open_tasks[0].id


def test_scopes_counts_sorting_and_filters(client: TestClient, ctx: AppContext) -> None:
    add_role_users(ctx, ("hunter", "closer"))
    for key, due, priority in (("late", "2001-01-01T00:00:00Z", 90), ("soon", "P1D", 10), ("later", "P7D", 50)):
        deployments.deploy(ctx, files=[(f"{key}.bpmn", role_relay(key, due=due, priority=priority).encode())],
                           actor=SYSTEM)
    late, soon, later = start(ctx, "late", "Альфа"), start(ctx, "soon", "Бета"), start(ctx, "later", "Гамма")
    hunter = auth("hunter")
    assert client.post(f"/api/v1/tasks/{soon}/claim", headers=hunter).status_code == 200

    assert names(client.get("/api/v1/tasks", params={"scope": "mine"}, headers=hunter)) == ["Бета"]
    assert names(client.get("/api/v1/tasks", params={"scope": "groups"}, headers=hunter)) == ["Альфа", "Гамма"]
    inbox = client.get("/api/v1/tasks", params={"scope": "inbox"}, headers=hunter)
    assert inbox.json()["total"] == 3
    assert client.get("/api/v1/tasks/counts", headers=hunter).json() == {"mine": 1, "groups": 2, "inbox": 3,
                                                                         "overdue": 1}
    assert client.get("/api/v1/tasks/counts", headers=auth("closer")).json() == {"mine": 0, "groups": 0,
                                                                                 "inbox": 0, "overdue": 0}

    by = {"scope": "inbox"}
    assert names(client.get("/api/v1/tasks", params={**by, "sort": "due"}, headers=hunter)) == [
        "Альфа", "Бета", "Гамма"]
    assert names(client.get("/api/v1/tasks", params={**by, "sort": "priority", "descending": True},
                            headers=hunter)) == ["Альфа", "Гамма", "Бета"]
    assert names(client.get("/api/v1/tasks", params={**by, "sort": "created", "descending": True},
                            headers=hunter)) == ["Гамма", "Бета", "Альфа"]
    assert client.get("/api/v1/tasks", params={"sort": "nonsense"}, headers=hunter).status_code == 400

    assert names(client.get("/api/v1/tasks", params={"overdue": True}, headers=hunter)) == ["Альфа"]
    assert names(client.get("/api/v1/tasks", params={"definition_key": "later"}, headers=hunter)) == ["Гамма"]
    assert names(client.get("/api/v1/tasks", params={"search": "бет"}, headers=hunter)) == ["Бета"]
    assert names(client.get("/api/v1/tasks", params={"assignee": "hunter"}, headers=hunter)) == ["Бета"]
    paged = client.get("/api/v1/tasks", params={**by, "limit": 1, "offset": 1}, headers=hunter).json()
    assert paged["total"] == 3 and len(paged["items"]) == 1
    assert {late, later} <= {t["id"] for t in inbox.json()["items"]}


def test_history_records_claim_release_reassign_and_completion_with_actor_and_time(client: TestClient,
                                                                                    ctx: AppContext) -> None:
    add_role_users(ctx, ("hunter", "head_of_sales"))
    deployments.deploy(ctx, files=[("relay.bpmn", role_relay().encode())], actor=SYSTEM)
    task = start(ctx, "relay", "Дельта")
    hunter, head = auth("hunter"), auth("head_of_sales")
    assert client.post(f"/api/v1/tasks/{task}/claim", headers=hunter).status_code == 200
    assert client.post(f"/api/v1/tasks/{task}/unclaim", headers=hunter).status_code == 200
    assert client.post(f"/api/v1/tasks/{task}/assign", json={"assignee": "hunter"}, headers=head).status_code == 200
    assert client.post(f"/api/v1/tasks/{task}/assign", json={"assignee": "nobody"}, headers=head).status_code == 400
    assert client.post(f"/api/v1/tasks/{task}/complete", json={}, headers=hunter).status_code == 200
    history = client.get(f"/api/v1/tasks/{task}/history", headers=hunter).json()["items"]
    assert [(e["kind"], e["actor"]) for e in history] == [
        ("task_created", "hunter"), ("task_claimed", "hunter"), ("task_unclaimed", "hunter"),
        ("task_assigned", "head_of_sales"), ("task_completed", "hunter")]
    assert history[2]["data"] == {"previous": "hunter"}
    times = [e["at"] for e in history]
    assert times == sorted(times)
