"""Features a Camunda model may use that Voronka cannot run, found before SpiffWorkflow sees the model.

Each is refused at deploy with the element it sits on and what to use instead: accepting them would mean
ignoring them silently (a listener that never runs, a Java delegate that does nothing) or failing later.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lxml import etree

from app.engine.extensions import (
    CAMUNDA_NS,
    FORM_CONSTRAINTS,
    FORM_FIELD_TYPES,
    ZEEBE_NS,
    camunda,
    read_decision,
)
from app.engine.xml import BPMN_MODEL_NS
from app.errors import Problem

_B = f"{{{BPMN_MODEL_NS}}}"
_EXTERNAL_HINT = 'use an external task (camunda:type="external" camunda:topic="...", or zeebe:taskDefinition)'
_SCRIPT_HINT = 'rewrite it as a Python-subset expression script (scriptFormat="python") or ' + _EXTERNAL_HINT

# Children of a process or sub-process that are not flow nodes, so they need no task parser.
_NOT_FLOW_NODES = {
    _B + name
    for name in (
        "sequenceFlow",
        "laneSet",
        "dataObject",
        "dataObjectReference",
        "dataStoreReference",
        "textAnnotation",
        "association",
        "group",
        "documentation",
        "extensionElements",
        "ioSpecification",
        "property",
        "auditing",
        "monitoring",
        "correlationSubscription",
        "supports",
        "incoming",
        "outgoing",
        "dataInputAssociation",
        "dataOutputAssociation",
        "standardLoopCharacteristics",
        "multiInstanceLoopCharacteristics",
        "completionCondition",
        "categoryValueRef",
    )  # fmt: skip
}
_CONTAINERS = {_B + name for name in ("process", "subProcess", "transaction", "adHocSubProcess")}
_ELEMENT_HINTS = {
    "complexGateway": "use exclusive, inclusive or parallel gateways",
    "choreographyTask": "choreographies cannot be executed; model a process",
    "subChoreography": "choreographies cannot be executed; model a process",
    "callChoreography": "choreographies cannot be executed; model a process",
    "implicitThrowEvent": "use an intermediate throw event",
}
_RESOURCE_ROLES = ("performer", "humanPerformer", "potentialOwner")

# Event definitions SpiffWorkflow honours per event type; any other one would silently become a "none" event.
_EVENT_DEFINITIONS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"message", "signal", "escalation"},
    "boundaryEvent": {"message", "signal", "timer", "conditional", "cancel", "error", "escalation"},
}
_RESERVED_IDS = {"Start", "End", "Root"}
_CONDITION_LANGUAGES = {"", "python", "juel", "feel"}
_CRON = re.compile(r"^\s*\S+(\s+\S+){4,6}\s*$")
_LISTENER_HINT = (
    "listeners are not run by Voronka; move the logic into a Python script task or an external service task"
)


def _local(element: etree._Element) -> str:
    return etree.QName(element).localname


def _owner(element: etree._Element) -> etree._Element:
    """The nearest enclosing BPMN element with an id: the one a user finds in the modeler."""
    node: etree._Element | None = element
    while node is not None and (node.get("id") is None or not node.tag.startswith(_B)):
        node = node.getparent()
    return node if node is not None else element


class _Collector:
    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.problems: list[Problem] = []

    def add(self, element: etree._Element, message: str) -> None:
        owner = _owner(element)
        self.problems.append(
            Problem(message, file=self.filename, line=element.sourceline, element_id=owner.get("id"))
        )


def find_unsupported(tree: etree._ElementTree, *, filename: str, parsed_tags: Iterable[str]) -> list[Problem]:
    """Every unsupported element or Camunda feature in one file, in document order of the checks."""
    known = set(parsed_tags)
    found = _Collector(filename)
    root = tree.getroot()
    for element in root.iter(etree.Element):
        namespace = etree.QName(element).namespace
        if namespace == BPMN_MODEL_NS:
            _check_bpmn_element(element, known, found)
        elif namespace == CAMUNDA_NS:
            _check_camunda_element(element, found)
        elif namespace == ZEEBE_NS:
            _check_zeebe_element(element, found)
    return found.problems


def _check_bpmn_element(element: etree._Element, known: set[str], found: _Collector) -> None:
    name = _local(element)
    parent = element.getparent()
    is_flow_node = parent is not None and parent.tag in _CONTAINERS and element.tag not in _NOT_FLOW_NODES
    element_id = element.get("id") or ""
    if is_flow_node and (element_id in _RESERVED_IDS or element_id.endswith(".EndJoin")):
        # The engine names its own start/end plumbing this way; an element with such an id silently replaces
        # it and the process would start with nothing connected.
        found.add(element, f'the id "{element_id}" is reserved by the engine; rename the element '
                           f'(for example "{name[0].upper()}{name[1:]}_{element_id}")')
    if is_flow_node and element.tag not in known:
        hint = _ELEMENT_HINTS.get(name, "remove it or replace it with a supported task, event or gateway")
        found.add(element, f"element type bpmn:{name} is not supported: {hint}")
        return
    if name in ("serviceTask", "sendTask", "businessRuleTask"):
        _check_implementation(element, found)
    elif name == "scriptTask":
        _check_script_task(element, found)
    elif name in _EVENT_DEFINITIONS:
        _check_event_definitions(element, found)
    elif name in _RESOURCE_ROLES and parent is not None and _local(parent) != "userTask":
        found.add(element, f"bpmn:{name} is read on user tasks only (as Camunda does); remove it here")
    elif name == "timeCycle" and element.text and _CRON.match(element.text):
        found.add(
            element,
            f"cron timer cycles ({element.text.strip()}) are not supported; "
            "use an ISO 8601 repeating interval such as R/PT5M",
        )
    language = element.get("language")
    if language is not None and name != "script" and language.strip().lower() not in _CONDITION_LANGUAGES:
        found.add(
            element, f'expression language "{language}" is not supported; write a Python-subset expression'
        )
    if element.get(camunda("resource")) and name != "scriptTask":
        found.add(
            element, "expressions loaded from camunda:resource are not supported; write the expression inline"
        )


def _check_implementation(element: etree._Element, found: _Collector) -> None:
    name = _local(element)
    java = [attr for attr in ("class", "delegateExpression", "expression") if element.get(camunda(attr))]
    if java:
        value = element.get(camunda(java[0]))
        found.add(element, f"Java delegates (camunda:{java[0]}={value!r}) cannot run here; {_EXTERNAL_HINT}")
        return
    zeebe_type = element.xpath(
        "./bpmn:extensionElements/zb:taskDefinition/@type", namespaces={"bpmn": BPMN_MODEL_NS, "zb": ZEEBE_NS}
    )
    task_type = element.get(camunda("type"))
    if name == "businessRuleTask":
        if not read_decision(element):
            found.add(element, "this business rule task names no decision: set camunda:decisionRef (or "
                               "zeebe:calledDecision) to the id of a deployed DMN decision table")
    elif name == "sendTask":
        if task_type or zeebe_type:
            found.add(element, "external send tasks are not supported; use a service task for external work")
    elif task_type is not None and task_type != "external":
        found.add(element, f'camunda:type="{task_type}" is not supported; {_EXTERNAL_HINT}')
    elif task_type == "external" and not (element.get(camunda("topic")) or "").strip():
        found.add(element, 'camunda:type="external" needs a camunda:topic naming the worker topic')
    elif (
        task_type is None
        and not zeebe_type
        and not element.xpath(
            "./bpmn:extensionElements/cam:connector", namespaces={"bpmn": BPMN_MODEL_NS, "cam": CAMUNDA_NS}
        )
    ):
        found.add(
            element,
            'this service task has no implementation; add camunda:type="external" camunda:topic="..." '
            "or a zeebe:taskDefinition type",
        )


def _check_script_task(element: etree._Element, found: _Collector) -> None:
    script_format = (element.get("scriptFormat") or "").strip()
    if script_format.lower() not in ("", "python"):
        found.add(element, f'scriptFormat "{script_format}" is not supported; {_SCRIPT_HINT}')
    if element.get(camunda("resource")):
        found.add(element, f"scripts loaded from camunda:resource are not supported; {_SCRIPT_HINT}")
    if element.xpath(
        "./bpmn:extensionElements/zb:script", namespaces={"bpmn": BPMN_MODEL_NS, "zb": ZEEBE_NS}
    ):
        found.add(element, f"Zeebe FEEL script tasks are not supported; {_SCRIPT_HINT}")


def _check_event_definitions(element: etree._Element, found: _Collector) -> None:
    allowed = _EVENT_DEFINITIONS[_local(element)]
    if _local(element) == "boundaryEvent" and not any(
            isinstance(child.tag, str) and _local(child).endswith("EventDefinition") for child in element):
        found.add(element, "this boundary event has no event definition: make it a timer, message, error, "
                           "escalation, signal or conditional boundary event, or remove it")
    for child in element:
        child_name = _local(child) if isinstance(child.tag, str) else ""
        if child_name.endswith("EventDefinition") and child.tag.startswith(_B):
            kind = child_name.removesuffix("EventDefinition")
            if kind not in allowed:
                found.add(child, f"a {kind} event definition is not supported on bpmn:{_local(element)}")


def _check_camunda_element(element: etree._Element, found: _Collector) -> None:
    name = _local(element)
    if name in ("executionListener", "taskListener"):
        kind = (
            "script"
            if len(element) and _local(element[0]) == "script"
            else next(
                (attr for attr in ("class", "delegateExpression", "expression") if element.get(attr)),
                "listener",
            )
        )
        found.add(element, f"camunda:{name} ({kind}) is not supported: {_LISTENER_HINT}")
    elif name == "connector":
        found.add(element, f"Camunda connectors are not supported; {_EXTERNAL_HINT}")
    elif name == "script" and element.getparent() is not None and _local(element.getparent()) in (
            "inputParameter", "outputParameter"):
        found.add(element, "scripts in input/output parameters are not supported; write an expression "
                           "(${...}) or map the variable in a Python script task")
    elif name in ("in", "out"):
        if element.get("variables") == "all" or element.get("businessKey") is not None:
            return
        source, target = element.get("source"), element.get("target")
        if element.get("sourceExpression") is not None or source != target:
            found.add(
                element,
                f"camunda:{name} mappings that rename or compute variables are not supported: "
                "the called process shares variables by name"
                ' (use source and target with the same name, or variables="all")',
            )
    elif name == "formField":
        field_type = element.get("type")
        if field_type not in FORM_FIELD_TYPES:
            found.add(
                element,
                f'form field "{element.get("id")}" has type {field_type!r}; use one of '
                + ", ".join(sorted(FORM_FIELD_TYPES)),
            )
    elif name == "constraint" and element.get("name") not in FORM_CONSTRAINTS:
        found.add(
            element,
            f'form validation constraint "{element.get("name")}" is not supported '
            "(custom validators are Java); use " + ", ".join(sorted(FORM_CONSTRAINTS)),
        )


def _check_zeebe_element(element: etree._Element, found: _Collector) -> None:
    name = _local(element)
    if name in ("executionListeners", "taskListeners"):
        found.add(element, f"zeebe:{name} are not supported: {_LISTENER_HINT}")
    elif name == "ioMapping" and element.xpath("./*[@source and starts-with(normalize-space(@source), '=')]") != list(
            element):
        found.add(element, "zeebe:ioMapping sources are FEEL expressions: start each source with '='")
