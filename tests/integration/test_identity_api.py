"""Admin API for users, groups and membership; refused to everyone else."""

from __future__ import annotations

from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import add_role_users, password_of


def test_admin_creates_lists_updates_and_deactivates_users(client: TestClient) -> None:
    created = client.post("/api/v1/users", json={"username": "olga", "password": "olga-password",
                                                 "display_name": "Ольга", "groups": ["hunter", "closer"]})
    assert created.status_code == 201, created.text
    assert created.json()["groups"] == ["closer", "hunter"] and created.json()["display_name"] == "Ольга"
    assert "password" not in created.text and "argon2" not in created.text
    assert client.post("/api/v1/users", json={"username": "olga", "password": "x" * 10}).status_code == 409
    assert client.post("/api/v1/users", json={"username": "bad name", "password": "x" * 10}).status_code == 400
    assert client.post("/api/v1/users", json={"username": "p", "password": "short"}).status_code == 400
    unknown = client.post("/api/v1/users", json={"username": "q", "password": "x" * 10, "groups": ["nope"]})
    assert unknown.status_code == 400 and "nope" in unknown.json()["detail"]

    listed = client.get("/api/v1/users", params={"group": "hunter"}).json()
    assert [u["username"] for u in listed["items"]] == ["olga"] and listed["total"] == 1
    changed = client.patch("/api/v1/users/olga", json={"groups": ["accounting"], "email": "o@example.com"})
    assert changed.json()["groups"] == ["accounting"] and changed.json()["email"] == "o@example.com"
    assert changed.json()["display_name"] == "Ольга"  # untouched: not sent
    gone = client.delete("/api/v1/users/olga")
    assert gone.status_code == 200 and gone.json()["is_active"] is False
    assert [u["username"] for u in client.get("/api/v1/users", params={"active": True}).json()["items"]] == ["admin"]
    assert client.get("/api/v1/users/nobody").status_code == 404


def test_groups_crud_and_membership(client: TestClient) -> None:
    client.post("/api/v1/users", json={"username": "olga", "password": "olga-password"})
    groups = {g["id"]: g for g in client.get("/api/v1/groups").json()["items"]}
    assert set(groups) >= {"hunter", "closer", "accounting", "account_manager", "head_of_sales", "designer",
                           "admin"}
    assert groups["admin"]["members"] == 1
    assert client.post("/api/v1/groups", json={"id": "lawyer", "name": "Юристы"}).status_code == 201
    assert client.post("/api/v1/groups", json={"id": "lawyer"}).status_code == 409
    added = client.put("/api/v1/groups/lawyer/members/olga")
    assert added.status_code == 200 and added.json()["members"] == ["olga"]
    assert client.put("/api/v1/groups/lawyer/members/olga").json()["members"] == ["olga"]  # idempotent
    assert client.put("/api/v1/groups/lawyer/members/nobody").status_code == 404
    assert client.patch("/api/v1/groups/lawyer", json={"name": "Legal"}).json()["name"] == "Legal"
    assert client.delete("/api/v1/groups/lawyer/members/olga").json()["members"] == []
    assert client.delete("/api/v1/groups/lawyer").status_code == 204
    assert client.get("/api/v1/groups/lawyer").status_code == 404


def test_the_last_active_admin_cannot_be_removed(client: TestClient) -> None:
    assert client.delete("/api/v1/groups/admin/members/admin").status_code == 409
    assert client.delete("/api/v1/users/admin").status_code == 409
    assert client.patch("/api/v1/users/admin", json={"groups": ["hunter"]}).status_code == 409
    assert client.delete("/api/v1/groups/admin").status_code == 409
    client.post("/api/v1/users", json={"username": "root2", "password": "root2-password", "groups": ["admin"]})
    assert client.delete("/api/v1/groups/admin/members/admin").status_code == 200


def test_everyone_but_admins_is_refused_user_and_group_administration(client: TestClient, ctx: AppContext) -> None:
    add_role_users(ctx, ("hunter", "head_of_sales", "designer"))
    for name in ("hunter", "head_of_sales", "designer"):
        auth = basic_auth(name, password_of(name))
        for method, path, body in (
            ("GET", "/api/v1/users", None),
            ("POST", "/api/v1/users", {"username": "x", "password": "x" * 10}),
            ("GET", "/api/v1/users/admin", None),
            ("PATCH", "/api/v1/users/hunter", {"groups": ["admin"]}),
            ("PUT", "/api/v1/users/admin/password", {"password": "x" * 10}),
            ("DELETE", "/api/v1/users/admin", None),
            ("GET", "/api/v1/groups", None),
            ("POST", "/api/v1/groups", {"id": "x"}),
            ("PUT", "/api/v1/groups/admin/members/hunter", None),
            ("DELETE", "/api/v1/groups/hunter/members/hunter", None),
            ("DELETE", "/api/v1/groups/hunter", None),
        ):
            response = client.request(method, path, json=body, headers=auth)
            assert response.status_code == 403, (name, method, path, response.text)
    assert client.get("/api/v1/me", headers=basic_auth("hunter", password_of("hunter"))).json()["groups"] == [
        "hunter"]
