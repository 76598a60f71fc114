"""Camunda details integrators rely on: several messages on one start event, camunda:initiator, transient
variables, and locking one external task by id."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import definitions, upload

MULTI_MESSAGE_START = definitions("""
  <bpmn:message id="M1" name="web-lead" />
  <bpmn:message id="M2" name="phone-lead" />
  <bpmn:process id="leads" isExecutable="true">
    <bpmn:startEvent id="Lead" name="Лид">
      <bpmn:messageEventDefinition messageRef="M1" />
      <bpmn:messageEventDefinition messageRef="M2" />
    </bpmn:startEvent>
    <bpmn:userTask id="Qualify" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="Lead" targetRef="Qualify" />
    <bpmn:sequenceFlow id="F2" sourceRef="Qualify" targetRef="E" />
  </bpmn:process>""")


def test_either_message_of_a_start_event_with_several_starts_the_process(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("leads.bpmn", MULTI_MESSAGE_START))).status_code == 201
    for name in ("web-lead", "phone-lead"):
        response = client.post("/api/v1/messages", json={"name": name, "variables": {"source": name}})
        assert response.status_code == 200, response.text
        (delivery,) = response.json()["deliveries"]
        assert delivery["started"] and delivery["element_id"] == "Lead"
        started = client.get(f"/api/v1/process-instances/{delivery['instance_id']}").json()
        assert started["variables"]["source"] == name and started["tasks"][0]["element_id"] == "Qualify"
    camunda = client.post("/engine-rest/message", json={"messageName": "phone-lead"})
    assert camunda.status_code in (200, 204), camunda.text
    assert client.get("/api/v1/process-instances", params={"definition_key": "leads"}).json()["total"] == 3


INITIATED = definitions("""
  <bpmn:process id="initiated" isExecutable="true">
    <bpmn:startEvent id="S" camunda:initiator="starter" />
    <bpmn:userTask id="Follow" camunda:assignee="${starter}" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Follow" />
    <bpmn:sequenceFlow id="F2" sourceRef="Follow" targetRef="E" />
  </bpmn:process>""")


def test_camunda_initiator_names_who_started_the_instance(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("i.bpmn", INITIATED))).status_code == 201
    body = client.post("/api/v1/process-instances", json={"definition_key": "initiated"}).json()
    assert body["status"] == "running", body
    assert body["variables"]["starter"] == "admin" and body["tasks"][0]["assignee"] == "admin"
    camunda = client.post("/engine-rest/process-definition/key/initiated/start", json={}).json()
    assert client.get(f"/api/v1/process-instances/{camunda['id']}").json()["variables"]["starter"] == "admin"


ROUTED = definitions("""
  <bpmn:process id="routed" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:exclusiveGateway id="Big" default="Small" />
    <bpmn:userTask id="Approve" camunda:assignee="admin" />
    <bpmn:userTask id="Ship" camunda:assignee="admin" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Big" />
    <bpmn:sequenceFlow id="Large" sourceRef="Big" targetRef="Approve">
      <bpmn:conditionExpression>${score &gt; 5}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Small" sourceRef="Big" targetRef="Ship" />
    <bpmn:sequenceFlow id="F2" sourceRef="Approve" targetRef="Ship" />
    <bpmn:sequenceFlow id="F3" sourceRef="Ship" targetRef="E" />
  </bpmn:process>""")


def test_transient_variables_steer_the_run_and_are_never_stored(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("r.bpmn", ROUTED))).status_code == 201
    started = client.post("/engine-rest/process-definition/key/routed/start", json={"variables": {
        "score": {"value": 9, "type": "Integer", "valueInfo": {"transient": True}},
        "company": {"value": "Бета", "type": "String"}}}).json()
    instance = client.get(f"/api/v1/process-instances/{started['id']}").json()
    assert [t["element_id"] for t in instance["tasks"]] == ["Approve"]  # the run saw the score
    assert instance["variables"] == {"company": "Бета"}
    task = instance["tasks"][0]["id"]
    done = client.post(f"/engine-rest/task/{task}/complete", json={"variables": {
        "secret": {"value": "x", "type": "String", "valueInfo": {"transient": True}}, "ok": {"value": True}}})
    assert done.status_code == 204, done.text
    after = client.get(f"/api/v1/process-instances/{started['id']}").json()
    assert after["variables"] == {"company": "Бета", "ok": True}
    history = client.get(f"/api/v1/process-instances/{started['id']}/history").json()["items"]
    assert "score" not in str(history) and "secret" not in str(history)


EXTERNAL = definitions("""
  <bpmn:process id="billing" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:serviceTask id="Invoice" camunda:type="external" camunda:topic="invoice" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Invoice" />
    <bpmn:sequenceFlow id="F2" sourceRef="Invoice" targetRef="E" />
  </bpmn:process>""")


def test_an_external_task_is_locked_by_id_and_another_workers_lock_is_refused(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("b.bpmn", EXTERNAL))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "billing"}).json()
    (task,) = client.get("/engine-rest/external-task", params={"processInstanceId": instance["id"]}).json()
    url = f"/engine-rest/external-task/{task['id']}"
    assert client.post(url + "/lock", json={"workerId": "w1", "lockDuration": 60000}).status_code == 204
    assert client.get(url).json()["workerId"] == "w1"
    refused = client.post(url + "/lock", json={"workerId": "w2", "lockDuration": 60000})
    assert refused.status_code == 409 and "w1" in refused.json()["message"]
    assert client.post("/engine-rest/external-task/nope/lock",
                       json={"workerId": "w1", "lockDuration": 1000}).status_code == 404
    assert client.post(url + "/lock", json={"workerId": "w1", "lockDuration": 0}).status_code == 400
    assert client.post(url + "/complete", json={"workerId": "w1"}).status_code == 204
    assert client.get(f"/api/v1/process-instances/{instance['id']}").json()["status"] == "completed"
