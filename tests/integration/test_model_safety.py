"""Models that must not hurt the server: endless recursion, runaway runs, malformed multi-instance data."""

from __future__ import annotations

import threading
import time

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.factories import definitions, upload


def recursive(key: str = "again", guarded: bool = False) -> str:
    """A process whose call activity calls the process itself (behind a gateway when `guarded`)."""
    if not guarded:
        flows = """<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Call" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="E" />"""
        nodes = ""
    else:
        nodes = '<bpmn:exclusiveGateway id="More" default="Stop" />'
        flows = """<bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="More" />
    <bpmn:sequenceFlow id="Go" sourceRef="More" targetRef="Call">
      <bpmn:conditionExpression>${n &gt; 0}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Stop" sourceRef="More" targetRef="E" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="E" />"""
    return definitions(f"""
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="S" />
    {nodes}
    <bpmn:callActivity id="Call" name="Снова" calledElement="{key}" />
    <bpmn:endEvent id="E" />
    {flows}
  </bpmn:process>""")


def mutual() -> str:
    return definitions("""
  <bpmn:process id="ping" isExecutable="true">
    <bpmn:startEvent id="S1" /><bpmn:callActivity id="CallPong" calledElement="pong" /><bpmn:endEvent id="E1" />
    <bpmn:sequenceFlow id="F1" sourceRef="S1" targetRef="CallPong" />
    <bpmn:sequenceFlow id="F2" sourceRef="CallPong" targetRef="E1" />
  </bpmn:process>
  <bpmn:process id="pong" isExecutable="true">
    <bpmn:startEvent id="S2" /><bpmn:callActivity id="CallPing" calledElement="ping" /><bpmn:endEvent id="E2" />
    <bpmn:sequenceFlow id="F3" sourceRef="S2" targetRef="CallPing" />
    <bpmn:sequenceFlow id="F4" sourceRef="CallPing" targetRef="E2" />
  </bpmn:process>""")


def test_a_process_calling_itself_on_every_run_is_refused_at_deploy(client: TestClient) -> None:
    response = client.post("/api/v1/deployments", files=upload(("again.bpmn", recursive())))
    assert response.status_code == 400, response.text
    problem = response.json()["errors"][0]
    assert problem["element_id"] == "Call" and "nest without end" in problem["message"]
    response = client.post("/api/v1/deployments", files=upload(("pingpong.bpmn", mutual())))
    assert response.status_code == 400
    assert {p["element_id"] for p in response.json()["errors"]} == {"CallPong", "CallPing"}


def test_recursion_behind_a_condition_runs_and_too_deep_a_one_is_an_incident_naming_the_call(
        client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("again.bpmn", recursive(guarded=True)))).status_code == 201
    # A bounded recursion completes (the called process decrements nothing: n is copied, so use n=0 there).
    done = client.post("/api/v1/process-instances", json={"definition_key": "again", "variables": {"n": 0}})
    assert done.json()["status"] == "completed"
    started = time.monotonic()
    endless = client.post("/api/v1/process-instances", json={"definition_key": "again", "variables": {"n": 1}})
    assert time.monotonic() - started < 10
    assert endless.status_code == 201, endless.text
    body = endless.json()
    assert body["status"] == "failed"
    (incident,) = body["incidents"]
    assert incident["element_id"] == "Call" and "levels deep" in incident["message"]


def spin(key: str = "spin") -> str:
    """Script tasks in a cycle without a wait."""
    return definitions(f"""
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:scriptTask id="Count" scriptFormat="python"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:exclusiveGateway id="Again" default="Back" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Count" />
    <bpmn:sequenceFlow id="F2" sourceRef="Count" targetRef="Again" />
    <bpmn:sequenceFlow id="Back" sourceRef="Again" targetRef="Count" />
    <bpmn:sequenceFlow id="Out" sourceRef="Again" targetRef="E">
      <bpmn:conditionExpression>n &lt; 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
  </bpmn:process>""")


@pytest.fixture
def slow_limits(ctx: AppContext) -> AppContext:
    ctx.settings.max_engine_steps = 10**9
    ctx.settings.max_engine_seconds = 1.5
    return ctx


def test_a_run_over_the_time_limit_is_discarded_with_an_incident_while_others_are_served(
        client: TestClient, slow_limits: AppContext) -> None:
    assert client.post("/api/v1/deployments", files=upload(("spin.bpmn", spin()))).status_code == 201
    result: dict[str, object] = {}

    def run() -> None:
        result["response"] = client.post("/api/v1/process-instances",
                                         json={"definition_key": "spin", "variables": {"n": 0}})
        result["at"] = time.monotonic()

    worker = threading.Thread(target=run)
    worker.start()
    time.sleep(0.3)
    health = client.get("/health")
    answered = time.monotonic()
    listed = client.get("/api/v1/process-definitions")
    worker.join(30)
    assert health.status_code == 200 and listed.status_code == 200
    assert answered < result["at"]  # served while the runaway run was still going
    body = result["response"].json()  # type: ignore[attr-defined]
    assert body["status"] == "failed", body
    (incident,) = body["incidents"]
    assert "longer than 1.5 s" in incident["message"] and incident["element_id"] in ("Count", "Again")
    assert body["variables"] == {"n": 0}  # nothing of the discarded run was kept


CALLS = definitions("""
  <bpmn:process id="mi" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:scriptTask id="Prepare" scriptFormat="python"><bpmn:script>items = raw</bpmn:script></bpmn:scriptTask>
    <bpmn:userTask id="Call" name="Позвонить" camunda:assignee="admin">
      <bpmn:multiInstanceLoopCharacteristics camunda:collection="items" camunda:elementVariable="item" />
    </bpmn:userTask>
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Prepare" />
    <bpmn:sequenceFlow id="F2" sourceRef="Prepare" targetRef="Call" />
    <bpmn:sequenceFlow id="F3" sourceRef="Call" targetRef="E" />
  </bpmn:process>""")


@pytest.mark.parametrize("raw", [None, 5, "ab", {"a": 1}])
def test_a_multi_instance_collection_that_is_not_a_list_is_an_incident_naming_the_element(
        client: TestClient, raw: object) -> None:
    assert client.post("/api/v1/deployments", files=upload(("mi.bpmn", CALLS))).status_code == 201
    response = client.post("/api/v1/process-instances", json={"definition_key": "mi", "variables": {"raw": raw}})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "failed"
    (incident,) = body["incidents"]
    assert incident["element_id"] == "Call" and "must be a list" in incident["message"]
    fine = client.post("/api/v1/process-instances", json={"definition_key": "mi", "variables": {"raw": [1, 2]}})
    assert fine.json()["status"] == "running" and len(fine.json()["tasks"]) == 2


def test_a_missing_multi_instance_collection_is_an_incident_after_a_task_completion(client: TestClient) -> None:
    model = CALLS.replace('<bpmn:scriptTask id="Prepare" scriptFormat="python"><bpmn:script>items = raw'
                          '</bpmn:script></bpmn:scriptTask>',
                          '<bpmn:userTask id="Prepare" camunda:assignee="admin" />')
    assert client.post("/api/v1/deployments", files=upload(("mi.bpmn", model))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "mi"}).json()
    task = instance["tasks"][0]["id"]
    done = client.post(f"/api/v1/tasks/{task}/complete", json={"variables": {}})
    assert done.status_code == 200, done.text
    after = client.get(f"/api/v1/process-instances/{instance['id']}").json()
    assert after["status"] == "failed"
    assert "'items' is missing" in after["incidents"][0]["message"]


TICKER = definitions("""
  <bpmn:process id="ticker" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:exclusiveGateway id="Merge" />
    <bpmn:intermediateCatchEvent id="Tick">
      <bpmn:timerEventDefinition><bpmn:timeDuration>PT0.01S</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:scriptTask id="Count" scriptFormat="python"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Merge" />
    <bpmn:sequenceFlow id="F2" sourceRef="Merge" targetRef="Tick" />
    <bpmn:sequenceFlow id="F3" sourceRef="Tick" targetRef="Count" />
    <bpmn:sequenceFlow id="F4" sourceRef="Count" targetRef="Merge" />
  </bpmn:process>""")


def test_a_runaway_timer_loop_stops_with_an_incident_after_the_firing_limit(
        client: TestClient, ctx: AppContext) -> None:
    from app.worker.loop import Worker

    ctx.settings.max_timer_firings_per_minute = 5
    assert client.post("/api/v1/deployments", files=upload(("ticker.bpmn", TICKER))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "ticker",
                                                              "variables": {"n": 0}}).json()
    worker = Worker(ctx, worker_id="w")
    for _ in range(40):
        time.sleep(0.02)
        worker.run_until_idle()
        body = client.get(f"/api/v1/process-instances/{instance['id']}").json()
        if body["status"] == "failed":
            break
    assert body["status"] == "failed", body
    assert body["variables"]["n"] == 5
    (incident,) = body["incidents"]
    assert incident["element_id"] == "Tick" and "5 times within a minute" in incident["message"]
    time.sleep(0.05)
    assert worker.run_until_idle() == 0  # the loop stays stopped
