"""What analytics reads from a deployed model: each element's name, type, funnel stage and work kind, which
boundary timers guard which task, which tasks are escalations, and the order of the funnel stages.

Definitions never change, so each is read once per process (the XML passes the hardened parser again).
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from dataclasses import dataclass, field

from lxml import etree

from app.engine.xml import BPMN_MODEL_NS, parse_xml

_BPMN = f"{{{BPMN_MODEL_NS}}}"
_CAMUNDA = "{http://camunda.org/schema/1.0/bpmn}"
_FLOW_NODE_TAGS = {
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "task",
    "userTask", "serviceTask", "scriptTask", "sendTask", "receiveTask", "manualTask", "businessRuleTask",
    "callActivity", "subProcess", "exclusiveGateway", "parallelGateway", "inclusiveGateway",
    "eventBasedGateway",
}


@dataclass(frozen=True)
class Element:
    id: str
    name: str | None
    type: str  # the BPMN tag: userTask, boundaryEvent, ...
    stage: str | None = None
    work_kind: str | None = None
    attached_to: str | None = None  # boundary events: the activity they guard
    timer: bool = False
    escalation: bool = False  # a user task opened by a boundary timer (an SLA escalation)
    called: str | None = None  # call activities: the called process key


@dataclass
class ModelMap:
    elements: dict[str, Element] = field(default_factory=dict)
    stages: list[str] = field(default_factory=list)  # funnel order: first reached from the start events
    stage_after_call: dict[str, str | None] = field(default_factory=dict)  # call activity -> its stage

    def sla_timers(self) -> dict[str, Element]:
        """Boundary timers: each firing is an SLA breach of the task it is attached to."""
        return {k: e for k, e in self.elements.items() if e.type == "boundaryEvent" and e.timer and e.attached_to}

    def escalations(self) -> set[str]:
        return {k for k, e in self.elements.items() if e.escalation}


def read_model(xml: str, key: str) -> ModelMap:
    tree = parse_xml(xml.encode("utf-8"), filename=f"{key}.bpmn", max_bytes=50_000_000)
    process = tree.getroot().find(f"{_BPMN}process[@id='{key}']") if _safe_id(key) else None
    if process is None:
        process = tree.getroot().find(f"{_BPMN}process")
    result = ModelMap()
    if process is None:
        return result
    flows: dict[str, list[str]] = {}
    incoming_from: dict[str, list[str]] = {}
    order: list[str] = []
    for node in process.iter():
        if not isinstance(node.tag, str) or not node.tag.startswith(_BPMN):
            continue
        tag = node.tag[len(_BPMN):]
        if tag == "sequenceFlow":
            source, target = node.get("sourceRef"), node.get("targetRef")
            if source and target:
                flows.setdefault(source, []).append(target)
                incoming_from.setdefault(target, []).append(source)
            continue
        if tag not in _FLOW_NODE_TAGS or not node.get("id"):
            continue
        properties = _properties(node)
        element = Element(
            id=node.get("id"), name=node.get("name"), type=tag, stage=properties.get("funnel_stage"),
            work_kind=properties.get("work_kind"), attached_to=node.get("attachedToRef"),
            timer=node.find(f"{_BPMN}timerEventDefinition") is not None,
            called=node.get("calledElement") if tag == "callActivity" else None,
        )
        result.elements[element.id] = element
        order.append(element.id)
    for element in list(result.elements.values()):
        if element.attached_to:
            flows.setdefault(element.attached_to, []).append(element.id)
    for element_id, element in list(result.elements.items()):
        sources = incoming_from.get(element_id, [])
        if element.type == "userTask" and any(
                result.elements.get(s) is not None and result.elements[s].type == "boundaryEvent"
                and result.elements[s].timer for s in sources):
            result.elements[element_id] = _replace(element, escalation=True)
    result.stages = _stage_order(result, flows, order)
    return result


def _replace(element: Element, **changes: object) -> Element:
    values = dict(element.__dict__)
    values.update(changes)
    return Element(**values)  # type: ignore[arg-type]


def _stage_order(model: ModelMap, flows: dict[str, list[str]], order: list[str]) -> list[str]:
    """Breadth-first from the start events: a stage's place is where the flow first reaches it."""
    starts = [e for e in order if model.elements[e].type == "startEvent"]
    seen: set[str] = set(starts)
    queue = deque(starts)
    stages: list[str] = []
    while queue:
        element_id = queue.popleft()
        element = model.elements.get(element_id)
        if element is not None and element.stage and element.stage not in stages:
            stages.append(element.stage)
        if element is not None and element.called:
            model.stage_after_call[element.id] = element.stage
        for target in flows.get(element_id, []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    for element_id in order:  # elements the flow never reaches still name their stage
        stage = model.elements[element_id].stage
        if stage and stage not in stages:
            stages.append(stage)
    return stages


def _properties(node: etree._Element) -> dict[str, str]:
    found: dict[str, str] = {}
    extensions = node.find(f"{_BPMN}extensionElements")
    if extensions is None:
        return found
    for prop in extensions.iter(f"{_CAMUNDA}property"):
        name, value = prop.get("name"), prop.get("value")
        if name and value is not None:
            found[name] = value
    return found


def _safe_id(key: str) -> bool:
    return all(c.isalnum() or c in "_-." for c in key)


def merge_called(parent: ModelMap, children: dict[str, ModelMap]) -> ModelMap:
    """A called process's tasks run inside the caller's instance: add its elements, and its stages right
    after the call activity's own stage when the caller does not name them already."""
    merged = ModelMap(dict(parent.elements), list(parent.stages), dict(parent.stage_after_call))
    for element in parent.elements.values():
        child = children.get(element.called or "")
        if child is None:
            continue
        for child_id, child_element in child.elements.items():
            merged.elements.setdefault(child_id, child_element)
        anchor = merged.stages.index(element.stage) + 1 if element.stage in merged.stages else len(merged.stages)
        for stage in child.stages:
            if stage not in merged.stages:
                merged.stages.insert(anchor, stage)
                anchor += 1
    return merged


class ModelMapCache:
    """Model maps by definition id (a definition never changes)."""

    def __init__(self, size: int = 128) -> None:
        self._items: OrderedDict[str, ModelMap] = OrderedDict()
        self._lock = threading.Lock()
        self._size = size

    def get(self, definition_id: str, xml: str | None, key: str) -> ModelMap:
        with self._lock:
            found = self._items.get(definition_id)
            if found is not None:
                self._items.move_to_end(definition_id)
                return found
        model = read_model(xml or "", key) if xml else ModelMap()
        with self._lock:
            self._items[definition_id] = model
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return model

    def peek(self, definition_id: str) -> ModelMap | None:
        with self._lock:
            return self._items.get(definition_id)


MODEL_MAPS = ModelMapCache()
