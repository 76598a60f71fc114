"""Every bad upload gets a 4xx problem naming file, line and element where known, and stores nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.factories import definitions, two_lane_deal, upload

NOT_EXECUTABLE = definitions('<bpmn:process id="p" isExecutable="false"><bpmn:startEvent id="S"/></bpmn:process>')
UNKNOWN_ELEMENT = definitions("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S" /><bpmn:complexGateway id="Weird" /><bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Weird" />
    <bpmn:sequenceFlow id="f2" sourceRef="Weird" targetRef="E" />
  </bpmn:process>""")
SCHEMA_ERROR = definitions("""
  <bpmn:process id="p" isExecutable="maybe">
    <bpmn:startEvent id="S" />
  </bpmn:process>""")
XXE = """<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">
  <bpmn:process id="p" name="&xxe;" isExecutable="true"><bpmn:startEvent id="S"/></bpmn:process>
</bpmn:definitions>"""
LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x">&lol2;
</bpmn:definitions>"""
BAD_EXPRESSION = two_lane_deal().replace("amount &gt; 1000", "__import__('os').system('touch /tmp/pwned')")
GROOVY = definitions("""
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:scriptTask id="Calc" scriptFormat="groovy"><bpmn:script>x = 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f1" sourceRef="S" targetRef="Calc" />
  </bpmn:process>""")

CASES = [
    ("empty", b"", 400, None),
    ("not xml", b"this is not xml", 400, 1),
    ("broken xml", two_lane_deal()[:400].encode(), 400, None),
    ("html", b"<html><body>hi</body></html>", 400, None),
    ("xml not bpmn", b"<?xml version='1.0'?><root><child/></root>", 400, None),
    ("schema error", SCHEMA_ERROR.encode(), 400, 4),
    ("no executable process", NOT_EXECUTABLE.encode(), 400, None),
    ("unknown element", UNKNOWN_ELEMENT.encode(), 400, None),
    ("xxe", XXE.encode(), 400, None),
    ("billion laughs", LAUGHS.encode(), 400, None),
    ("forbidden expression", BAD_EXPRESSION.encode(), 400, None),
    ("groovy script", GROOVY.encode(), 400, None),
]


@pytest.mark.parametrize(("label", "payload", "status", "line"), CASES, ids=[c[0] for c in CASES])
def test_bad_upload_is_refused_with_its_file_named_and_nothing_stored(
        client: TestClient, label: str, payload: bytes, status: int, line: int | None) -> None:
    response = client.post("/api/v1/deployments", files=upload(("bad.bpmn", payload)))
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == status and problem["detail"]
    assert "root:" not in response.text  # never a byte of /etc/passwd
    assert any(e.get("file") == "bad.bpmn" for e in problem.get("errors", [])), problem
    if line is not None:
        assert any(e.get("line") == line for e in problem["errors"]), problem
    assert client.get("/api/v1/process-definitions").json()["total"] == 0


def test_unknown_element_and_bad_expression_name_the_element(client: TestClient) -> None:
    weird = client.post("/api/v1/deployments", files=upload(("weird.bpmn", UNKNOWN_ELEMENT))).json()
    assert any(e.get("element_id") == "Weird" for e in weird["errors"])
    expression = client.post("/api/v1/deployments", files=upload(("deal.bpmn", BAD_EXPRESSION))).json()
    assert any(e.get("element_id") == "Route" or "Flow_Big" in str(e) for e in expression["errors"]), expression


def test_one_bad_file_in_an_upload_stores_none_of_them(client: TestClient) -> None:
    response = client.post("/api/v1/deployments",
                           files=upload(("good.bpmn", two_lane_deal()), ("bad.bpmn", b"<nope")))
    assert response.status_code == 400
    assert client.get("/api/v1/process-definitions").json()["total"] == 0


def test_file_over_the_limit_is_413(client: TestClient) -> None:
    limit = client.app.state.context.settings.max_upload_bytes
    big = two_lane_deal().replace("<bpmn:collaboration", "<!--" + "x" * limit + "--><bpmn:collaboration")
    response = client.post("/api/v1/deployments", files=upload(("big.bpmn", big)))
    assert response.status_code == 413
    assert "big.bpmn" in response.text


def test_missing_files_field_and_bad_json_are_4xx(client: TestClient) -> None:
    assert client.post("/api/v1/deployments").status_code == 422
    bad_json = client.post("/api/v1/process-instances", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert bad_json.status_code == 422
    assert client.post("/api/v1/process-instances", json={"definition_key": "nope"}).status_code == 404
    assert client.post("/api/v1/process-instances", json={}).status_code == 422
    weird_vars = client.post("/api/v1/process-instances", json={"definition_key": "x", "variables": {"1bad": 1}})
    assert weird_vars.status_code in (400, 404)
    assert client.get("/api/v1/tasks/not-a-task").status_code == 404
    assert client.get("/api/v1/process-instances/not-an-id").status_code == 404
    assert client.get("/api/v1/tasks", params={"limit": 0}).status_code == 422


def test_utf16_and_windows_1251_models_deploy_and_serve_as_utf8(client: TestClient) -> None:
    utf16 = two_lane_deal(key="deal16").replace("UTF-8", "UTF-16").encode("utf-16")
    cp1251 = two_lane_deal(key="deal1251").replace("UTF-8", "windows-1251").encode("cp1251")
    response = client.post("/api/v1/deployments", files=upload(("a.bpmn", utf16), ("b.bpmn", cp1251)))
    assert response.status_code == 201, response.text
    for key in ("deal16", "deal1251"):
        xml = client.get(f"/api/v1/process-definitions/{key}/xml")
        assert xml.status_code == 200 and "Квалифицировать лид" in xml.text


def test_nul_characters_in_queries_are_4xx_on_every_database(client: TestClient) -> None:
    for url in ("/api/v1/tasks?business_key=%00", "/api/v1/process-instances?business_key=a%00b",
                "/api/v1/tasks/%00", "/engine-rest/process-instance?businessKey=%00"):
        assert client.get(url).status_code < 500, url
    assert client.post("/api/v1/messages", json={"name": "m\x00"}).status_code in (400, 404)
