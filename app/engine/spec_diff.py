"""What changed between two versions of a process, element by element, in terms a process owner reads.

Elements are matched by their BPMN id (the same id is the same element). For a matched pair the serialized task
specs (SpiffWorkflow's own converters) are compared field by field, and the fields are named for people: name,
lane, candidate groups, form, conditions, timer, stage and work kind marks, and so on. Flow plumbing the library
adds (start/end markers, boundary splits and joins) is left out, and so are sequence-flow rewirings that change no
condition: adding a task between two others lists the added task, not its neighbours.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.engine.serializer import convert_spec

# Serialized task-spec keys -> the field a person reads (keys not listed are not compared).
_SPEC_FIELDS = {
    "bpmn_name": "name", "lane": "lane", "documentation": "documentation", "script": "script",
    "prescript": "script", "postscript": "script", "spec": "called_process", "cancel_activity": "interrupting",
    "cardinality": "multi_instance", "data_input": "multi_instance", "data_output": "multi_instance",
    "condition": "multi_instance",
}
# Our extension keys -> field names (properties are split further below).
_EXTENSION_FIELDS = {
    "candidate_groups": "candidate_groups", "candidate_users": "candidate_users", "assignee": "assignee",
    "due_date": "due_date", "priority": "priority", "form_fields": "form", "form_key": "form",
    "external_topic": "topic",
}
_PROPERTY_FIELDS = {"funnel_stage": "stage", "work_kind": "work_kind", "outcome": "outcome"}
_EMBEDDED_TYPES = {"SubWorkflowTask", "TransactionSubprocess"}


@dataclass
class ElementChange:
    element_id: str
    name: str | None
    type: str
    fields: list[str] = field(default_factory=list)
    # field -> {"from": old value, "to": new value}, for the list in words
    values: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class SpecChanges:
    added: list[ElementChange]
    removed: list[ElementChange]
    changed: list[ElementChange]


def elements(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """BPMN id -> serialized task spec, for the process and its embedded sub-processes (called processes are
    definitions of their own and are compared there)."""
    found: dict[str, dict[str, Any]] = {}
    pending = [spec]
    seen: set[str] = set()
    while pending:
        current = pending.pop()
        if current.name in seen:
            continue
        seen.add(current.name)
        for task_spec in current.task_specs.values():
            if not getattr(task_spec, "bpmn_id", None):
                continue
            found[task_spec.bpmn_id] = convert_spec(task_spec)
            if type(task_spec).__name__ in _EMBEDDED_TYPES and task_spec.spec in subprocess_specs:
                pending.append(subprocess_specs[task_spec.spec])
    return found


def compare(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> SpecChanges:
    added = [_element(bpmn_id, spec) for bpmn_id, spec in new.items() if bpmn_id not in old]
    removed = [_element(bpmn_id, spec) for bpmn_id, spec in old.items() if bpmn_id not in new]
    changed = []
    for bpmn_id, before in old.items():
        after = new.get(bpmn_id)
        if after is None:
            continue
        values = _differences(before, after)
        if values:
            change = _element(bpmn_id, after)
            change.fields = list(values)
            change.values = values
            changed.append(change)
    return SpecChanges(sorted(added, key=_order), sorted(removed, key=_order), sorted(changed, key=_order))


def _order(change: ElementChange) -> tuple[str, str]:
    return (change.name or "", change.element_id)


def _element(bpmn_id: str, spec: dict[str, Any]) -> ElementChange:
    return ElementChange(bpmn_id, spec.get("bpmn_name"), spec.get("typename", ""))


def comparable(spec: dict[str, Any]) -> dict[str, Any]:
    """The person-readable fields of one serialized task spec."""
    values: dict[str, Any] = {"type": spec.get("typename")}
    for key, name in _SPEC_FIELDS.items():
        if key in spec:
            values.setdefault(name, {})[key] = spec[key]
    extensions = spec.get("extensions") or {}
    for key, name in _EXTENSION_FIELDS.items():
        values.setdefault(name, {})[key] = extensions.get(key)
    properties = dict(extensions.get("properties") or {})
    for key, name in _PROPERTY_FIELDS.items():
        values[name] = properties.pop(key, None)
    values["properties"] = properties
    if "cond_task_specs" in spec:  # gateways: the conditions, whatever flow now carries them
        values["conditions"] = sorted(Counter(c["condition"] for c in spec["cond_task_specs"]
                                              if c.get("condition")).items())
    definition = spec.get("event_definition")
    if definition:
        if "Timer" in definition.get("typename", ""):  # a timer's name is the event's name, compared above
            values["timer"] = {k: v for k, v in definition.items() if k not in ("name", "description")}
        else:
            values["event"] = definition
    return {name: _single(value) for name, value in values.items()}


def _single(value: Any) -> Any:
    """A group of one spec key reads as that key's value."""
    if isinstance(value, dict) and len(value) == 1:
        return next(iter(value.values()))
    return value


def _differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, dict[str, Any]]:
    old, new = comparable(before), comparable(after)
    return {name: {"from": old.get(name), "to": new.get(name)}
            for name in dict.fromkeys([*old, *new]) if old.get(name) != new.get(name)}
