"""Camunda Modeler's Camunda 8 targets (topology, multipart deployments) and the real Camunda sample files."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.camunda.models import review_and_charge

pytestmark = pytest.mark.db

# Verbatim Camunda Modeler files (Apache-2.0; SOURCES.md beside them names where each comes from).
SAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "camunda_samples"


def test_camunda8_topology_and_deployment(admin_http: httpx.Client, server_url: str) -> None:
    assert httpx.get(f"{server_url}/v2/topology", timeout=5).status_code == 401
    topology = admin_http.get("/v2/topology").json()
    assert topology["brokers"][0]["partitions"][0]["role"] == "leader"
    assert topology["gatewayVersion"].startswith("8.")

    files = [("resources", ("invoice_flow.bpmn", review_and_charge().encode(), "application/octet-stream"))]
    deployed = admin_http.post("/v2/deployments", files=files)
    assert deployed.status_code == 200, deployed.text
    body = deployed.json()
    process = body["deployments"][0]["processDefinition"]
    assert process["processDefinitionId"] == "invoice_flow"
    assert process["processDefinitionVersion"] == 1
    assert process["resourceName"] == "invoice_flow.bpmn"
    assert body["deploymentKey"] and body["tenantId"] == "<default>"

    again = admin_http.post("/v2/deployments", files=files).json()
    assert again["deployments"][0]["processDefinition"]["processDefinitionKey"] == process["processDefinitionKey"]


def _deploy_sample(admin_http: httpx.Client, path: Path) -> httpx.Response:
    return admin_http.post("/engine-rest/deployment/create",
                           data={"deployment-name": path.stem, "deployment-source": "Camunda Modeler",
                                 "enable-duplicate-filtering": "true"},
                           files=[(path.name, (path.name, path.read_bytes(), "text/xml"))])


def test_the_deployable_camunda_sample_deploys_and_starts(admin_http: httpx.Client) -> None:
    response = _deploy_sample(admin_http, SAMPLES / "reviewInvoice.bpmn")
    assert response.status_code == 200, response.text
    (definition,) = response.json()["deployedProcessDefinitions"].values()
    assert definition["key"] == "ReviewInvoice"
    started = admin_http.post("/engine-rest/process-definition/key/ReviewInvoice/start", json={})
    assert started.status_code == 200, started.text
    instance_id = started.json()["id"]
    (assign,) = admin_http.get("/engine-rest/task", params={"processInstanceId": instance_id}).json()
    assert (assign["taskDefinitionKey"], assign["assignee"]) == ("assignReviewer", "demo")
    # The head of the process hands demo's task to the admin, who names the reviewer.
    assert admin_http.post(f"/engine-rest/task/{assign['id']}/assignee", json={"userId": "admin"}).status_code == 204
    done = admin_http.post(f"/engine-rest/task/{assign['id']}/complete",
                           json={"variables": {"reviewer": {"value": "admin", "type": "String"}}})
    assert done.status_code == 204, done.text
    (review,) = admin_http.get("/engine-rest/task", params={"processInstanceId": instance_id}).json()
    assert (review["taskDefinitionKey"], review["assignee"]) == ("reviewInvoice", "admin")
    assert review["due"] > review["created"]  # ${dateTime().plusDays(2).toDate()}


@pytest.mark.parametrize(("sample", "elements"), [
    ("invoice.v2.bpmn", ["approveInvoice", "ServiceTask_1"]),  # assignApprover (DMN) runs now
    ("parse-bpmn-process.bpmn", ["serviceTask", "scriptTask", "endEvent"]),
    ("order-handling.bpmn", ["StartEvent_1"]),
])
def test_unrunnable_camunda_samples_are_refused_naming_elements(admin_http: httpx.Client, sample: str,
                                                                 elements: list[str]) -> None:
    response = _deploy_sample(admin_http, SAMPLES / sample)
    assert response.status_code == 400
    message = response.json()["message"]
    assert message.startswith("ENGINE-09005 Could not parse BPMN process.")
    for element in elements:
        assert f"element {element}" in message


def test_the_dmn_sample_deploys_and_evaluates(admin_http: httpx.Client) -> None:
    path = SAMPLES / "invoiceBusinessDecisions.dmn"
    response = _deploy_sample(admin_http, path)
    assert response.status_code == 200, response.text
    keys = sorted(d["key"] for d in response.json()["deployedDecisionDefinitions"].values())
    assert keys == ["invoice-assign-approver", "invoiceClassification"]
    evaluated = admin_http.post("/engine-rest/decision-definition/key/invoiceClassification/evaluate", json={
        "variables": {"amount": {"value": 600, "type": "Double"}, "invoiceCategory": {"value": "Misc"}}})
    assert evaluated.json() == [{"invoiceClassification": {"type": "String", "value": "budget", "valueInfo": {}}}]
