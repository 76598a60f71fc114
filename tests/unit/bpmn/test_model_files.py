"""The shipped models are valid, fully laid out, and carry what the server and the analytics read."""
from __future__ import annotations

import ast
import re

import pytest
from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator

from .harness import model_files, parser
from .model_xml import NS, bounds, documents, flow_nodes, local, properties, safe_parse

FILES = [p.name for p in model_files()]
GROUPS = {"hunter", "closer", "accounting", "account_manager", "head_of_sales"}
GROUP_OF_LANE = {
    "Хантер": "hunter", "Клоузер": "closer", "Бухгалтерия": "accounting",
    "Менеджер по сопровождению": "account_manager", "Руководитель отдела продаж": "head_of_sales",
}
STAGES = {"lead", "qualified", "proposal", "negotiation", "contract", "invoiced", "paid", "fulfilled",
          "retained"}
FIELD_TYPES = {"string", "long", "boolean", "date", "enum", "file"}
CYRILLIC = re.compile(r"[А-Яа-яЁё]")
READABLE_ID = re.compile(r"^[A-Z][A-Za-z]*(_[A-Z][A-Za-z0-9]*)+$")
ISO_DURATION = re.compile(r"^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$")
TOLERANCE = 2.0


def test_the_expected_models_are_shipped() -> None:
    assert FILES == ["sales_deal.bpmn", "vip_service.bpmn"]


@pytest.mark.parametrize("name", FILES)
def test_model_validates_against_the_bpmn_xsd(name: str) -> None:
    BpmnValidator().validate(safe_parse(model_files()[FILES.index(name)]).getroot())


def test_all_models_parse_together_and_the_call_activity_resolves() -> None:
    p = parser()
    assert set(p.get_process_ids()) == {"sales_deal", "vip_service"}
    assert set(p.get_subprocess_specs("sales_deal")) == {"vip_service"}
    assert p.get_spec("sales_deal").task_specs["CallActivity_VipService"].spec == "vip_service"


@pytest.mark.parametrize("name", FILES)
def test_every_process_is_executable_with_camunda_7_namespace(name: str) -> None:
    root = documents()[name].getroot()
    assert root.nsmap["camunda"] == "http://camunda.org/schema/1.0/bpmn"
    processes = root.findall("bpmn:process", NS)
    assert processes and all(p.get("isExecutable") == "true" for p in processes)


@pytest.mark.parametrize("name", FILES)
def test_every_element_has_a_shape_or_edge(name: str) -> None:
    doc = documents()[name]
    shapes = {s.get("bpmnElement") for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}
    edges = {e.get("bpmnElement"): e for e in doc.iterfind(".//bpmndi:BPMNEdge", NS)}
    needs_shape = [el.get("id") for el in flow_nodes(doc)]
    needs_shape += [el.get("id") for el in doc.iterfind(".//bpmn:lane", NS)]
    needs_shape += [el.get("id") for el in doc.iterfind(".//bpmn:participant", NS)]
    assert sorted(set(needs_shape) - shapes) == []
    flows = [el.get("id") for el in doc.iterfind(".//bpmn:sequenceFlow", NS)]
    flows += [el.get("id") for el in doc.iterfind(".//bpmn:messageFlow", NS)]
    assert sorted(set(flows) - set(edges)) == []
    assert all(len(edges[f].findall("di:waypoint", NS)) >= 2 for f in flows)


def _shape_bounds(doc: etree._ElementTree) -> dict[str, tuple[float, float, float, float]]:
    return {s.get("bpmnElement"): bounds(s) for s in doc.iterfind(".//bpmndi:BPMNShape", NS)}


def _on_border(point: tuple[float, float], box: tuple[float, float, float, float]) -> bool:
    x, y = point
    bx, by, bw, bh = box
    inside = bx - TOLERANCE <= x <= bx + bw + TOLERANCE and by - TOLERANCE <= y <= by + bh + TOLERANCE
    near_edge = min(abs(x - bx), abs(x - bx - bw), abs(y - by), abs(y - by - bh)) <= TOLERANCE
    return inside and near_edge


def _waypoints(edge: etree._Element) -> list[tuple[float, float]]:
    return [(float(w.get("x")), float(w.get("y"))) for w in edge.iterfind("di:waypoint", NS)]


@pytest.mark.parametrize("name", FILES)
def test_edges_start_and_end_on_their_shapes_and_run_orthogonally(name: str) -> None:
    doc = documents()[name]
    boxes = _shape_bounds(doc)
    for flow in doc.iterfind(".//bpmn:sequenceFlow", NS):
        edge = doc.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        points = _waypoints(edge)
        assert _on_border(points[0], boxes[flow.get("sourceRef")]), flow.get("id")
        assert _on_border(points[-1], boxes[flow.get("targetRef")]), flow.get("id")
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            assert x0 == x1 or y0 == y1, f"{flow.get('id')} has a diagonal segment"


def _overlap(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("name", FILES)
def test_shapes_do_not_overlap_and_sit_inside_their_lane(name: str) -> None:
    doc = documents()[name]
    boxes = _shape_bounds(doc)
    nodes = flow_nodes(doc)
    hosts = {el.get("id"): el.get("attachedToRef") for el in nodes if local(el) == "boundaryEvent"}
    ids = [el.get("id") for el in nodes]
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            if hosts.get(a) == b or hosts.get(b) == a:
                continue
            assert not _overlap(boxes[a], boxes[b]), f"{a} overlaps {b}"
    for lane in doc.iterfind(".//bpmn:lane", NS):
        lx, ly, lw, lh = boxes[lane.get("id")]
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            x, y, w, h = boxes[ref.text]
            inside = lx <= x and x + w <= lx + lw and ly <= y and y + h <= ly + lh
            assert inside, f"{ref.text} outside its lane"


@pytest.mark.parametrize("name", FILES)
def test_edges_do_not_cross_unrelated_shapes(name: str) -> None:
    doc = documents()[name]
    boxes = _shape_bounds(doc)
    nodes = {el.get("id"): el for el in flow_nodes(doc)}
    for flow in doc.iterfind(".//bpmn:sequenceFlow", NS):
        ends = {flow.get("sourceRef"), flow.get("targetRef")}
        ends |= {nodes[e].get("attachedToRef") for e in list(ends) if nodes[e].get("attachedToRef")}
        edge = doc.find(f".//bpmndi:BPMNEdge[@bpmnElement='{flow.get('id')}']", NS)
        points = _waypoints(edge)
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            seg = (min(x0, x1) - 0.5, min(y0, y1) - 0.5, abs(x1 - x0) + 1, abs(y1 - y0) + 1)
            for node_id in nodes.keys() - ends:
                assert not _overlap(seg, boxes[node_id]), f"{flow.get('id')} crosses {node_id}"


@pytest.mark.parametrize("name", FILES)
def test_ids_are_readable_and_names_russian_with_english_documentation(name: str) -> None:
    doc = documents()[name]
    for el in doc.getroot().iter():
        if el.get("id") and etree.QName(el).namespace == NS["bpmn"] and local(el) != "process":
            assert READABLE_ID.match(el.get("id")), el.get("id")
    for el in flow_nodes(doc):
        if local(el) != "exclusiveGateway" or len(el.findall("bpmn:outgoing", NS)) > 1:
            assert CYRILLIC.search(el.get("name") or ""), f"{el.get('id')} needs a Russian name"
        documentation = el.findtext("bpmn:documentation", namespaces=NS) or ""
        assert documentation and not CYRILLIC.search(documentation), f"{el.get('id')} needs English docs"


def _lane_of(doc: etree._ElementTree) -> dict[str, str]:
    return {ref.text: lane.get("name") for lane in doc.iterfind(".//bpmn:lane", NS)
            for ref in lane.iterfind("bpmn:flowNodeRef", NS)}


@pytest.mark.parametrize("name", FILES)
def test_user_tasks_carry_group_form_and_funnel_properties(name: str) -> None:
    doc = documents()[name]
    lanes = _lane_of(doc)
    user_tasks = doc.findall(".//bpmn:userTask", NS)
    assert user_tasks
    for task in user_tasks:
        tid = task.get("id")
        group = task.get(f"{{{NS['camunda']}}}candidateGroups")
        assert group in GROUPS and group == GROUP_OF_LANE[lanes[tid]], tid
        fields = task.findall("bpmn:extensionElements/camunda:formData/camunda:formField", NS)
        assert fields, tid
        for f in fields:
            assert f.get("id") and CYRILLIC.search(f.get("label") or ""), (tid, f.get("id"))
            assert f.get("type") in FIELD_TYPES, (tid, f.get("id"))
            if f.get("type") == "enum":
                assert f.findall("camunda:value", NS), (tid, f.get("id"))
        assert any(c.get("name") == "required" for c in task.iterfind(".//camunda:constraint", NS)), tid
        props = properties(task)
        assert props.get("funnel_stage") in STAGES and props.get("work_kind") in {"main", "auxiliary"}, tid


def _form_field_ids() -> set[str]:
    return {f.get("id") for doc in documents().values() for f in doc.iterfind(".//camunda:formField", NS)}


@pytest.mark.parametrize("name", FILES)
def test_gateways_route_on_form_variables_and_always_have_a_way_out(name: str) -> None:
    doc = documents()[name]
    produced = _form_field_ids()
    flows = {f.get("id"): f for f in doc.iterfind(".//bpmn:sequenceFlow", NS)}
    for gw in doc.iterfind(".//bpmn:exclusiveGateway", NS):
        outgoing = [flows[o.text] for o in gw.iterfind("bpmn:outgoing", NS)]
        if len(outgoing) < 2:
            continue
        default = gw.get("default")
        assert default in {f.get("id") for f in outgoing}, gw.get("id")
        for f in outgoing:
            condition = f.find("bpmn:conditionExpression", NS)
            if f.get("id") == default:
                assert condition is None
                continue
            assert condition is not None, f.get("id")
            assert condition.get(f"{{{NS['xsi']}}}type") == "bpmn:tFormalExpression"
            tree = ast.parse(condition.text, mode="eval")
            names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            assert names and names <= produced, (f.get("id"), names - produced)


def test_timers_are_unquoted_iso_durations_as_camunda_modeler_writes_them() -> None:
    durations = {el.getparent().getparent().get("id"): el.text
                 for doc in documents().values() for el in doc.iterfind(".//bpmn:timeDuration", NS)}
    assert durations == {"Timer_QualifySla": "PT24H", "Event_PaymentOverdue": "P7D",
                         "Timer_FulfilmentBreach": "P14D"}
    assert all(ISO_DURATION.match(v) for v in durations.values())


def test_sla_and_breach_timers_do_not_cancel_their_tasks() -> None:
    doc = documents()["sales_deal.bpmn"]
    boundary = {el.get("id"): el for el in doc.iterfind(".//bpmn:boundaryEvent", NS)}
    assert boundary["Timer_QualifySla"].get("attachedToRef") == "Task_QualifyLead"
    assert boundary["Timer_FulfilmentBreach"].get("attachedToRef") == "Task_FulfilContract"
    assert all(el.get("cancelActivity") == "false" for el in boundary.values())


def test_invoice_is_an_external_task_and_messages_have_the_agreed_names() -> None:
    doc = documents()["sales_deal.bpmn"]
    service = doc.find(".//bpmn:serviceTask[@id='ServiceTask_CreateInvoice']", NS)
    assert service.get(f"{{{NS['camunda']}}}type") == "external"
    assert service.get(f"{{{NS['camunda']}}}topic") == "invoice.create"
    names = {m.get("name") for m in doc.iterfind("bpmn:message", NS)}
    assert names == {"lead_captured", "repeat_order", "payment_received"}


def test_end_events_record_won_or_lost_for_analytics() -> None:
    doc = documents()["sales_deal.bpmn"]
    outcomes = {el.get("id"): properties(el).get("outcome") for el in doc.iterfind(".//bpmn:endEvent", NS)}
    assert outcomes == {
        "End_EscalationHandled": None, "End_LostDisqualified": "lost", "End_LostNegotiation": "lost",
        "End_BreachWarned": None, "End_Won": "won", "End_WonRepeatOrder": "won",
    }


def test_the_start_form_records_source_company_contact_and_segment() -> None:
    doc = documents()["sales_deal.bpmn"]
    start = doc.find(".//bpmn:startEvent[@id='StartEvent_Manual']", NS)
    fields = {f.get("id"): f for f in start.iterfind(".//camunda:formField", NS)}
    assert {"source", "company", "contact", "segment"} <= fields.keys()
    sources = [v.get("id") for v in fields["source"].iterfind("camunda:value", NS)]
    assert sources == ["cold_call", "exhibition", "conference", "web_form", "social", "yandex_direct"]
