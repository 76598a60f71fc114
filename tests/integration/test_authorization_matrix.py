"""Every endpoint x every role (and anonymous): the status, and that the body holds nothing the role may not see.

The world (roles_world.py): one user per role; an instance started by the bootstrap admin whose hunter task the
hunter completed, so its closer task is open for the closer group. Rows that change state get a fresh target
per role from `setup`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM
from app.services import tasks
from app.services.context import AppContext
from tests.factories import ROLES, role_relay, upload
from tests.integration.roles_world import CLOSER_TASK_NAME, USER_OF_ROLE, World, actor, auth, build_world

EVERYONE = (*ROLES, "anonymous")
MANAGERS = {"head_of_sales", "admin"}
INSTANCE_READERS = {"hunter", "closer", *MANAGERS}  # hunter worked on it, closer can work it
CLOSER_TASK_READERS = {"closer", *MANAGERS}


def statuses(default: int, **overrides: int) -> dict[str, int]:
    table = {role: default for role in ROLES}
    table.update(overrides)
    table["anonymous"] = 401
    return table


def only(roles: set[str], ok: int, other: int) -> dict[str, int]:
    return statuses(other, **{role: ok for role in roles})


@dataclass
class Row:
    name: str
    method: str
    path: str  # formatted with the world's ids and the setup's values
    expect: dict[str, int]
    body: Any = None
    form: dict[str, str] | None = None
    files: Any = None
    setup: Callable[[World, str], dict[str, str]] | None = None
    check: Callable[[World, str, Any], None] | None = None
    secret_words: tuple[str, ...] = field(default=(CLOSER_TASK_NAME,))


# --- setups: a fresh target per role for rows that change state -------------------------------------------


def fresh_closer_task(world: World, role: str) -> dict[str, str]:
    instance_id, _, closer_task = world.at_closer_stage()
    return {"task": closer_task, "instance": instance_id}


def claimed_closer_task(world: World, role: str) -> dict[str, str]:
    values = fresh_closer_task(world, role)
    tasks.claim_task(world.ctx, actor=actor("closer"), task_id=values["task"])
    return values


def new_model(world: World, role: str) -> dict[str, str]:
    return {"key": f"model_{role}"}


# --- checks on 200 bodies ------------------------------------------------------------------------------


def task_ids(response: Any) -> set[str]:
    return {t["id"] for t in response.json()["items"]}


def check_open_task_list(world: World, role: str, response: Any) -> None:
    expected = {world.closer_task} if role in CLOSER_TASK_READERS else set()
    assert task_ids(response) == expected
    assert response.json()["total"] == len(expected)


def check_completed_task_list(world: World, role: str, response: Any) -> None:
    expected = {world.hunter_task} if role in {"hunter", *MANAGERS} else set()
    assert task_ids(response) == expected


def check_counts(world: World, role: str, response: Any) -> None:
    groups = 1 if role == "closer" else 0
    assert response.json() == {"mine": 0, "groups": groups, "inbox": groups, "overdue": 0}


def check_instance_list(world: World, role: str, response: Any) -> None:
    expected = {world.instance_id} if role in INSTANCE_READERS else set()
    assert {i["id"] for i in response.json()["items"]} == expected
    for item in response.json()["items"]:
        shown = {t["id"] for t in item["tasks"]}
        assert shown == ({world.closer_task} if role in CLOSER_TASK_READERS else set())


def check_instance(world: World, role: str, response: Any) -> None:
    shown = {t["id"] for t in response.json()["tasks"]}
    assert shown == ({world.closer_task} if role in CLOSER_TASK_READERS else set())


def check_me(world: World, role: str, response: Any) -> None:
    assert response.json()["username"] == USER_OF_ROLE[role] and response.json()["groups"] == [role]


def check_task(world: World, role: str, response: Any) -> None:
    assert response.json()["id"] == world.closer_task


ROWS = [
    Row("who am I", "GET", "/api/v1/me", statuses(200), check=check_me),
    Row("list open tasks", "GET", "/api/v1/tasks", statuses(200), check=check_open_task_list),
    Row("list inbox", "GET", "/api/v1/tasks?scope=inbox", statuses(200),
        check=lambda w, r, resp: assert_ids(resp, {w.closer_task} if r == "closer" else set())),
    Row("search by name", "GET", "/api/v1/tasks?search=closer", statuses(200), check=check_open_task_list),
    Row("filter by candidate group", "GET", "/api/v1/tasks?candidate_group=closer", statuses(200),
        check=check_open_task_list),
    Row("list completed tasks", "GET", "/api/v1/tasks?state=completed", statuses(200),
        check=check_completed_task_list),
    Row("inbox counts", "GET", "/api/v1/tasks/counts", statuses(200), check=check_counts),
    Row("get closer task", "GET", "/api/v1/tasks/{closer_task}", only(CLOSER_TASK_READERS, 200, 404),
        check=check_task),
    Row("closer task history", "GET", "/api/v1/tasks/{closer_task}/history", only(CLOSER_TASK_READERS, 200, 404)),
    Row("get completed hunter task", "GET", "/api/v1/tasks/{hunter_task}", only({"hunter", *MANAGERS}, 200, 404)),
    Row("claim closer task", "POST", "/api/v1/tasks/{task}/claim", only({"closer", "admin"}, 200, 403),
        setup=fresh_closer_task),
    Row("unclaim a claimed closer task", "POST", "/api/v1/tasks/{task}/unclaim",
        statuses(403, closer=200, head_of_sales=200, admin=200), setup=claimed_closer_task),
    Row("reassign closer task", "POST", "/api/v1/tasks/{task}/assign", only({"closer", *MANAGERS}, 200, 403),
        body={"assignee": "closer"}, setup=fresh_closer_task),
    Row("complete closer task", "POST", "/api/v1/tasks/{task}/complete", only({"closer", "admin"}, 200, 403),
        body={"variables": {}}, setup=fresh_closer_task),
    Row("complete another's claimed task", "POST", "/api/v1/tasks/{task}/complete",
        statuses(403, closer=200, admin=409),
        body={"variables": {}}, setup=claimed_closer_task),
    Row("list instances", "GET", "/api/v1/process-instances", statuses(200), check=check_instance_list),
    Row("get instance", "GET", "/api/v1/process-instances/{instance_id}", only(INSTANCE_READERS, 200, 404),
        check=check_instance),
    Row("instance history", "GET", "/api/v1/process-instances/{instance_id}/history",
        only(INSTANCE_READERS, 200, 404)),
    Row("start an open process", "POST", "/api/v1/process-instances", statuses(201),
        body={"definition_key": "relay"}),
    Row("start a process limited to hunters", "POST", "/api/v1/process-instances",
        only({"hunter", "admin"}, 201, 403), body={"definition_key": "limited"}),
    Row("terminate", "POST", "/api/v1/process-instances/{instance}/terminate",
        statuses(404, hunter=403, closer=403, head_of_sales=200, admin=200), setup=fresh_closer_task),
    Row("retry (not failed)", "POST", "/api/v1/process-instances/{instance_id}/retry", statuses(403, admin=409)),
    Row("deploy", "POST", "/api/v1/deployments", only({"designer", "admin"}, 201, 403), setup=new_model,
        files="model"),
    Row("list definitions", "GET", "/api/v1/process-definitions", statuses(200)),
    Row("definition versions", "GET", "/api/v1/process-definitions/relay", statuses(200)),
    Row("definition xml", "GET", "/api/v1/process-definitions/relay/xml", statuses(200)),
    Row("list users", "GET", "/api/v1/users", only({"admin"}, 200, 403)),
    Row("create user", "POST", "/api/v1/users", only({"admin"}, 201, 403),
        body={"username": "new_{role}", "password": "new-password"}),
    Row("get user", "GET", "/api/v1/users/hunter", only({"admin"}, 200, 403)),
    Row("change user", "PATCH", "/api/v1/users/designer", only({"admin"}, 200, 403), body={"email": "d@x.test"}),
    Row("set password", "PUT", "/api/v1/users/accounting/password", only({"admin"}, 204, 403),
        body={"password": "accounting-password"}),
    Row("list groups", "GET", "/api/v1/groups", only({"admin"}, 200, 403)),
    Row("create group", "POST", "/api/v1/groups", only({"admin"}, 201, 403), body={"id": "g_{role}"}),
    Row("add member", "PUT", "/api/v1/groups/closer/members/hunter", only({"admin"}, 200, 403)),
    Row("remove member", "DELETE", "/api/v1/groups/closer/members/hunter", only({"admin"}, 200, 403)),
    Row("token", "POST", "/api/v1/auth/token", statuses(200) | {"anonymous": 200},
        form={"username": "hunter", "password": "hunter-password"}),
    Row("logout", "POST", "/api/v1/auth/logout", statuses(204) | {"anonymous": 204}),
]


def assert_ids(response: Any, expected: set[str]) -> None:
    assert task_ids(response) == expected


def render(template: Any, values: dict[str, str]) -> Any:
    if isinstance(template, str):
        return template.format(**values)
    if isinstance(template, dict):
        return {k: render(v, values) for k, v in template.items()}
    return template


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_endpoint_answers_each_role_and_shows_nothing_more(row: Row, ctx: AppContext) -> None:
    from app.main import create_app

    world = build_world(ctx)
    with TestClient(create_app(context=ctx)) as client:
        for role in EVERYONE:
            values = {"closer_task": world.closer_task, "hunter_task": world.hunter_task,
                      "instance_id": world.instance_id, "role": role}
            if row.setup is not None:
                values.update(row.setup(world, role))
            kwargs: dict[str, Any] = {"headers": auth(role)}
            if row.body is not None:
                kwargs["json"] = render(row.body, values)
            if row.form is not None:
                kwargs["data"] = row.form
            if row.files == "model":
                kwargs["files"] = upload((f"{values['key']}.bpmn", role_relay(values["key"])))
            response = client.request(row.method, render(row.path, values), **kwargs)
            assert response.status_code == row.expect[role], (row.name, role, response.text)
            if response.status_code >= 400:
                for word in row.secret_words:
                    assert word not in response.text, (row.name, role, response.text)
            elif row.check is not None:
                row.check(world, role, response)
            if role != "anonymous" and response.status_code < 400 and row.setup is None and row.method != "GET":
                _restore(world, row)


def _restore(world: World, row: Row) -> None:
    """Undo what a state-changing row without setup did, so the next role sees the same world."""
    if row.name == "logout":
        return  # tokens only; Basic keeps working
    if row.name == "remove member":
        from app.services import identity

        identity.add_member(world.ctx, actor=SYSTEM, group_id="closer", username="hunter")
    if row.name == "add member":
        from app.services import identity

        identity.remove_member(world.ctx, actor=SYSTEM, group_id="closer", username="hunter")
