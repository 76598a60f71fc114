"""Every refusal reads as prose naming the element: no Python exception text, no raw XML."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import definitions, upload


def _process(body: str, head: str = "") -> str:
    return definitions(f"""{head}
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:userTask id="Work" camunda:assignee="admin" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Work" />
    <bpmn:sequenceFlow id="F2" sourceRef="Work" targetRef="E" />
    {body}
  </bpmn:process>""")


CASES = [
    ("""<bpmn:boundaryEvent id="Late" attachedToRef="Work">
      <bpmn:messageEventDefinition messageRef="Nowhere" /></bpmn:boundaryEvent>""", "Late",
     "refers to message 'Nowhere'"),
    ("""<bpmn:boundaryEvent id="Oops" attachedToRef="Work">
      <bpmn:errorEventDefinition errorRef="NoSuchError" /></bpmn:boundaryEvent>""", "Oops",
     "refers to error 'NoSuchError'"),
    ("""<bpmn:boundaryEvent id="Bare" attachedToRef="Work" />""", "Bare", "has no event definition"),
]


@pytest.mark.parametrize(("body", "element", "words"), CASES)
def test_a_refusal_names_the_element_in_prose(client: TestClient, body: str, element: str, words: str) -> None:
    response = client.post("/api/v1/deployments", files=upload(("p.bpmn", _process(body))))
    assert response.status_code == 400, response.text
    problem = response.json()["errors"][0]
    assert problem["element_id"] == element and words in problem["message"], problem
    for leak in ("Error(", "<Element", "TypeError", "NotImplementedError", "b'<"):
        assert leak not in response.text


def test_data_stores_and_data_objects_are_accepted_and_ignored(client: TestClient) -> None:
    head = """<bpmn:dataStore id="Crm" name="CRM" />"""
    body = """<bpmn:dataStoreReference id="CrmRef" dataStoreRef="Crm" />
    <bpmn:dataObjectReference id="OfferRef" dataObjectRef="Offer" />
    <bpmn:dataObject id="Offer" />
    <bpmn:dataObjectReference id="Unbacked" />"""
    model = _process(body, head).replace(
        '<bpmn:userTask id="Work" camunda:assignee="admin" />',
        """<bpmn:userTask id="Work" camunda:assignee="admin">
      <bpmn:dataOutputAssociation id="Out1"><bpmn:targetRef>CrmRef</bpmn:targetRef></bpmn:dataOutputAssociation>
      <bpmn:dataOutputAssociation id="Out2"><bpmn:targetRef>OfferRef</bpmn:targetRef></bpmn:dataOutputAssociation>
    </bpmn:userTask>""")
    response = client.post("/api/v1/deployments", files=upload(("p.bpmn", model)))
    assert response.status_code == 201, response.text
    instance = client.post("/api/v1/process-instances", json={"definition_key": "p"}).json()
    task = instance["tasks"][0]["id"]
    assert client.post(f"/api/v1/tasks/{task}/complete", json={"variables": {"Offer": 5}}).status_code == 200
    done = client.get(f"/api/v1/process-instances/{instance['id']}").json()
    assert done["status"] == "completed" and done["variables"] == {"Offer": 5}
