"""The acceptance scenario: work moves from the hunter to the closer, each sees only their own, accounting
cannot take the closer's task, and the head of sales unsticks a task."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM
from app.services import identity
from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import password_of
from tests.integration.roles_world import CLOSER_TASK_NAME, auth, build_world


def ids(response) -> set[str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.text
    return {t["id"] for t in response.json()["items"]}


def test_work_moves_from_hunter_to_closer_and_the_head_of_sales_unsticks_it(client: TestClient,
                                                                             ctx: AppContext) -> None:
    world = build_world(ctx)
    identity.create_user(ctx, actor=SYSTEM, username="closer_2", password=password_of("closer_2"),
                         groups=["closer"])
    hunter, closer, accounting, head = auth("hunter"), auth("closer"), auth("accounting"), auth("head_of_sales")

    # the hunter starts a deal and finds it in the group inbox
    started = client.post("/api/v1/process-instances", json={"definition_key": "relay"}, headers=hunter)
    assert started.status_code == 201
    instance = started.json()
    hunt = instance["tasks"][0]["id"]
    assert hunt in ids(client.get("/api/v1/tasks", params={"scope": "groups"}, headers=hunter))
    assert hunt not in ids(client.get("/api/v1/tasks", headers=closer))

    assert client.post(f"/api/v1/tasks/{hunt}/claim", headers=hunter).status_code == 200
    assert client.post(f"/api/v1/tasks/{hunt}/complete", headers=hunter, json={}).status_code == 200

    # the closer now sees the closer task; the hunter does not, by any road
    close = next(iter(ids(client.get("/api/v1/tasks", params={"instance_id": instance["id"]}, headers=closer))))
    assert client.get(f"/api/v1/tasks/{close}", headers=closer).json()["name"] == CLOSER_TASK_NAME
    for scope in ("all", "mine", "groups", "inbox"):
        assert close not in ids(client.get("/api/v1/tasks", params={"scope": scope}, headers=hunter))
    assert client.get("/api/v1/tasks", params={"search": "closer"}, headers=hunter).json()["total"] == 0
    assert client.get("/api/v1/tasks/counts", headers=hunter).json() == {"mine": 0, "groups": 0, "inbox": 0,
                                                                         "overdue": 0}
    assert client.get("/api/v1/tasks/counts", headers=closer).json()["groups"] == 2  # the world's and this one
    hidden = client.get(f"/api/v1/tasks/{close}", headers=hunter)
    assert hidden.status_code == 404 and CLOSER_TASK_NAME not in hidden.text
    seen_instance = client.get(f"/api/v1/process-instances/{instance['id']}", headers=hunter)
    assert seen_instance.status_code == 200 and seen_instance.json()["tasks"] == []  # worked on it: no peeking

    # accounting may not claim the closer's task, and learns nothing about it from the refusal
    refused = client.post(f"/api/v1/tasks/{close}/claim", headers=accounting)
    assert refused.status_code == 403
    assert "closer" not in refused.json()["detail"] and CLOSER_TASK_NAME not in refused.text

    # the closer claims it and goes quiet; the head of sales hands it to another closer
    assert client.post(f"/api/v1/tasks/{close}/claim", headers=closer).json()["assignee"] == "closer"
    taken = client.post(f"/api/v1/tasks/{close}/claim", headers=basic_auth("closer_2", password_of("closer_2")))
    assert taken.status_code == 409
    assert client.post(f"/api/v1/tasks/{close}/assign", json={"assignee": "closer_2"},
                       headers=closer).status_code == 403
    moved = client.post(f"/api/v1/tasks/{close}/assign", json={"assignee": "closer_2"}, headers=head)
    assert moved.status_code == 200 and moved.json()["assignee"] == "closer_2"
    assert client.get(f"/api/v1/tasks/{close}", headers=closer).status_code == 404
    done = client.post(f"/api/v1/tasks/{close}/complete", json={},
                       headers=basic_auth("closer_2", password_of("closer_2")))
    assert done.status_code == 200

    history = client.get(f"/api/v1/tasks/{close}/history", headers=head).json()["items"]
    trail = [(e["kind"], e["actor"]) for e in history]
    assert trail == [("task_created", "hunter"), ("task_claimed", "closer"), ("task_assigned", "head_of_sales"),
                     ("task_completed", "closer_2")]
    assert history[2]["data"] == {"previous": "closer", "assignee": "closer_2"}
    assert all(e["at"] for e in history)

    # and the relay goes on to accounting
    assert len(ids(client.get("/api/v1/tasks", params={"instance_id": instance["id"]}, headers=accounting))) == 1
    assert world.closer_task not in ids(client.get("/api/v1/tasks", headers=accounting))
