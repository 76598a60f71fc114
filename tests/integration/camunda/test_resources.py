"""The Camunda 7 resources over HTTP: deployments, definitions, instances, tasks and history, with Camunda's
shapes, typed variables, dates and error bodies."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.camunda.models import review_and_charge

pytestmark = pytest.mark.db

CAMUNDA_DATE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")


def deploy(http: httpx.Client, xml: str, filename: str = "invoice_flow.bpmn", name: str = "invoice") -> dict:
    response = http.post("/engine-rest/deployment/create",
                         data={"deployment-name": name, "enable-duplicate-filtering": "true"},
                         files=[(filename, (filename, xml.encode(), "text/xml"))])
    assert response.status_code == 200, response.text
    return response.json()


def start(http: httpx.Client, key: str = "invoice_flow", business_key: str | None = None, **variables: dict) -> dict:
    response = http.post(f"/engine-rest/process-definition/key/{key}/start",
                         json={"businessKey": business_key, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def test_definitions_versions_xml_and_counts(admin_http: httpx.Client) -> None:
    first = deploy(admin_http, review_and_charge())
    second = deploy(admin_http, review_and_charge(topic="charge-card-v2"))
    (v2,) = second["deployedProcessDefinitions"].values()
    assert v2["version"] == 2

    everything = admin_http.get("/engine-rest/process-definition", params={"key": "invoice_flow"}).json()
    assert [d["version"] for d in everything] == [2, 1]
    latest = admin_http.get("/engine-rest/process-definition",
                            params={"key": "invoice_flow", "latestVersion": "true"}).json()
    assert [d["id"] for d in latest] == [v2["id"]]
    assert admin_http.get("/engine-rest/process-definition/count").json() == {"count": 2}
    ascending = admin_http.get("/engine-rest/process-definition",
                               params={"sortBy": "version", "sortOrder": "asc"}).json()
    assert [d["version"] for d in ascending] == [1, 2]

    by_key = admin_http.get("/engine-rest/process-definition/key/invoice_flow").json()
    assert by_key["id"] == v2["id"] and by_key["suspended"] is False and by_key["tenantId"] is None
    xml = admin_http.get("/engine-rest/process-definition/key/invoice_flow/xml").json()
    assert xml["id"] == v2["id"] and "charge-card-v2" in xml["bpmn20Xml"]
    (v1_id,) = first["deployedProcessDefinitions"]
    old_xml = admin_http.get(f"/engine-rest/process-definition/{v1_id}/xml").json()
    assert 'camunda:topic="charge-card"' in old_xml["bpmn20Xml"]

    missing = admin_http.get("/engine-rest/process-definition/key/nope")
    assert missing.status_code == 404
    assert missing.json()["type"] == "InvalidRequestException"
    bad_sort = admin_http.get("/engine-rest/process-definition", params={"sortBy": "category"})
    assert bad_sort.status_code == 400 and "category" in bad_sort.json()["message"]


def test_deployments_resources_and_guarded_delete(admin_http: httpx.Client) -> None:
    deployment = deploy(admin_http, review_and_charge(), name="Счета")
    (definition,) = deployment["deployedProcessDefinitions"].values()
    listed = admin_http.get("/engine-rest/deployment", params={"nameLike": "Сч%"}).json()
    assert [d["id"] for d in listed] == [deployment["id"]]
    assert CAMUNDA_DATE.match(listed[0]["deploymentTime"])
    assert admin_http.get("/engine-rest/deployment/count", params={"name": "other"}).json() == {"count": 0}
    assert admin_http.get(f"/engine-rest/deployment/{deployment['id']}").json()["name"] == "Счета"

    (resource,) = admin_http.get(f"/engine-rest/deployment/{deployment['id']}/resources").json()
    assert resource == {"id": definition["id"], "name": "invoice_flow.bpmn", "deploymentId": deployment["id"]}
    data = admin_http.get(f"/engine-rest/deployment/{deployment['id']}/resources/{resource['id']}/data")
    assert data.content == review_and_charge().encode()

    instance = start(admin_http, business_key="INV-1")
    blocked = admin_http.delete(f"/engine-rest/deployment/{deployment['id']}")
    assert blocked.status_code == 409
    assert blocked.json()["type"] == "ProcessEngineException"
    assert "1 of them running" in blocked.json()["message"]

    cascade = admin_http.delete(f"/engine-rest/deployment/{deployment['id']}", params={"cascade": "true"})
    assert cascade.status_code == 204
    assert admin_http.get(f"/engine-rest/deployment/{deployment['id']}").status_code == 404
    assert admin_http.get(f"/engine-rest/history/process-instance/{instance['id']}").status_code == 404


def test_instances_variables_cancel_and_history(admin_http: httpx.Client) -> None:
    deploy(admin_http, review_and_charge())
    instance = start(admin_http, business_key="INV-9", customer={"value": "ООО Ромашка", "type": "String"},
                     lines={"value": '[{"sku": "A", "qty": 2}]', "type": "Json"},
                     due={"value": "2026-12-01T09:00:00.000+0300", "type": "Date"})
    other = start(admin_http, business_key="INV-10")

    by_key = admin_http.get("/engine-rest/process-instance", params={"businessKey": "INV-9"}).json()
    assert [i["id"] for i in by_key] == [instance["id"]]
    assert admin_http.get("/engine-rest/process-instance/count",
                          params={"processDefinitionKey": "invoice_flow"}).json() == {"count": 2}
    posted = admin_http.post("/engine-rest/process-instance", json={"processInstanceIds": [other["id"]]}).json()
    assert [i["id"] for i in posted] == [other["id"]]

    variables = admin_http.get(f"/engine-rest/process-instance/{instance['id']}/variables").json()
    assert variables["customer"] == {"type": "String", "value": "ООО Ромашка", "valueInfo": {}}
    assert variables["lines"]["type"] == "Json"
    assert variables["due"] == {"type": "String", "value": "2026-12-01T09:00:00+03:00", "valueInfo": {}}
    one = admin_http.get(f"/engine-rest/process-instance/{instance['id']}/variables/customer").json()
    assert one["value"] == "ООО Ромашка"
    assert admin_http.get(f"/engine-rest/process-instance/{instance['id']}/variables/nope").status_code == 404

    bad = admin_http.post("/engine-rest/process-definition/key/invoice_flow/start",
                          json={"variables": {"amount": {"value": "lots", "type": "Long"}}})
    assert bad.status_code == 400
    assert bad.json()["type"] == "InvalidRequestException" and "'amount'" in bad.json()["message"]

    assert admin_http.delete(f"/engine-rest/process-instance/{instance['id']}",
                             params={"deleteReason": "duplicate"}).status_code == 204
    assert admin_http.get(f"/engine-rest/process-instance/{instance['id']}").status_code == 404
    history = admin_http.get(f"/engine-rest/history/process-instance/{instance['id']}").json()
    assert history["state"] == "EXTERNALLY_TERMINATED"
    assert history["processDefinitionName"] == "Счёт на оплату"
    assert CAMUNDA_DATE.match(history["endTime"]) and history["durationInMillis"] >= 0
    finished = admin_http.get("/engine-rest/history/process-instance", params={"finished": "true"}).json()
    assert [h["id"] for h in finished] == [instance["id"]]
    assert admin_http.get("/engine-rest/history/process-instance/count",
                          params={"unfinished": "true"}).json() == {"count": 1}


def test_task_queries_forms_completion_and_task_history(admin_http: httpx.Client) -> None:
    deploy(admin_http, review_and_charge())
    first = start(admin_http, business_key="A", amount={"value": 100, "type": "Long"})
    second = start(admin_http, business_key="B")

    tasks = admin_http.get("/engine-rest/task", params={"candidateGroup": "admin", "sortBy": "created",
                                                        "sortOrder": "desc"}).json()
    assert [t["processInstanceId"] for t in tasks] == [second["id"], first["id"]]
    task = tasks[1]
    assert task["name"] == "Проверить счёт" and task["taskDefinitionKey"] == "Review"
    assert CAMUNDA_DATE.match(task["created"]) and task["due"] is None and task["priority"] == 50

    assert admin_http.post(f"/engine-rest/task/{task['id']}/claim", json={"userId": "admin"}).status_code == 204
    # Candidate queries leave assigned tasks out unless asked.
    assert admin_http.get("/engine-rest/task/count", params={"candidateGroup": "admin"}).json() == {"count": 1}
    assert admin_http.post("/engine-rest/task/count", json={"candidateGroups": ["admin", "x"],
                                                            "includeAssignedTasks": True}).json() == {"count": 2}
    assert admin_http.get("/engine-rest/task", params={"assignee": "admin"}).json()[0]["id"] == task["id"]
    assert admin_http.get("/engine-rest/task", params={"processInstanceBusinessKey": "B"}).json()[0]["id"] != task["id"]

    form = admin_http.get(f"/engine-rest/task/{task['id']}/form-variables").json()
    assert form == {"amount": {"type": "Long", "value": 100, "valueInfo": {}},
                    "approved": {"type": "Boolean", "value": None, "valueInfo": {}}}
    links = admin_http.get(f"/engine-rest/task/{task['id']}/identity-links").json()
    assert {"userId": None, "groupId": "admin", "type": "candidate"} in links

    wrong = admin_http.post(f"/engine-rest/task/{task['id']}/complete",
                            json={"variables": {"approved": {"value": "yes"}}})
    assert wrong.status_code == 400 and "approved" in wrong.json()["message"]
    done = admin_http.post(f"/engine-rest/task/{task['id']}/submit-form",
                           json={"variables": {"approved": {"value": True, "type": "Boolean"}}})
    assert done.status_code == 204
    again = admin_http.post(f"/engine-rest/task/{task['id']}/complete", json={})
    assert again.status_code in (404, 409)
    assert admin_http.get(f"/engine-rest/task/{task['id']}").status_code == 404

    (historic,) = admin_http.get("/engine-rest/history/task", params={"finished": "true"}).json()
    assert historic["id"] == task["id"] and historic["deleteReason"] == "completed"
    assert historic["assignee"] == "admin" and CAMUNDA_DATE.match(historic["endTime"])
    assert admin_http.get("/engine-rest/history/task/count").json() == {"count": 2}
