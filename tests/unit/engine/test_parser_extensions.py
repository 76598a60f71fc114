"""A good two-lane sales model: assignment, forms, properties and topics read from Camunda and Zeebe forms."""

from __future__ import annotations

import hashlib
import json

import pytest
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from app.engine.extensions import normalize_lane
from app.engine.parser import ParsedProcess, parse_bpmn_files
from tests.unit.engine.bpmn_factory import SALES, linear_process

EXTENSION_KEYS = {
    "properties",
    "candidate_groups",
    "candidate_users",
    "assignee",
    "due_date",
    "priority",
    "form_key",
    "form_fields",
    "external_topic",
    "documentation",
}


@pytest.fixture(scope="module")
def sales() -> ParsedProcess:
    [process] = parse_bpmn_files([("sales.bpmn", SALES)], max_bytes=1_000_000)
    return process


def test_process_identity_is_read_with_its_bytes_and_hash(sales: ParsedProcess) -> None:
    assert (sales.key, sales.name, sales.filename) == ("sales", "Продажа", "sales.bpmn")
    assert sales.xml == SALES
    assert sales.sha256 == hashlib.sha256(SALES).hexdigest()
    assert sales.spec.name == "sales"


def test_candidate_starters_are_split_into_lists(sales: ParsedProcess) -> None:
    assert sales.candidate_starter_groups == ["hunter", "head_of_sales"]
    assert sales.candidate_starter_users == ["anna"]


def test_start_form_comes_from_start_event_form_data(sales: ParsedProcess) -> None:
    assert [(f["id"], f["label"], f["required"]) for f in sales.start_form] == [("company", "Компания", True)]


def test_every_task_spec_carries_the_full_extension_keys(sales: ParsedProcess) -> None:
    for element_id in ("start", "qualify", "decide", "approve", "notify", "archive", "end"):
        assert set(sales.spec.task_specs[element_id].extensions) == EXTENSION_KEYS


def test_form_data_without_form_key_is_read_with_typed_values(sales: ParsedProcess) -> None:
    qualify = sales.user_tasks["qualify"]
    assert qualify["form_key"] is None
    fields = {f["id"]: f for f in qualify["form_fields"]}
    assert fields["budget"] == {
        "id": "budget",
        "label": "Budget",
        "type": "long",
        "default": 1000,
        "required": True,
        "readonly": False,
        "min": 0,
        "max": 1000000.5,
        "minlength": None,
        "maxlength": None,
        "options": [],
    }
    assert (fields["note"]["minlength"], fields["note"]["maxlength"]) == (2, 500)
    assert fields["hot"]["default"] is True
    assert fields["seen"]["readonly"] is True and fields["seen"]["type"] == "date"
    assert fields["channel"]["options"] == [{"id": "web", "name": "Сайт"}, {"id": "phone", "name": "Phone"}]
    # SpiffWorkflow's own form object is filled too, so its serializer keeps the fields.
    assert [f.id for f in sales.spec.task_specs["qualify"].form.fields] == [
        "budget",
        "note",
        "hot",
        "seen",
        "channel",
    ]


def test_camunda_properties_and_documentation_are_read(sales: ParsedProcess) -> None:
    assert sales.user_tasks["qualify"]["properties"] == {"stage": "qualification"}
    assert sales.user_tasks["qualify"]["documentation"] == "Call the lead and fill in the budget."


def test_camunda_assignment_attributes_are_kept_raw(sales: ParsedProcess) -> None:
    approve = sales.user_tasks["approve"]
    assert approve["candidate_groups"] == "${approverGroups}"
    assert approve["candidate_users"] == "boss, deputy"
    assert approve["due_date"] == "${dueDate}"
    assert approve["priority"] == "80"
    assert approve["form_key"] == "embedded:app:forms/approve.html"
    assert approve["lane"] == "Head of sales"


def test_zeebe_assignment_schedule_priority_form_and_properties_are_read(sales: ParsedProcess) -> None:
    close = sales.user_tasks["close"]
    assert close["assignee"] == "=closer"
    assert close["candidate_groups"] == "closers, head_of_sales"
    assert close["candidate_users"] == "ivan"
    assert close["due_date"] == "2030-01-01T10:00:00Z"
    assert close["priority"] == "70"
    assert close["form_key"] == "camunda-forms:bpmn:close-form"
    assert close["properties"] == {"stage": "closing"}


def test_lane_name_is_the_candidate_group_when_the_task_names_nobody(sales: ParsedProcess) -> None:
    assert sales.user_tasks["qualify"]["candidate_groups"] == "hunter"
    assert sales.user_tasks["offer"]["candidate_groups"] == "hunter"
    assert sales.user_tasks["call"]["candidate_groups"] == "отдел_продаж_москва"
    assert sales.user_tasks["call"]["lane"] == "Отдел продаж-Москва"
    assert sales.spec.task_specs["call"].lane == "Отдел продаж-Москва"


@pytest.mark.parametrize(
    ("lane", "group"),
    [
        ("Hunter", "hunter"),
        ("Head of sales", "head_of_sales"),
        ("Account Manager", "account_manager"),
        ("Invoice\nprocessing", "invoice_processing"),
        ("Отдел продаж", "отдел_продаж"),
        ("Старший-менеджер", "старший_менеджер"),
        ("", None),
        (None, None),
    ],
)
def test_lane_names_normalize_to_group_ids(lane: str | None, group: str | None) -> None:
    assert normalize_lane(lane) == group


def test_external_topics_come_from_camunda_and_zeebe(sales: ParsedProcess) -> None:
    assert sales.spec.task_specs["notify"].extensions["external_topic"] == "crm-notify"
    assert sales.spec.task_specs["archive"].extensions["external_topic"] == "archive-deal"


def test_assignee_alone_suppresses_the_lane_fallback() -> None:
    bpmn = linear_process(middle='<bpmn:userTask id="task" camunda:assignee="demo"/>')
    [process] = parse_bpmn_files([("a.bpmn", bpmn)], max_bytes=100_000)
    assert process.user_tasks["task"]["candidate_groups"] is None
    assert process.user_tasks["task"]["assignee"] == "demo"


def test_extensions_and_form_survive_spec_serialization(sales: ParsedProcess) -> None:
    # CAMUNDA_CONFIG has no converter for the plain bpmn ServiceTask; the serializer module must add one.
    config = {**CAMUNDA_CONFIG, ServiceTask: BpmnTaskSpecConverter}
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(config))
    restored = serializer.registry.restore(json.loads(json.dumps(serializer.registry.convert(sales.spec))))
    assert restored.task_specs["close"].extensions == sales.spec.task_specs["close"].extensions
    assert [f.id for f in restored.task_specs["qualify"].form.fields][0] == "budget"


def test_parsed_spec_runs_to_the_first_user_task(sales: ParsedProcess) -> None:
    workflow = BpmnWorkflow(sales.spec, sales.subprocess_specs)
    workflow.do_engine_steps()
    assert [t.task_spec.bpmn_id for t in workflow.get_tasks(state=16)] == ["qualify"]  # 16 == READY


def test_call_activity_into_another_file_of_the_upload_resolves() -> None:
    caller = linear_process(
        "caller", '<bpmn:callActivity id="call" calledElement="callee"/>', middle_id="call"
    )
    callee = linear_process("callee", '<bpmn:userTask id="inner"/>', middle_id="inner")
    parsed = parse_bpmn_files([("caller.bpmn", caller), ("callee.bpmn", callee)], max_bytes=100_000)
    by_key = {p.key: p for p in parsed}
    assert set(by_key) == {"caller", "callee"}
    assert set(by_key["caller"].subprocess_specs) == {"callee"}
    assert by_key["callee"].filename == "callee.bpmn"
    assert "inner" not in by_key["caller"].user_tasks


def test_user_tasks_of_embedded_subprocesses_and_multi_instance_are_listed() -> None:
    middle = (
        '<bpmn:subProcess id="sub"><bpmn:startEvent id="s2"/>'
        '<bpmn:userTask id="inner" camunda:candidateGroups="sales">'
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="items" camunda:elementVariable="item"/>'
        "</bpmn:userTask>"
        '<bpmn:endEvent id="e2"/>'
        '<bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="inner"/>'
        '<bpmn:sequenceFlow id="g2" sourceRef="inner" targetRef="e2"/></bpmn:subProcess>'
    )
    [process] = parse_bpmn_files(
        [("sub.bpmn", linear_process(middle=middle, middle_id="sub"))], max_bytes=100_000
    )
    assert process.user_tasks["inner"]["candidate_groups"] == "sales"
    assert process.subprocess_specs["sub"].task_specs["inner"].extensions["candidate_groups"] == "sales"


def test_non_executable_processes_are_left_out_of_the_result() -> None:
    body = linear_process("live").decode().replace("</bpmn:definitions>\n", "")
    body += '<bpmn:process id="pool" isExecutable="false"/></bpmn:definitions>\n'
    parsed = parse_bpmn_files([("two.bpmn", body.encode())], max_bytes=100_000)
    assert [p.key for p in parsed] == ["live"]
