"""A script that runs too long or builds too much fails its instance with an incident; the server stays healthy."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import definitions, upload


def script_model(key: str, script: str) -> str:
    return definitions(f"""
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="StartEvent" />
    <bpmn:scriptTask id="Calculate" name="Рассчитать" scriptFormat="python">
      <bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="Review" camunda:candidateGroups="head_of_sales" />
    <bpmn:endEvent id="EndEvent" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent" targetRef="Calculate" />
    <bpmn:sequenceFlow id="F2" sourceRef="Calculate" targetRef="Review" />
    <bpmn:sequenceFlow id="F3" sourceRef="Review" targetRef="EndEvent" />
  </bpmn:process>""")


RUNAWAY = [
    ("slow", "total = 0\nfor i in range(1000):\n    for j in range(1000):\n        for k in range(1000):\n"
             "            total = total + 1", "exceeded"),
    ("huge", "blob = 'a' * (n * 1000000000)", "larger"),
    ("missing", "price = amount * 2", "amount"),
]


@pytest.mark.parametrize(("key", "script", "reason"), RUNAWAY, ids=[r[0] for r in RUNAWAY])
def test_failing_script_marks_instance_failed_with_incident_and_server_stays_up(
        client: TestClient, key: str, script: str, reason: str) -> None:
    deployed = client.post("/api/v1/deployments", files=upload((f"{key}.bpmn", script_model(key, script))))
    assert deployed.status_code == 201
    started = client.post("/api/v1/process-instances", json={"definition_key": key, "variables": {"n": 10}})
    assert started.status_code == 201, started.text
    instance = started.json()
    assert instance["status"] == "failed"
    (incident,) = instance["incidents"]
    assert incident["element_id"] == "Calculate"
    assert reason in incident["message"]
    assert instance["tasks"] == []
    assert client.get("/health").json()["status"] == "ok"
    history = client.get(f"/api/v1/process-instances/{instance['id']}/history").json()["items"]
    assert [e["kind"] for e in history][-1] == "incident_created"


def test_admin_retries_after_the_cause_is_fixed(client: TestClient) -> None:
    client.post("/api/v1/deployments", files=upload(("m.bpmn", script_model("needs_amount", "price = amount * 2"))))
    instance = client.post("/api/v1/process-instances", json={"definition_key": "needs_amount"}).json()
    assert instance["status"] == "failed"
    retried = client.post(f"/api/v1/process-instances/{instance['id']}/retry")
    assert retried.status_code == 200
    assert retried.json()["status"] == "failed"  # the cause (no amount) is still there
    assert len(retried.json()["incidents"]) == 1
