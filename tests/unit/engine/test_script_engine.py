"""SafeScriptEngine inside real SpiffWorkflow runs: gateways, timers, script tasks, limits, deploy-time
checks."""

from __future__ import annotations

import time
from typing import Any
from xml.sax.saxutils import escape

import pytest
from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.event_definitions.message import CorrelationProperty, MessageEventDefinition
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

from app.engine.expressions import Limits
from app.engine.script_engine import SafeScriptEngine, check_spec_expressions
from app.errors import ExpressionFailed

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'id="defs" targetNamespace="http://voronka.test">\n<bpmn:process id="proc" isExecutable="true">\n'
)
TAIL = "</bpmn:process>\n</bpmn:definitions>\n"


def flow(fid: str, source: str, target: str, condition: str | None = None) -> str:
    if condition is None:
        return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}"/>\n'
    return (
        f'<bpmn:sequenceFlow id="{fid}" sourceRef="{source}" targetRef="{target}">'
        f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{escape(condition)}'
        "</bpmn:conditionExpression></bpmn:sequenceFlow>\n"
    )


def script_task(tid: str, script: str) -> str:
    return (
        f'<bpmn:scriptTask id="{tid}" scriptFormat="python"><bpmn:script>{escape(script)}</bpmn:script>'
        "</bpmn:scriptTask>\n"
    )


def timer_catch(tid: str, kind: str, text: str) -> str:
    return (
        f'<bpmn:intermediateCatchEvent id="{tid}"><bpmn:timerEventDefinition><bpmn:{kind} '
        f'xsi:type="bpmn:tFormalExpression">{escape(text)}</bpmn:{kind}></bpmn:timerEventDefinition>'
        "</bpmn:intermediateCatchEvent>\n"
    )


def parse(body: str) -> tuple[Any, dict[str, Any]]:
    parser = CamundaParser()
    parser.add_bpmn_xml(etree.fromstring((HEAD + body + TAIL).encode()), filename="test.bpmn")
    return parser.get_spec("proc"), parser.get_subprocess_specs("proc")


def start(body: str, data: dict[str, Any], engine: SafeScriptEngine | None = None) -> BpmnWorkflow:
    spec, subprocess_specs = parse(body)
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=engine or SafeScriptEngine())
    workflow.task_tree.data.update(data)
    return workflow


def completed_ids(workflow: BpmnWorkflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in workflow.get_tasks(state=TaskState.COMPLETED) if t.task_spec.bpmn_id}


# --- gateway routing: one diagram, conditions in three dialects -----------------------------------------

CONDITIONS = {
    "python": ("amount > 1000 and approved", "amount > 1000 and not approved", "amount <= 1000"),
    "juel": ("${amount > 1000 && approved}", "${amount gt 1000 and !approved}", "${amount le 1000}"),
    "feel": ("=amount > 1000 and approved = true", "=amount > 1000 and not(approved)", "= amount <= 1000"),
}


def gateway_diagram(dialect: str) -> str:
    high, review, low = CONDITIONS[dialect]
    return (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f0", "start", "gw")
        + '<bpmn:exclusiveGateway id="gw"/>\n'
        + flow("toHigh", "gw", "endHigh", high)
        + flow("toReview", "gw", "endReview", review)
        + flow("toLow", "gw", "endLow", low)
        + '<bpmn:endEvent id="endHigh"/><bpmn:endEvent id="endReview"/><bpmn:endEvent id="endLow"/>\n'
    )


@pytest.mark.parametrize("dialect", ["python", "juel", "feel"])
@pytest.mark.parametrize(
    ("amount", "approved", "end"),
    [(1500, True, "endHigh"), (1500, False, "endReview"), (1000, True, "endLow"), (10, False, "endLow")],
)
def test_gateway_routes_the_same_way_in_every_dialect(
    dialect: str, amount: int, approved: bool, end: str
) -> None:
    workflow = start(gateway_diagram(dialect), {"amount": amount, "approved": approved})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert completed_ids(workflow) & {"endHigh", "endReview", "endLow"} == {end}


def test_gateway_condition_that_fails_names_the_gateway() -> None:
    workflow = start(gateway_diagram("juel"), {"approved": True})  # no amount
    with pytest.raises(WorkflowTaskException) as e:
        workflow.do_engine_steps()
    assert e.value.task.task_spec.bpmn_id == "gw"
    assert "gw" in str(e.value)
    assert "amount" in str(e.value)
    assert isinstance(e.value.__cause__, ExpressionFailed)
    assert e.value.__cause__.element_id == "gw"


# --- timers ---------------------------------------------------------------------------------------------


def test_unquoted_iso_duration_timer_waits_then_fires() -> None:
    body = (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f1", "start", "wait")
        + timer_catch("wait", "timeDuration", "PT1S")
        + flow("f2", "wait", "end")
        + '<bpmn:endEvent id="end"/>\n'
    )
    workflow = start(body, {})
    workflow.do_engine_steps()
    assert not workflow.is_completed()
    assert len(workflow.waiting_events()) == 1
    time.sleep(1.1)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert workflow.is_completed()
    assert "end" in completed_ids(workflow)


@pytest.mark.parametrize(
    ("kind", "text"),
    [
        ("timeDate", "2020-01-01T00:00:00Z"),
        ("timeDuration", "${wait}"),
        ("timeDuration", "=wait"),
        ("timeDate", '"2020-01-01T00:00:00Z"'),
    ],
)
def test_timer_in_the_past_or_from_an_expression_fires(kind: str, text: str) -> None:
    body = (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f1", "start", "wait")
        + timer_catch("wait", kind, text)
        + flow("f2", "wait", "end")
        + '<bpmn:endEvent id="end"/>\n'
    )
    workflow = start(body, {"wait": "PT0S"})
    workflow.do_engine_steps()
    time.sleep(0.01)
    workflow.refresh_timers()
    workflow.do_engine_steps()
    assert workflow.is_completed()


# --- script tasks ---------------------------------------------------------------------------------------


def script_diagram(script: str) -> str:
    return (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f1", "start", "calc")
        + script_task("calc", script)
        + flow("f2", "calc", "end")
        + '<bpmn:endEvent id="end"/>\n'
    )


def test_script_task_results_become_task_data() -> None:
    script = (
        "total = sum(line['price'] * line['qty'] for line in lines)\nif total > 100:\n    tier = 'gold'\n"
        "else:\n    tier = 'basic'\nlines.append({'price': 0, 'qty': 1})"
    )
    workflow = start(script_diagram(script), {"lines": [{"price": 30, "qty": 2}, {"price": 50, "qty": 1}]})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    calc = next(t for t in workflow.get_tasks() if t.task_spec.bpmn_id == "calc")
    assert calc.data["total"] == 110
    assert calc.data["tier"] == "gold"
    assert len(calc.data["lines"]) == 3
    assert workflow.data["tier"] == "gold"


def test_script_task_over_the_time_limit_raises_naming_the_element_and_keeps_data() -> None:
    script = "n = 0\nfor a in range(100000):\n    for b in range(100000):\n        n += 1"
    engine = SafeScriptEngine(Limits(max_seconds=0.2, max_steps=10**12))
    workflow = start(script_diagram(script), {"x": 1}, engine)
    began = time.monotonic()
    with pytest.raises(WorkflowTaskException) as e:
        workflow.do_engine_steps()
    assert time.monotonic() - began < 2
    assert e.value.task.task_spec.bpmn_id == "calc"
    assert "calc" in str(e.value) and "exceeded 0.2 s" in str(e.value)
    assert e.value.task.data == {"x": 1}


def test_script_task_over_the_size_limit_raises_naming_the_element() -> None:
    workflow = start(script_diagram("big = 'x' * 5000"), {}, SafeScriptEngine(Limits(max_size=1000)))
    with pytest.raises(WorkflowTaskException, match=r"calc.*value larger than 1000 elements"):
        workflow.do_engine_steps()


def test_forbidden_script_fails_at_run_time_too_without_side_effects() -> None:
    workflow = start(script_diagram("import os\nos.system('true')"), {"x": 1})
    with pytest.raises(WorkflowTaskException, match="import is not allowed"):
        workflow.do_engine_steps()


# --- multi-instance, messages, service calls, validate --------------------------------------------------


def test_multi_instance_cardinality_from_juel() -> None:
    body = (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f1", "start", "each")
        + '<bpmn:scriptTask id="each" scriptFormat="python"><bpmn:multiInstanceLoopCharacteristics>'
        '<bpmn:loopCardinality xsi:type="bpmn:tFormalExpression">${n}</bpmn:loopCardinality>'
        "</bpmn:multiInstanceLoopCharacteristics><bpmn:script>done = True</bpmn:script></bpmn:scriptTask>\n"
        + flow("f2", "each", "end")
        + '<bpmn:endEvent id="end"/>\n'
    )
    workflow = start(body, {"n": 3})
    workflow.do_engine_steps()
    assert workflow.is_completed()
    instances = [
        t
        for t in workflow.get_tasks(state=TaskState.COMPLETED)
        if t.task_spec.bpmn_id == "each" and t.task_spec.name != "each"
    ]
    assert len(instances) == 3


def test_message_correlation_uses_the_safe_evaluator() -> None:
    engine = SafeScriptEngine()
    props = [
        CorrelationProperty("order", "${order.id}", ["orderKey"]),
        CorrelationProperty("n", "=count(x)", ["k"]),
    ]
    result = MessageEventDefinition("m").calculate_correlations(
        engine, props, {"order": {"id": 7}, "x": [1, 2]}
    )
    assert result == {"orderKey": {"order": 7}, "k": {"n": 2}}
    with pytest.raises(ExpressionFailed):
        MessageEventDefinition("m").calculate_correlations(
            engine, [CorrelationProperty("p", "__import__('os')", ["k"])], {}
        )


def test_validate_raises_syntax_error_for_unparsable_and_expression_failed_for_forbidden() -> None:
    engine = SafeScriptEngine()
    engine.validate("a > 1")
    with pytest.raises(SyntaxError):
        engine.validate("a >")
    with pytest.raises(ExpressionFailed):
        engine.validate("__import__('os')")


def test_service_calls_are_refused() -> None:
    workflow = start(script_diagram("x = 1"), {})
    task = workflow.get_tasks()[0]
    with pytest.raises(WorkflowTaskException, match="not supported"):
        SafeScriptEngine().call_service(task, operation_name="x", operation_params={})


# --- deploy-time checks ---------------------------------------------------------------------------------


def test_check_spec_expressions_reports_every_bad_text_with_element_and_reason() -> None:
    body = (
        '<bpmn:startEvent id="start"/>\n'
        + flow("f0", "start", "calc")
        + script_task("calc", "import os")
        + flow("f1", "calc", "wait")
        + timer_catch("wait", "timeDuration", "open('/etc/passwd').read()")
        + flow("f2", "wait", "gw")
        + '<bpmn:exclusiveGateway id="gw"/>\n'
        + flow("bad", "gw", "endA", "${x.__class__}")
        + flow("good", "gw", "approve", "=x > 1")
        + '<bpmn:userTask id="approve"/>\n'
        + flow("f3", "approve", "endB")
        + '<bpmn:endEvent id="endA"/><bpmn:endEvent id="endB"/>\n'
    )
    spec, subprocess_specs = parse(body)
    spec.task_specs["approve"].extensions.update(
        {
            "candidate_groups": "${approverGroups}",
            "assignee": "${__import__('os')}",
            "due_date": "P3D",
            "candidate_users": ["alice", "=bad ==="],
        }
    )
    problems = check_spec_expressions(spec, subprocess_specs)
    found = {(p.element_id, p.field) for p in problems}
    assert found == {
        ("calc", "script"),
        ("wait", "DurationTimer expression"),
        ("gw", "conditionExpression (flow to endA)"),
        ("approve", "assignee"),
        ("approve", "candidate_users"),
    }
    by_element = {p.element_id: p for p in problems}
    assert by_element["calc"].expression == "import os" and "import" in by_element["calc"].message
    assert "open" in by_element["wait"].message
    assert "__class__" in by_element["gw"].message


def test_check_spec_expressions_accepts_a_clean_model() -> None:
    spec, subprocess_specs = parse(gateway_diagram("feel"))
    assert check_spec_expressions(spec, subprocess_specs) == []
