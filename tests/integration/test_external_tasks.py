"""External service tasks: fetch-and-lock, complete, failure with retries, incident and job retry, BPMN error
to a boundary event, lock expiry, completion by a worker that no longer holds the lock, competing workers."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM, Actor
from app.errors import Conflict, Forbidden
from app.services import deployments, external_tasks, instances
from app.services.context import AppContext
from app.services.external_tasks import TopicRequest
from tests.factories import external_invoice, upload

TOPIC = "issue-invoice"


def deploy_and_start(client: TestClient, count: int = 1, business_key: str = "deal") -> list[str]:
    assert client.post("/api/v1/deployments", files=upload(("billing.bpmn", external_invoice()))).status_code == 201
    return [client.post("/api/v1/process-instances", json={"definition_key": "billing", "business_key": business_key,
                                                            "variables": {"amount": 100 + i}}).json()["id"]
            for i in range(count)]


def fetch(client: TestClient, worker: str, max_tasks: int = 1, lock_ms: int = 60_000, **topic: object) -> list[dict]:
    response = client.post("/api/v1/external-tasks/fetch-and-lock", json={
        "worker_id": worker, "max_tasks": max_tasks, "topics": [{"topic": TOPIC, "lock_duration": lock_ms, **topic}]})
    assert response.status_code == 200, response.text
    return list(response.json())


def instance(client: TestClient, instance_id: str) -> dict:
    return client.get(f"/api/v1/process-instances/{instance_id}").json()


def open_elements(client: TestClient, instance_id: str) -> list[str]:
    return [t["element_id"] for t in instance(client, instance_id)["tasks"]]


def test_fetch_lock_and_complete_moves_the_instance_on(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1", variables=["amount"])
    assert task["topic"] == TOPIC and task["instance_id"] == instance_id and task["element_id"] == "Issue"
    assert task["business_key"] == "deal" and task["variables"] == {"amount": 100}
    assert task["worker_id"] == "w1" and task["lock_expires_at"]
    assert fetch(client, "w2") == []  # locked
    done = client.post(f"/api/v1/external-tasks/{task['id']}/complete",
                       json={"worker_id": "w1", "variables": {"invoice_no": "INV-1"}})
    assert done.status_code == 204, done.text
    assert open_elements(client, instance_id) == ["Send"]
    assert instance(client, instance_id)["variables"]["invoice_no"] == "INV-1"
    again = client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w1"})
    assert again.status_code == 404
    history = client.get(f"/api/v1/process-instances/{instance_id}/history").json()["items"]
    completed = [e for e in history if e["kind"] == "external_task_completed"]
    assert len(completed) == 1 and completed[0]["data"]["worker_id"] == "w1"


def test_completion_by_another_worker_or_after_lock_expiry_is_rejected(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1", lock_ms=300)
    other = client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w2"})
    assert other.status_code == 409 and "locked by worker 'w1'" in other.json()["detail"]
    time.sleep(0.4)
    late = client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w1"})
    assert late.status_code == 409 and "expired" in late.json()["detail"]
    [again] = fetch(client, "w2")  # an expired lock makes the task fetchable again
    assert again["id"] == task["id"] and again["worker_id"] == "w2"
    stale = client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w1"})
    assert stale.status_code == 409 and "locked by worker 'w2'" in stale.json()["detail"]
    assert client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w2"}).status_code == 204
    assert open_elements(client, instance_id) == ["Send"]


def test_extend_lock_and_unlock(client: TestClient) -> None:
    deploy_and_start(client)
    [task] = fetch(client, "w1", lock_ms=300)
    extended = client.post(f"/api/v1/external-tasks/{task['id']}/extend-lock",
                           json={"worker_id": "w1", "new_duration": 60_000})
    assert extended.status_code == 200 and extended.json()["lock_expires_at"] > task["lock_expires_at"]
    time.sleep(0.4)
    assert fetch(client, "w2") == []  # still locked thanks to the extension
    assert client.post(f"/api/v1/external-tasks/{task['id']}/extend-lock",
                       json={"worker_id": "w2", "new_duration": 1000}).status_code == 409
    assert client.post(f"/api/v1/external-tasks/{task['id']}/unlock").status_code == 204
    assert [t["id"] for t in fetch(client, "w2")] == [task["id"]]


def test_failure_with_retries_waits_the_retry_timeout_then_exhaustion_is_an_incident(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1")
    failed = client.post(f"/api/v1/external-tasks/{task['id']}/failure", json={
        "worker_id": "w1", "error_message": "accounting system down", "error_details": "Traceback ...",
        "retries": 1, "retry_timeout": 300})
    assert failed.status_code == 204, failed.text
    assert fetch(client, "w1") == []  # not before the retry timeout
    time.sleep(0.35)
    [retry] = fetch(client, "w1")
    assert retry["retries"] == 1 and retry["error_message"] == "accounting system down"
    assert client.get(f"/api/v1/external-tasks/{task['id']}/error-details").json() == {"error_details": "Traceback ..."}
    client.post(f"/api/v1/external-tasks/{task['id']}/failure",
                json={"worker_id": "w1", "error_message": "still down", "retries": 0})
    stuck = instance(client, instance_id)
    assert stuck["status"] == "failed"
    [incident] = stuck["incidents"]
    assert incident["element_id"] == "Issue" and incident["message"] == "still down"
    assert fetch(client, "w1") == []
    listed = client.get("/api/v1/incidents").json()
    assert listed["total"] == 1 and listed["items"][0]["job_id"] == task["id"]
    assert listed["items"][0]["definition_key"] == "billing" and listed["items"][0]["business_key"] == "deal"
    # The admin fixes the accounting system and retries the job: nothing was lost.
    retried = client.post(f"/api/v1/jobs/{task['id']}/retry", json={"retries": 2})
    assert retried.status_code == 200 and retried.json()["state"] == "ready"
    assert instance(client, instance_id)["status"] == "running"
    assert client.get("/api/v1/incidents").json()["total"] == 0
    [back] = fetch(client, "w1")
    assert back["id"] == task["id"] and back["retries"] == 2
    client.post(f"/api/v1/external-tasks/{task['id']}/complete", json={"worker_id": "w1"})
    assert open_elements(client, instance_id) == ["Send"]


def test_instance_retry_reruns_a_failed_external_task(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1")
    client.post(f"/api/v1/external-tasks/{task['id']}/failure", json={"worker_id": "w1", "retries": 0})
    assert instance(client, instance_id)["status"] == "failed"
    retried = client.post(f"/api/v1/process-instances/{instance_id}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "running"
    assert [t["id"] for t in fetch(client, "w1")] == [task["id"]]


def test_bpmn_error_is_caught_by_the_boundary_error_event(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1")
    response = client.post(f"/api/v1/external-tasks/{task['id']}/bpmn-error", json={
        "worker_id": "w1", "error_code": "no_customer", "error_message": "unknown INN",
        "variables": {"inn": "7700000000"}})
    assert response.status_code == 200 and response.json() == {"caught": True, "incident_id": None}
    assert open_elements(client, instance_id) == ["FixCustomer"]
    assert instance(client, instance_id)["variables"]["inn"] == "7700000000"
    assert client.get(f"/api/v1/external-tasks/{task['id']}").status_code == 404


def test_uncaught_bpmn_error_is_an_incident_and_the_task_keeps_its_place(client: TestClient) -> None:
    [instance_id] = deploy_and_start(client)
    [task] = fetch(client, "w1")
    response = client.post(f"/api/v1/external-tasks/{task['id']}/bpmn-error",
                           json={"worker_id": "w1", "error_code": "other_code"})
    assert response.status_code == 200 and response.json()["caught"] is False
    stuck = instance(client, instance_id)
    assert stuck["status"] == "failed" and stuck["incidents"][0]["kind"] == "bpmn_error"
    assert "other_code" in stuck["incidents"][0]["message"]
    assert client.get(f"/api/v1/external-tasks/{task['id']}").json()["state"] == "failed"


def test_external_tasks_are_for_workers_and_admins(ctx: AppContext) -> None:
    hunter = Actor("hanna", frozenset({"hunter"}))
    with pytest.raises(Forbidden):
        external_tasks.fetch_and_lock(ctx, actor=hunter, worker_id="w", topics=[TopicRequest(TOPIC, 1000)],
                                      max_tasks=1)
    robot = Actor("robot", frozenset({"external_worker"}))
    assert external_tasks.fetch_and_lock(ctx, actor=robot, worker_id="w", topics=[TopicRequest(TOPIC, 1000)],
                                         max_tasks=1) == []


def test_long_polling_returns_as_soon_as_a_task_appears(client: TestClient, ctx: AppContext) -> None:
    deployments.deploy(ctx, files=[("b.bpmn", external_invoice().encode())], actor=SYSTEM)
    found: list[list] = []

    def poll() -> None:
        found.append(external_tasks.fetch_and_lock(ctx, actor=SYSTEM, worker_id="poller",
                                                   topics=[TopicRequest(TOPIC, 10_000)], max_tasks=1,
                                                   async_response_timeout_ms=5000))

    started = time.monotonic()
    thread = threading.Thread(target=poll)
    thread.start()
    time.sleep(0.3)
    instances.start_instance(ctx, actor=SYSTEM, definition_key="billing")
    thread.join(10)
    assert len(found[0]) == 1 and time.monotonic() - started < 3


def test_competing_workers_never_get_the_same_task(client: TestClient, ctx: AppContext) -> None:
    """Eight threads fetch concurrently (on PostgreSQL: FOR UPDATE SKIP LOCKED + guarded update)."""
    ids = deploy_and_start(client, count=40)
    got: dict[str, list[str]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(8)

    def work(worker: str) -> None:
        barrier.wait()
        mine: list[str] = []
        try:
            while True:
                try:
                    locked = external_tasks.fetch_and_lock(ctx, actor=SYSTEM, worker_id=worker,
                                                           topics=[TopicRequest(TOPIC, 60_000)], max_tasks=3)
                except Conflict:  # SQLite: the database was busy; ask again
                    continue
                if not locked:
                    break
                mine.extend(t.id for t in locked)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        got[worker] = mine

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    every = [task_id for mine in got.values() for task_id in mine]
    assert len(every) == len(ids) == len(set(every))
