"""Variable mappings on activities: `camunda:inputOutput` and `zeebe:ioMapping`.

Input parameters are evaluated when the activity becomes ready and are local to it: once it completes they are
gone again (a process variable of the same name gets its value back), unless an output parameter maps a value
out. Output parameters are evaluated in the activity's data when it completes. They ride on SpiffWorkflow's
data associations (`data_input_associations` / `data_output_associations`), which run at exactly those moments.
Values: an expression (`${...}`, `=...`), plain text, `camunda:list`, `camunda:map`; every expression goes
through the safe evaluator.
"""

from __future__ import annotations

from typing import Any

from lxml import etree
from SpiffWorkflow.task import Task

from app.engine.expressions import is_expression_text
from app.engine.extensions import NSMAP

_MISSING = "__voronka_missing__"


def _evaluate(my_task: Task, value: Any) -> Any:
    kind, content = value
    if kind == "list":
        return [_evaluate(my_task, item) for item in content]
    if kind == "map":
        return {key: _evaluate(my_task, item) for key, item in content}
    if kind == "null":
        return None
    if is_expression_text(content):
        return my_task.workflow.script_engine.evaluate(my_task, content)
    return content


class InputParameter:
    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value
        self.bpmn_id = f"{name}\x00input"  # the library pops inputs by bpmn_id at completion; we restore instead

    def get(self, my_task: Task) -> None:
        shadowed = my_task.internal_data.setdefault("io_shadowed", {})
        shadowed.setdefault(self.name, my_task.data.get(self.name, _MISSING))
        my_task.data[self.name] = _evaluate(my_task, self.value)


class OutputParameter:
    def __init__(self, name: str, value: Any) -> None:
        self.name = name
        self.value = value
        self.bpmn_id = name

    def set(self, my_task: Task) -> None:
        outputs = my_task.internal_data.setdefault("io_outputs", {})
        outputs[self.name] = _evaluate(my_task, self.value)


class CloseScope:
    """Last of the outputs: local inputs vanish (shadowed variables come back), then the outputs are set."""

    bpmn_id = "\x00close"

    def set(self, my_task: Task) -> None:
        for name, before in my_task.internal_data.pop("io_shadowed", {}).items():
            if before == _MISSING:
                my_task.data.pop(name, None)
            else:
                my_task.data[name] = before
        my_task.data.update(my_task.internal_data.pop("io_outputs", {}))


def _value(element: etree._Element) -> Any:
    """camunda:inputParameter / outputParameter / camunda:value / camunda:entry content."""
    for child in element:
        if not isinstance(child.tag, str):
            continue
        local = etree.QName(child).localname
        if local == "list":
            return ("list", [_value(v) for v in child if isinstance(v.tag, str)])
        if local == "map":
            return ("map", [(e.get("key"), _value(e)) for e in child if isinstance(e.tag, str)])
    text = (element.text or "").strip()
    return ("text", text) if text else ("null", None)


def read_io_mapping(node: etree._Element) -> tuple[list[InputParameter], list[Any]]:
    """The input parameters and output parameters (plus the scope closer) of one activity."""
    inputs: list[InputParameter] = []
    outputs: list[Any] = []
    for parameter in node.xpath("./bpmn:extensionElements/camunda:inputOutput/camunda:inputParameter",
                                namespaces=NSMAP):
        inputs.append(InputParameter(parameter.get("name"), _value(parameter)))
    for parameter in node.xpath("./bpmn:extensionElements/camunda:inputOutput/camunda:outputParameter",
                                namespaces=NSMAP):
        outputs.append(OutputParameter(parameter.get("name"), _value(parameter)))
    for mapping in node.xpath("./bpmn:extensionElements/zeebe:ioMapping/*", namespaces=NSMAP):
        source = ("text", mapping.get("source") or "")
        target = mapping.get("target")
        if etree.QName(mapping).localname == "input":
            inputs.append(InputParameter(target, source))
        elif etree.QName(mapping).localname == "output":
            outputs.append(OutputParameter(target, source))
    if inputs or outputs:
        outputs.append(CloseScope())
    return inputs, outputs


def register(registry: Any) -> None:
    """Stored specs carry the mappings: plain dicts in, the same objects out."""
    registry.register(InputParameter, lambda p: {"name": p.name, "value": list(p.value)},
                      lambda d: InputParameter(d["name"], _restore(d["value"])))
    registry.register(OutputParameter, lambda p: {"name": p.name, "value": list(p.value)},
                      lambda d: OutputParameter(d["name"], _restore(d["value"])))
    registry.register(CloseScope, lambda _p: {}, lambda _d: CloseScope())


def _restore(value: Any) -> Any:
    kind, content = value
    if kind == "list":
        return ("list", [_restore(v) for v in content])
    if kind == "map":
        return ("map", [(k, _restore(v)) for k, v in content])
    return (kind, content)
