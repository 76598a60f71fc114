"""Camunda Modeler's exact request sequence against a running server (facts from the modeler's CamundaAPI):
connection check anonymous then with credentials, version, deploy, duplicate deploy, parse error, start."""

from __future__ import annotations

import base64

import httpx
import pytest

from tests.conftest import ADMIN
from tests.integration.camunda.models import java_delegate, review_and_charge

pytestmark = pytest.mark.db

BASIC = "Basic " + base64.b64encode(":".join(ADMIN).encode()).decode()
# The modeler's page is a file:// document: browsers send `Origin: null`.
MODELER = {"accept": "application/json", "origin": "null"}


def _deploy_form(name: str, filename: str, xml: str) -> tuple[dict[str, str], list]:
    """FormData as CamundaAPI.deployDiagram builds it: options, then one part named after the file."""
    data = {"deployment-name": name, "deployment-source": "Camunda Modeler", "enable-duplicate-filtering": "true"}
    return data, [(filename, (filename, xml.encode(), "text/xml"))]


def test_modeler_connection_check_asks_for_credentials_then_succeeds(engine_rest: str) -> None:
    with httpx.Client(timeout=5) as http:  # the modeler gives up after 5 seconds
        anonymous = http.get(f"{engine_rest}/deployment?maxResults=0", headers=MODELER)
        assert anonymous.status_code == 401
        assert "Basic" in anonymous.headers["www-authenticate"]
        assert anonymous.headers["access-control-allow-origin"] == "null"
        assert anonymous.json()["type"] == "AuthenticationException"

        wrong = http.get(f"{engine_rest}/deployment?maxResults=0",
                         headers={**MODELER, "authorization": "Basic " + base64.b64encode(b"admin:nope").decode()})
        assert wrong.status_code == 401

        preflight = http.options(f"{engine_rest}/deployment/create", headers={
            "origin": "null", "access-control-request-method": "POST",
            "access-control-request-headers": "authorization,accept"})
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == "null"
        assert "POST" in preflight.headers["access-control-allow-methods"]

        ok = http.get(f"{engine_rest}/deployment?maxResults=0", headers={**MODELER, "authorization": BASIC})
        assert ok.status_code == 200
        assert ok.json() == []

        version = http.get(f"{engine_rest}/version", headers={**MODELER, "authorization": BASIC})
        assert version.status_code == 200
        assert version.json()["version"].startswith("7.")


def test_modeler_deploys_redeploys_and_starts(engine_rest: str, server_url: str) -> None:
    headers = {**MODELER, "authorization": BASIC}
    with httpx.Client(timeout=5, headers=headers) as http:
        data, files = _deploy_form("Счёт", "invoice_flow.bpmn", review_and_charge())
        first = http.post(f"{engine_rest}/deployment/create", data=data, files=files)
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["name"] == "Счёт"
        assert body["source"] == "Camunda Modeler"
        assert body["deploymentTime"].endswith("+0000")
        (definition,) = body["deployedProcessDefinitions"].values()
        assert definition["key"] == "invoice_flow"
        assert definition["version"] == 1
        assert definition["deploymentId"] == body["id"]
        assert definition["resource"] == "invoice_flow.bpmn"

        again = http.post(f"{engine_rest}/deployment/create", data=data, files=files)
        assert again.status_code == 200
        assert again.json()["deployedProcessDefinitions"] is None
        assert again.json()["id"] == body["id"]

        started = http.post(f"{engine_rest}/process-definition/{definition['id']}/start",
                            json={"businessKey": "INV-1", "variables": {"amount": {"value": 1500, "type": "Long"}}},
                            headers={"content-type": "application/json"})
        assert started.status_code == 200, started.text
        instance = started.json()
        assert instance["definitionId"] == definition["id"]
        assert instance["businessKey"] == "INV-1"
        assert instance["ended"] is False
        assert instance["links"][0]["href"] == f"{engine_rest}/process-instance/{instance['id']}"

        listed = http.get(f"{engine_rest}/deployment").json()
        assert [d["id"] for d in listed] == [body["id"]]

        links = httpx.get(f"{server_url}/.well-known/camunda-automation-platform/webapps", timeout=5).json()
        assert set(links) == {"adminUrl", "cockpitUrl", "tasklistUrl"}
        assert links["tasklistUrl"] == f"{server_url}/ui/inbox"
        # The modeler appends `process-instance/{id}` to cockpitUrl: it lands on the deal's page.
        opened = httpx.get(f"{links['cockpitUrl']}process-instance/{instance['id']}", timeout=5)
        assert opened.status_code == 303 and opened.headers["location"] == f"/ui/deals/{instance['id']}"


def test_modeler_shows_unrunnable_models_as_parse_errors_naming_elements(engine_rest: str) -> None:
    with httpx.Client(timeout=5, headers={**MODELER, "authorization": BASIC}) as http:
        data, files = _deploy_form("legacy", "legacy.bpmn", java_delegate())
        refused = http.post(f"{engine_rest}/deployment/create", data=data, files=files)
        assert refused.status_code == 400
        body = refused.json()
        assert body["type"] == "ParseException"
        assert body["message"].startswith("ENGINE-09005 Could not parse BPMN process.")
        assert "ArchiveInvoice" in body["message"]
        assert "external task" in body["message"]
        assert body["details"]["legacy.bpmn"]["errors"][0]["mainElementId"] == "ArchiveInvoice"

        not_xml = http.post(f"{engine_rest}/deployment/create",
                            data=data, files=[("broken.bpmn", ("broken.bpmn", b"<bpmn:definitions", "text/xml"))])
        assert not_xml.status_code == 400
        assert not_xml.json()["message"].startswith("ENGINE-09005")


def test_a_broken_dmn_file_is_refused_and_forms_ignored(engine_rest: str) -> None:
    with httpx.Client(timeout=5, headers={"authorization": BASIC}) as http:
        data, files = _deploy_form("with dmn", "invoice_flow.bpmn", review_and_charge())
        dmn = http.post(f"{engine_rest}/deployment/create", data=data,
                        files=[*files, ("rules.dmn", ("rules.dmn", b"<definitions/>", "text/xml"))])
        assert dmn.status_code == 400
        assert "rules.dmn" in dmn.json()["message"] and "DMN" in dmn.json()["message"], dmn.json()

        form = http.post(f"{engine_rest}/deployment/create", data=data,
                         files=[*files, ("review.form", ("review.form", b'{"components": []}', "application/json"))])
        assert form.status_code == 200
        (definition,) = form.json()["deployedProcessDefinitions"].values()
        assert definition["resource"] == "invoice_flow.bpmn"
