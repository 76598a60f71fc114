"""camunda-external-task-client-python3 (from PyPI), unmodified: workers fetch and lock with long polling,
complete with variables, report failures with retries and throw BPMN errors; its EngineClient starts
instances and correlates messages."""

from __future__ import annotations

import threading
import time
import warnings

import httpx
import pytest

with warnings.catch_warnings():  # the client declares pydantic v1-style validators (deprecated, harmless)
    warnings.simplefilter("ignore", DeprecationWarning)
    from camunda.client.engine_client import EngineClient
    from camunda.external_task.external_task import ExternalTask, TaskResult
    from camunda.external_task.external_task_worker import ExternalTaskWorker, NoExternalTaskFound

from tests.conftest import ADMIN
from tests.integration.camunda.models import await_payment, credit_check, review_and_charge

pytestmark = pytest.mark.db

CONFIG = {"auth_basic": {"username": ADMIN[0], "password": ADMIN[1]}, "maxTasks": 5, "lockDuration": 10_000,
          "asyncResponseTimeout": 3_000, "retries": 3, "retryTimeout": 0, "sleepSeconds": 0}


def _deploy(http: httpx.Client, xml: str, filename: str) -> None:
    response = http.post("/engine-rest/deployment/create", data={"deployment-name": filename},
                         files=[(filename, (filename, xml.encode(), "text/xml"))])
    assert response.status_code == 200, response.text


def _instance(http: httpx.Client, instance_id: str) -> dict:
    return http.get(f"/engine-rest/history/process-instance/{instance_id}").json()


def test_a_worker_completes_an_external_task_after_long_polling(admin_http: httpx.Client, engine_rest: str) -> None:
    _deploy(admin_http, review_and_charge(group="admin"), "invoice_flow.bpmn")
    engine = EngineClient(engine_rest, config=CONFIG)
    started = engine.start_process("invoice_flow", {"amount": 900}, business_key="INV-42")
    (task,) = admin_http.get("/engine-rest/task", params={"processInstanceId": started["id"]}).json()

    seen: list[ExternalTask] = []

    def charge(external_task: ExternalTask) -> TaskResult:
        seen.append(external_task)
        return external_task.complete({"receipt": "R-42", "charged": True})

    worker = ExternalTaskWorker("worker-1", engine_rest, CONFIG)
    with pytest.raises(NoExternalTaskFound):  # nothing to do yet: the long poll times out empty
        worker.fetch_and_execute("charge-card", charge)

    # Complete the user task while the worker is polling: it gets the external task without a new request.
    polled = threading.Thread(target=worker.fetch_and_execute, args=("charge-card", charge))
    polled.start()
    time.sleep(0.5)
    assert admin_http.post(f"/engine-rest/task/{task['id']}/complete", json={}).status_code == 204
    polled.join(timeout=10)

    (external,) = seen
    assert external.get_topic_name() == "charge-card"
    assert external.get_activity_id() == "Charge"
    assert external.get_process_instance_id() == started["id"]
    assert external.get_business_key() == "INV-42"
    assert external.get_variable("amount") == 900
    assert external.get_worker_id() == "worker-1"
    history = _instance(admin_http, started["id"])
    assert history["state"] == "COMPLETED"
    variables = admin_http.get(f"/engine-rest/history/process-instance/{started['id']}").json()
    assert variables["endTime"] is not None


def test_failures_keep_the_task_with_fewer_retries_and_a_bpmn_error_takes_the_boundary(
        admin_http: httpx.Client, engine_rest: str) -> None:
    _deploy(admin_http, credit_check(), "credit_check.bpmn")
    engine = EngineClient(engine_rest, config=CONFIG)
    instance = engine.start_process("credit_check", {"client": "ООО Ромашка"}, business_key="C-1")
    worker = ExternalTaskWorker("worker-2", engine_rest, CONFIG)

    worker.fetch_and_execute("check-credit", lambda t: t.failure("bureau down", "HTTP 503 from bureau", 3, 0))
    (job,) = admin_http.get("/engine-rest/external-task", params={"processInstanceId": instance["id"]}).json()
    assert job["retries"] == 3
    assert job["errorMessage"] == "bureau down"
    assert job["workerId"] is None or job["lockExpirationTime"] is not None
    details = admin_http.get(f"/engine-rest/external-task/{job['id']}/errorDetails")
    assert details.text == "HTTP 503 from bureau"

    worker.fetch_and_execute("check-credit", lambda t: t.bpmn_error("CREDIT_REJECTED", "too much debt",
                                                                     {"reason": "debt"}))
    assert admin_http.get("/engine-rest/external-task/count",
                          params={"processInstanceId": instance["id"]}).json() == {"count": 0}
    (task,) = admin_http.get("/engine-rest/task", params={"processInstanceId": instance["id"]}).json()
    assert task["taskDefinitionKey"] == "HandleRejection"


def test_locks_are_held_extended_and_released(admin_http: httpx.Client, engine_rest: str) -> None:
    _deploy(admin_http, credit_check(), "credit_check.bpmn")
    admin_http.post("/engine-rest/process-definition/key/credit_check/start", json={})
    fetch = {"workerId": "w-a", "maxTasks": 1, "topics": [{"topicName": "check-credit", "lockDuration": 60_000}]}
    (locked,) = admin_http.post("/engine-rest/external-task/fetchAndLock", json=fetch).json()
    assert locked["workerId"] == "w-a" and locked["lockExpirationTime"].endswith("+0000")
    assert admin_http.post("/engine-rest/external-task/fetchAndLock", json={**fetch, "workerId": "w-b"}).json() == []

    stolen = admin_http.post(f"/engine-rest/external-task/{locked['id']}/complete", json={"workerId": "w-b"})
    assert stolen.status_code in (400, 409, 500) and stolen.json()["type"].endswith("Exception")
    extended = admin_http.post(f"/engine-rest/external-task/{locked['id']}/extendLock",
                               json={"workerId": "w-a", "newDuration": 120_000})
    assert extended.status_code == 204
    assert admin_http.get(f"/engine-rest/external-task/{locked['id']}").json()["lockExpirationTime"] > \
        locked["lockExpirationTime"]
    assert admin_http.post(f"/engine-rest/external-task/{locked['id']}/unlock").status_code == 204
    (again,) = admin_http.post("/engine-rest/external-task/fetchAndLock", json={**fetch, "workerId": "w-b"}).json()
    assert again["id"] == locked["id"]
    assert admin_http.post(f"/engine-rest/external-task/{again['id']}/complete",
                           json={"workerId": "w-b", "variables": {"score": {"value": 700, "type": "Integer"}}}
                           ).status_code == 204


def test_engine_client_correlates_a_message_by_business_key(admin_http: httpx.Client, engine_rest: str) -> None:
    _deploy(admin_http, await_payment(), "await_payment.bpmn")
    engine = EngineClient(engine_rest, config=CONFIG)
    first = engine.start_process("await_payment", {}, business_key="ORD-1")
    engine.start_process("await_payment", {}, business_key="ORD-2")

    (result,) = engine.correlate_message("payment_received", business_key="ORD-1",
                                         process_variables={"paid": 1500})
    assert result["resultType"] == "Execution"
    assert result["execution"]["processInstanceId"] == first["id"]
    (task,) = admin_http.get("/engine-rest/task", params={"processInstanceBusinessKey": "ORD-1"}).json()
    assert task["taskDefinitionKey"] == "Ship"
    paid = admin_http.get(f"/engine-rest/process-instance/{first['id']}/variables/paid").json()
    assert paid == {"type": "Integer", "value": 1500, "valueInfo": {}}

    nobody = admin_http.post("/engine-rest/message", json={"messageName": "payment_received",
                                                           "businessKey": "ORD-404"})
    assert nobody.status_code == 400
    assert nobody.json()["type"] == "MismatchingMessageCorrelationException"
    two = admin_http.post("/engine-rest/message", json={"messageName": "payment_received"})
    assert two.status_code == 204  # ORD-2 alone is still waiting
    assert engine.get_process_instance(process_key="await_payment") != []
