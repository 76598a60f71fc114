"""Who may deliver a message (security.md): the groups a catch event declares in `senderGroups`, admins and
external_worker accounts; without a declaration only users who may read the waiting instance. On
/api/v1/messages and /engine-rest/message alike; an instance the sender may not read stays invisible (404)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM, Actor
from app.services import deployments, identity, instances
from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import add_role_users, password_of, payment_wait, upload, web_lead

SENDERS = ("hunter", "closer", "accounting", "head_of_sales", "admin", "integration")


def auth(user: str) -> dict[str, str]:
    name = "admin_2" if user == "admin" else user
    return basic_auth(name, password_of(name))


@pytest.fixture
def world(client: TestClient, ctx: AppContext) -> AppContext:
    add_role_users(ctx)
    identity.create_user(ctx, actor=SYSTEM, username="integration", password=password_of("integration"),
                         groups=["external_worker"])
    deployments.deploy(ctx, actor=SYSTEM, files=[("declared.bpmn", payment_wait("declared", senders="accounting")
                                                  .encode())])
    deployments.deploy(ctx, actor=SYSTEM, files=[("open.bpmn", payment_wait("open").encode())])
    return ctx


def waiting(ctx: AppContext, key: str, business_key: str, started_by: str) -> str:
    actor = Actor(started_by, frozenset({started_by}))
    return instances.start_instance(ctx, actor=actor, definition_key=key, business_key=business_key).instance.id


def native(client: TestClient, user: str, **body: object) -> int:
    return client.post("/api/v1/messages", headers=auth(user), json={"name": "payment", **body}).status_code


def camunda(client: TestClient, user: str, **body: object) -> int:
    return client.post("/engine-rest/message", headers=auth(user),
                       json={"messageName": "payment", **body}).status_code


def moved(ctx: AppContext, instance_id: str) -> bool:
    view = instances.get_instance(ctx, actor=SYSTEM, instance_id=instance_id)
    return [t.element_id for t in view.open_tasks] == ["Ship"]


# sender -> (declared senderGroups=accounting, no declaration and started by the hunter, no declaration and
# started by someone else): the status of /api/v1/messages.
MATRIX = {
    "hunter": (404, 200, 404),        # the attack: a hunter may not pay a deal they cannot read
    "closer": (404, 404, 404),
    "accounting": (200, 404, 404),
    "head_of_sales": (403, 200, 200),  # reads everything, but the model names who sends `payment`
    "admin": (200, 200, 200),
    "integration": (200, 200, 200),
}


@pytest.mark.parametrize("dialect", ["native", "camunda"])
def test_message_delivery_follows_the_sender_matrix_on_both_apis(client: TestClient, world: AppContext,
                                                                 dialect: str) -> None:
    send = native if dialect == "native" else camunda
    for n, user in enumerate(SENDERS):
        targets = [waiting(world, "declared", f"d{n}", "admin"), waiting(world, "open", f"h{n}", "hunter"),
                   waiting(world, "open", f"o{n}", "account_manager")]
        for target, bk, expected in zip(targets, (f"d{n}", f"h{n}", f"o{n}"), MATRIX[user], strict=True):
            key = "business_key" if dialect == "native" else "businessKey"
            status = send(client, user, **{key: bk})
            # The Camunda dialect answers "nobody waits" with 400 and success with 204.
            wanted = {404: 400, 200: 204}.get(expected, expected) if dialect == "camunda" else expected
            assert (user, bk, status) == (user, bk, wanted)
            assert moved(world, target) is (expected == 200), (user, bk)


def test_all_true_reaches_only_the_instances_the_sender_may_send_to(client: TestClient, world: AppContext) -> None:
    mine = waiting(world, "open", "m", "hunter")
    others = [waiting(world, "open", "x", "account_manager"), waiting(world, "declared", "y", "admin")]
    response = client.post("/api/v1/messages", headers=auth("hunter"),
                           json={"name": "payment", "all": True, "variables": {"paid": True}})
    assert response.status_code == 200, response.text
    assert [d["instance_id"] for d in response.json()["deliveries"]] == [mine]
    assert moved(world, mine) and not any(moved(world, other) for other in others)
    # The 404 for a stranger's key does not count other instances waiting.
    missing = client.post("/api/v1/messages", headers=auth("hunter"), json={"name": "payment", "business_key": "x"})
    assert missing.status_code == 404 and "other business keys" not in missing.json()["detail"]


def test_message_start_needs_a_declared_group_and_buffering_a_trusted_sender(client: TestClient,
                                                                              world: AppContext) -> None:
    client.post("/api/v1/deployments", files=upload(("lead.bpmn", web_lead(senders="hunter"))))
    assert client.post("/api/v1/messages", headers=auth("closer"), json={"name": "lead"}).status_code == 403
    assert client.post("/engine-rest/message", headers=auth("closer"),
                       json={"messageName": "lead"}).status_code == 403
    assert client.post("/api/v1/messages", headers=auth("hunter"), json={"name": "lead"}).status_code == 200
    assert client.post("/api/v1/messages", headers=auth("integration"), json={"name": "lead"}).status_code == 200
    buffered = client.post("/api/v1/messages", headers=auth("hunter"), json={"name": "later", "buffer": True})
    assert buffered.status_code == 403 and "buffer" in buffered.json()["detail"]
    assert client.post("/api/v1/messages", headers=auth("integration"),
                       json={"name": "later", "buffer": True}).status_code == 202
