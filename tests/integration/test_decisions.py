"""DMN decision tables over HTTP: deploy (alone or with the BPMN, both APIs), evaluate, version, hit
policies and FEEL unary tests, business rule tasks with result mapping, and history of what was decided."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.factories import definitions, upload

DMN_NS = "https://www.omg.org/spec/DMN/20191111/MODEL/"
SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "camunda_samples"


def dmn(body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<definitions xmlns="{DMN_NS}" '
            'xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="D" name="D" namespace="http://voronka.test">'
            f"{body}</definitions>")


def table(key: str, inputs: list[str], outputs: list[str], rules: list[tuple[list[str], list[str]]],
          hit_policy: str = "UNIQUE", aggregation: str | None = None, output_values: str | None = None) -> str:
    agg = f' aggregation="{aggregation}"' if aggregation else ""
    ins = "".join(f'<input id="in{n}" label="{i}"><inputExpression typeRef="string"><text>{i}</text>'
                  "</inputExpression></input>" for n, i in enumerate(inputs))
    values = f"<outputValues><text>{output_values}</text></outputValues>" if output_values else ""
    outs = "".join(f'<output id="out{n}" name="{o}" typeRef="string">{values if n == 0 else ""}</output>'
                   for n, o in enumerate(outputs))
    body = "".join(
        f'<rule id="r{n}">' + "".join(f"<inputEntry><text>{t}</text></inputEntry>" for t in tests)
        + "".join(f"<outputEntry><text>{t}</text></outputEntry>" for t in results) + "</rule>"
        for n, (tests, results) in enumerate(rules, start=1))
    return (f'<decision id="{key}" name="{key}"><decisionTable id="{key}_t" hitPolicy="{hit_policy}"{agg}>'
            f"{ins}{outs}{body}</decisionTable></decision>")


DISCOUNT = dmn(table("approver", ["segment", "discount"], ["approver"], [
    (['"public_sector"', "&gt; 5"], ['"head_of_sales"']),
    (["-", "&gt; 10"], ['"head_of_sales"']),
    (["-", "-"], ['"none"']),
], hit_policy="FIRST"))


def deploy(client: TestClient, *files: tuple[str, str]):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/deployments", files=upload(*files))


def evaluate(client: TestClient, key: str, **variables: object) -> dict:
    response = client.post(f"/api/v1/decisions/{key}/evaluate", json={"variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def test_a_dmn_file_deploys_alone_evaluates_on_both_apis_and_is_versioned(client: TestClient) -> None:
    response = deploy(client, ("discount.dmn", DISCOUNT))
    assert response.status_code == 201, response.text
    (decision,) = response.json()["decisions"]
    assert (decision["key"], decision["version"]) == ("approver", 1)
    result = evaluate(client, "approver", segment="public_sector", discount=7)
    assert result["results"] == [{"approver": "head_of_sales"}]
    assert result["matched_rules"][0]["row"] == 1
    assert result["inputs"] == {"segment": "public_sector", "discount": 7}
    camunda = client.post("/engine-rest/decision-definition/key/approver/evaluate", json={"variables": {
        "segment": {"value": "smb", "type": "String"}, "discount": {"value": 7, "type": "Integer"}}})
    assert camunda.status_code == 200, camunda.text
    assert camunda.json() == [{"approver": {"type": "String", "value": "none", "valueInfo": {}}}]
    assert deploy(client, ("discount.dmn", DISCOUNT)).status_code == 200  # identical: nothing new
    changed = DISCOUNT.replace("&gt; 10", "&gt; 20")
    assert deploy(client, ("discount.dmn", changed)).json()["decisions"][0]["version"] == 2
    assert evaluate(client, "approver", segment="smb", discount=15)["results"] == [{"approver": "none"}]
    old = client.post("/api/v1/decisions/approver/evaluate", json={"variables": {"segment": "smb", "discount": 15},
                                                                    "version": 1})
    assert old.json()["results"] == [{"approver": "head_of_sales"}]
    listed = client.get("/engine-rest/decision-definition", params={"latestVersion": "true"}).json()
    assert [(d["key"], d["version"]) for d in listed] == [("approver", 2)]
    assert "approver" in client.get("/engine-rest/decision-definition/key/approver/xml").json()["dmnXml"]
    assert client.post("/api/v1/decisions/nope/evaluate", json={"variables": {}}).status_code == 404


UNARY = [
    ("&lt; 10", 5, True), ("&lt; 10", 10, False), ("&lt;= 10", 10, True), ("&gt;= 3", 2, False),
    ("[1..10]", 10, True), ("[1..10[", 10, False), ("]1..10]", 1, False), ("(1..10)", 5, True),
    ('"a","b"', "b", True), ('"a","b"', "c", False), ('not("a","b")', "c", True), ("-", None, True),
    ("", "x", True), ("true", True, True), ("false", True, False), ("5, 7", 7, True), ("not(5)", 5, False),
    ('date("2026-01-01")', "2026-01-01", True), ('&lt; date("2026-01-01")', "2025-12-31", True),
    ('[date("2026-01-01")..date("2026-12-31")]', "2027-01-01", False), ("? &gt; 3", 4, True),
    ('"Ромашка"', "Ромашка", True), ("limit", 100, True),
]


@pytest.mark.parametrize(("test", "value", "matches"), UNARY)
def test_feel_unary_tests(client: TestClient, test: str, value: object, matches: bool) -> None:
    model = dmn(table("t", ["x"], ["hit"], [([test], ["true"])], hit_policy="FIRST"))
    assert deploy(client, ("t.dmn", model)).status_code in (200, 201)
    result = evaluate(client, "t", x=value, limit=100)
    assert (result["results"] == [{"hit": True}]) is matches, result


RULES = [(["&gt; 0"], ["10"]), (["&gt; 5"], ["30"]), (["&gt; 50"], ["20"])]


@pytest.mark.parametrize(("policy", "aggregation", "x", "expected"), [
    ("FIRST", None, 60, [{"v": 10}]),
    ("RULE ORDER", None, 60, [{"v": 10}, {"v": 30}, {"v": 20}]),
    ("COLLECT", None, 60, [{"v": 10}, {"v": 30}, {"v": 20}]),
    ("COLLECT", "SUM", 60, [{"v": 60}]),
    ("COLLECT", "MIN", 60, [{"v": 10}]),
    ("COLLECT", "MAX", 60, [{"v": 30}]),
    ("COLLECT", "COUNT", 6, [{"v": 2}]),
    ("PRIORITY", None, 60, [{"v": 30}]),
    ("OUTPUT ORDER", None, 60, [{"v": 30}, {"v": 20}, {"v": 10}]),
    ("UNIQUE", None, 3, [{"v": 10}]),
    ("ANY", None, 3, [{"v": 10}]),
    ("FIRST", None, -1, []),
])
def test_hit_policies_and_aggregations(client: TestClient, policy: str, aggregation: str | None, x: int,
                                       expected: list[dict]) -> None:
    model = dmn(table("h", ["x"], ["v"], RULES, hit_policy=policy, aggregation=aggregation,
                      output_values="30,20,10"))
    assert deploy(client, ("h.dmn", model)).status_code in (200, 201)
    assert evaluate(client, "h", x=x)["results"] == expected


def test_a_unique_or_any_table_whose_rules_disagree_is_refused_naming_the_rules(client: TestClient) -> None:
    for policy in ("UNIQUE", "ANY"):
        assert deploy(client, ("h.dmn", dmn(table("h", ["x"], ["v"], RULES, hit_policy=policy)))).status_code in (
            200, 201)
        response = client.post("/api/v1/decisions/h/evaluate", json={"variables": {"x": 60}})
        assert response.status_code == 400 and "rules 1, 2, 3" in response.json()["detail"], response.text


def rule_task(mapping: str | None, result_variable: str = "approver", key: str = "quote") -> str:
    attrs = f' camunda:mapDecisionResult="{mapping}"' if mapping else ""
    return definitions(f"""
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:businessRuleTask id="Decide" name="Кто согласует скидку" camunda:decisionRef="approver"
                           camunda:resultVariable="{result_variable}"{attrs} />
    <bpmn:exclusiveGateway id="Needs" default="Auto" />
    <bpmn:userTask id="Approve" camunda:assignee="admin" />
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Decide" />
    <bpmn:sequenceFlow id="F2" sourceRef="Decide" targetRef="Needs" />
    <bpmn:sequenceFlow id="ToApprove" sourceRef="Needs" targetRef="Approve">
      <bpmn:conditionExpression>${{approver == "head_of_sales"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Auto" sourceRef="Needs" targetRef="E" />
    <bpmn:sequenceFlow id="F3" sourceRef="Approve" targetRef="E" />
  </bpmn:process>""")


def test_camunda_modeler_deploys_bpmn_and_dmn_together_and_the_rule_task_decides(client: TestClient) -> None:
    files = [("quote.bpmn", ("quote.bpmn", rule_task("singleEntry").encode(), "text/xml")),
             ("discount.dmn", ("discount.dmn", DISCOUNT.encode(), "text/xml"))]
    response = client.post("/engine-rest/deployment/create", data={"deployment-name": "quote"}, files=files)
    assert response.status_code == 200, response.text
    assert [d["key"] for d in response.json()["deployedDecisionDefinitions"].values()] == ["approver"]
    big = client.post("/api/v1/process-instances", json={"definition_key": "quote",
                                                          "variables": {"segment": "smb", "discount": 12}}).json()
    assert big["variables"]["approver"] == "head_of_sales" and big["tasks"][0]["element_id"] == "Approve"
    small = client.post("/api/v1/process-instances", json={"definition_key": "quote",
                                                            "variables": {"segment": "smb", "discount": 3}}).json()
    assert small["status"] == "completed" and small["variables"]["approver"] == "none"
    history = client.get(f"/api/v1/process-instances/{big['id']}/history").json()["items"]
    (decided,) = [e for e in history if e["element_id"] == "Decide"]
    decision = decided["data"]["decision"]
    assert decision["inputs"] == {"segment": "smb", "discount": 12}
    assert decision["matched_rules"] == [{"id": "r2", "row": 2}] and decision["version"] == 1


@pytest.mark.parametrize(("mapping", "expected"), [
    (None, [{"approver": "none"}]), ("resultList", [{"approver": "none"}]),
    ("singleResult", {"approver": "none"}), ("collectEntries", ["none"]), ("singleEntry", "none"),
])
def test_map_decision_result(client: TestClient, mapping: str | None, expected: object) -> None:
    assert deploy(client, ("q.bpmn", rule_task(mapping, result_variable="outcome")),
                  ("discount.dmn", DISCOUNT)).status_code == 201
    body = client.post("/api/v1/process-instances", json={"definition_key": "quote",
                                                           "variables": {"segment": "smb", "discount": 1}}).json()
    assert body["variables"]["outcome"] == expected


def test_a_decision_that_is_not_deployed_is_an_incident_naming_the_task(client: TestClient) -> None:
    assert deploy(client, ("q.bpmn", rule_task("singleEntry"))).status_code == 201
    body = client.post("/api/v1/process-instances", json={"definition_key": "quote", "variables": {}}).json()
    assert body["status"] == "failed"
    (incident,) = body["incidents"]
    assert incident["element_id"] == "Decide" and "no decision 'approver' is deployed" in incident["message"]
    assert deploy(client, ("discount.dmn", DISCOUNT)).status_code == 201
    retried = client.post(f"/api/v1/process-instances/{body['id']}/retry")
    assert retried.status_code == 200 and retried.json()["status"] == "completed", retried.text


ZEEBE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:zeebe="http://camunda.org/schema/zeebe/1.0" id="Z" targetNamespace="http://voronka.test">
  <bpmn:process id="zquote" isExecutable="true">
    <bpmn:startEvent id="S" />
    <bpmn:businessRuleTask id="Decide">
      <bpmn:extensionElements>
        <zeebe:calledDecision decisionId="approver" resultVariable="approver" />
      </bpmn:extensionElements>
    </bpmn:businessRuleTask>
    <bpmn:endEvent id="E" />
    <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Decide" />
    <bpmn:sequenceFlow id="F2" sourceRef="Decide" targetRef="E" />
  </bpmn:process>
</bpmn:definitions>"""


def test_zeebe_called_decision_stores_the_single_output(client: TestClient) -> None:
    files = [("resources", ("z.bpmn", ZEEBE.encode(), "text/xml")),
             ("resources", ("discount.dmn", DISCOUNT.encode(), "text/xml"))]
    assert client.post("/v2/deployments", files=files).status_code == 200
    body = client.post("/api/v1/process-instances", json={"definition_key": "zquote",
                                                           "variables": {"segment": "public_sector",
                                                                         "discount": 6}}).json()
    assert body["status"] == "completed" and body["variables"]["approver"] == "head_of_sales"


def test_camundas_invoice_decisions_with_a_required_decision(client: TestClient) -> None:
    sample = (SAMPLES / "invoiceBusinessDecisions.dmn").read_text()
    assert deploy(client, ("invoiceBusinessDecisions.dmn", sample)).status_code == 201
    result = evaluate(client, "invoice-assign-approver", amount=100, invoiceCategory="Misc")
    assert result["results"] == [{"result": "accounting"}, {"result": "sales"}]
    assert evaluate(client, "invoice-assign-approver", amount=5000,
                    invoiceCategory="Misc")["results"] == [{"result": "management"}]


def test_a_broken_dmn_file_is_refused_naming_file_line_and_element(client: TestClient) -> None:
    bad = dmn('<decision id="lit" name="lit"><literalExpression><text>1</text></literalExpression></decision>')
    response = deploy(client, ("bad.dmn", bad))
    assert response.status_code == 400
    problem = response.json()["errors"][0]
    assert problem["file"] == "bad.dmn" and problem["element_id"] == "lit" and "decision table" in problem["message"]
    assert deploy(client, ("x.dmn", "<definitions/>")).status_code == 400
