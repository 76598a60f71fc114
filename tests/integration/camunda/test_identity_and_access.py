"""Users, groups and access through the dialect: the same roles and the same answers as the native API."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import add_role_users, password_of, role_relay

pytestmark = pytest.mark.db


def _as(server_url: str, username: str) -> httpx.Client:
    return httpx.Client(base_url=f"{server_url}/engine-rest", auth=(username, password_of(username)), timeout=30)


def test_users_and_groups_are_managed_by_admins(admin_http: httpx.Client, server_url: str) -> None:
    created = admin_http.post("/engine-rest/user/create", json={
        "profile": {"id": "ivan", "firstName": "Иван", "lastName": "Петров", "email": "ivan@example.com"},
        "credentials": {"password": password_of("ivan")}})
    assert created.status_code == 204, created.text
    assert admin_http.get("/engine-rest/user/ivan/profile").json() == {
        "id": "ivan", "firstName": "Иван", "lastName": "Петров", "email": "ivan@example.com"}
    assert admin_http.post("/engine-rest/group/create", json={"id": "partners", "name": "Partners",
                                                              "type": "WORKFLOW"}).status_code == 204
    assert admin_http.put("/engine-rest/group/partners/members/ivan").status_code == 204
    assert [u["id"] for u in admin_http.get("/engine-rest/user", params={"memberOfGroup": "partners"}).json()] == [
        "ivan"]
    assert admin_http.get("/engine-rest/group", params={"member": "ivan"}).json() == [
        {"id": "partners", "name": "Partners", "type": None}]
    assert admin_http.get("/engine-rest/group/count", params={"id": "partners"}).json() == {"count": 1}
    assert admin_http.put("/engine-rest/user/ivan/profile", json={"id": "ivan", "firstName": "Ivan",
                                                                  "lastName": "Petrov"}).status_code == 204
    assert admin_http.get("/engine-rest/user/ivan/profile").json()["firstName"] == "Ivan"

    with _as(server_url, "ivan") as ivan:
        assert ivan.get("/version").status_code == 200
        assert ivan.get("/user").status_code == 403
        assert ivan.get("/user").json()["type"] == "AuthorizationException"

    assert admin_http.delete("/engine-rest/group/partners/members/ivan").status_code == 204
    assert admin_http.get("/engine-rest/user/count", params={"memberOfGroup": "partners"}).json() == {"count": 0}
    assert admin_http.delete("/engine-rest/user/ivan").status_code == 204
    with _as(server_url, "ivan") as ivan:
        assert ivan.get("/version").status_code == 401
    duplicate = admin_http.post("/engine-rest/group/create", json={"id": "hunter"})
    assert duplicate.status_code == 409


def test_each_role_sees_and_works_only_its_tasks(ctx: object, admin_http: httpx.Client, server_url: str) -> None:
    add_role_users(ctx)
    with _as(server_url, "designer") as designer:
        deployed = designer.post("/deployment/create", data={"deployment-name": "relay"},
                                 files=[("relay.bpmn", ("relay.bpmn", role_relay().encode(), "text/xml"))])
        assert deployed.status_code == 200, deployed.text
    with _as(server_url, "hunter") as hunter:
        refused = hunter.post("/deployment/create", data={"deployment-name": "relay"},
                              files=[("relay.bpmn", ("relay.bpmn", role_relay("other").encode(), "text/xml"))])
        assert refused.status_code == 403 and refused.json()["type"] == "AuthorizationException"
        instance = hunter.post("/process-definition/key/relay/start", json={"businessKey": "D-1"}).json()
        (task,) = hunter.get("/task").json()
        assert task["taskDefinitionKey"] == "Task_hunter" and task["priority"] == 70 and task["due"] is not None
        assert hunter.post(f"/task/{task['id']}/claim", json={"userId": "hunter"}).status_code == 204
        assert hunter.post(f"/task/{task['id']}/complete", json={}).status_code == 204
        assert hunter.get("/task").json() == []
        assert hunter.get("/task/count", params={"candidateGroup": "closer"}).json() == {"count": 0}

    with _as(server_url, "accounting") as accounting:
        assert accounting.get("/task").json() == []
    with _as(server_url, "closer") as closer:
        (closer_task,) = closer.get("/task", params={"candidateUser": "closer"}).json()
        assert closer_task["processInstanceId"] == instance["id"]
    with _as(server_url, "accounting") as accounting:
        not_yours = accounting.post(f"/task/{closer_task['id']}/claim", json={"userId": "accounting"})
        assert not_yours.status_code == 403  # as on /api/v1: accounting cannot claim a closer task
        assert accounting.get(f"/process-instance/{instance['id']}").status_code == 404
    with _as(server_url, "head_of_sales") as head:
        assert head.post(f"/task/{closer_task['id']}/assignee", json={"userId": "closer"}).status_code == 204
        assert head.get("/task", params={"assignee": "closer"}).json()[0]["id"] == closer_task["id"]
    with _as(server_url, "closer") as closer:
        assert closer.post(f"/task/{closer_task['id']}/unclaim").status_code == 204
    with httpx.Client(base_url=f"{server_url}/engine-rest", timeout=5) as anonymous:
        for path in ("/task", "/process-definition", "/history/task", "/external-task", "/user"):
            assert anonymous.get(path).status_code == 401, path
