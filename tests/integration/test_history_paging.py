"""An instance's history comes a page at a time on both APIs."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import definitions, upload

STEPS = definitions("""
  <bpmn:process id="steps" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:scriptTask id="A" scriptFormat="python"><bpmn:script>a = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="B" scriptFormat="python"><bpmn:script>b = 2</bpmn:script></bpmn:scriptTask>
    <bpmn:scriptTask id="C" scriptFormat="python"><bpmn:script>c = 3</bpmn:script></bpmn:scriptTask>
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="A" />
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="B" />
    <bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="C" />
    <bpmn:sequenceFlow id="F4" sourceRef="C" targetRef="E" />
  </bpmn:process>""")


def test_history_pages_on_the_native_and_the_camunda_api(client: TestClient) -> None:
    assert client.post("/api/v1/deployments", files=upload(("s.bpmn", STEPS))).status_code == 201
    instance = client.post("/api/v1/process-instances", json={"definition_key": "steps"}).json()
    url = f"/api/v1/process-instances/{instance['id']}/history"
    everything = client.get(url).json()
    assert everything["total"] == len(everything["items"]) >= 5
    first = client.get(url, params={"limit": 2}).json()
    rest = client.get(url, params={"limit": 500, "offset": 2}).json()
    assert first["total"] == everything["total"] and len(first["items"]) == 2
    assert [e["id"] for e in first["items"] + rest["items"]] == [e["id"] for e in everything["items"]]
    assert client.get(url, params={"limit": 0}).status_code == 422

    camunda = "/engine-rest/history/activity-instance"
    count = client.get(camunda + "/count", params={"processInstanceId": instance["id"]}).json()["count"]
    elements = [e for e in everything["items"] if e["element_id"]]
    assert count == len(elements)
    page = client.get(camunda, params={"processInstanceId": instance["id"], "firstResult": 1,
                                       "maxResults": 2}).json()
    assert [a["activityId"] for a in page] == [e["element_id"] for e in elements[1:3]]
    assert page[0]["processInstanceId"] == instance["id"]
    assert client.get(camunda, params={"processInstanceId": "nope"}).status_code == 404
