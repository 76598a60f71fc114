"""Camunda 7 (`camunda:`) and Camunda 8 (`zeebe:`) extensions read from one BPMN element.

The result is the dict stored as `task_spec.extensions`; its keys are a contract other modules rely on:
properties, candidate_groups, candidate_users, assignee, due_date, priority, form_key, form_fields,
external_topic, documentation.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from app.engine.xml import BPMN_MODEL_NS

CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
NSMAP = {"bpmn": BPMN_MODEL_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS}

FORM_FIELD_TYPES = frozenset({"string", "long", "boolean", "date", "enum", "file"})  # file: see docs/documents.md
FORM_CONSTRAINTS = frozenset({"required", "readonly", "min", "max", "minlength", "maxlength"})

_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def camunda(name: str) -> str:
    return f"{{{CAMUNDA_NS}}}{name}"


def zeebe(name: str) -> str:
    return f"{{{ZEEBE_NS}}}{name}"


def _xpath(node: etree._Element, path: str) -> list[Any]:
    return node.xpath(path, namespaces=NSMAP)  # type: ignore[no-any-return]


def _blank_to_none(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    return value or None


def normalize_lane(name: str | None) -> str | None:
    """A lane's name as a group id: "Head of sales" -> "head_of_sales", "Отдел продаж" -> "отдел_продаж"."""
    if not name:
        return None
    group = re.sub(r"[\W_]+", "_", name.strip().lower()).strip("_")
    return group or None


def split_list(text: str | None) -> list[str]:
    """A comma-separated Camunda list ("sales, management") as a list; blank items dropped."""
    if not text:
        return []
    return [item.strip() for item in text.split(",") if item.strip()]


def _number(text: str | None) -> int | float | str | None:
    """Numbers stay numbers; anything else (an expression, a date) stays the text it was."""
    if text is None:
        return None
    text = text.strip()
    if _INTEGER.fullmatch(text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return text or None


def _default(field_type: str | None, text: str | None) -> Any:
    if text is None or text == "":
        return None
    if field_type == "long" and _INTEGER.fullmatch(text.strip()):
        return int(text.strip())
    if field_type == "boolean" and text.strip().lower() in ("true", "false"):
        return text.strip().lower() == "true"
    return text


def read_form_field(xml_field: etree._Element) -> dict[str, Any]:
    field_type = xml_field.get("type")
    constraints: dict[str, str | None] = {}
    for constraint in _xpath(xml_field, "./camunda:validation/camunda:constraint"):
        constraints[constraint.get("name", "")] = constraint.get("config")
    options = [
        {"id": value.get("id"), "name": value.get("name")} for value in _xpath(xml_field, "./camunda:value")
    ]
    return {
        "id": xml_field.get("id"),
        "label": xml_field.get("label"),
        "type": field_type,
        "default": _default(field_type, xml_field.get("defaultValue")),
        "required": "required" in constraints,
        "readonly": "readonly" in constraints,
        "min": _number(constraints.get("min")),
        "max": _number(constraints.get("max")),
        "minlength": _number(constraints.get("minlength")),
        "maxlength": _number(constraints.get("maxlength")),
        "options": options,
    }


def read_form_fields(node: etree._Element) -> list[dict[str, Any]]:
    """`camunda:formData/camunda:formField` of a user task or start event (formKey or not)."""
    fields = _xpath(node, "./bpmn:extensionElements/camunda:formData/camunda:formField")
    return [read_form_field(xml_field) for xml_field in fields]


def _properties(node: etree._Element) -> dict[str, str]:
    properties: dict[str, str] = {}
    for prop in _xpath(node, "./bpmn:extensionElements/camunda:properties/camunda:property"):
        if prop.get("name"):
            properties[prop.get("name")] = prop.get("value", "")
    for prop in _xpath(node, "./bpmn:extensionElements/zeebe:properties/zeebe:property"):
        if prop.get("name"):
            properties[prop.get("name")] = prop.get("value", "")
    return properties


def _zeebe_attr(node: etree._Element, child: str, attribute: str) -> str | None:
    found = _xpath(node, f"./bpmn:extensionElements/zeebe:{child}/@{attribute}")
    return _blank_to_none(str(found[0])) if found else None


def _external_topic(node: etree._Element) -> str | None:
    if node.get(camunda("type")) == "external":
        return _blank_to_none(node.get(camunda("topic")))
    return _zeebe_attr(node, "taskDefinition", "type")


def _documentation(node: etree._Element) -> str | None:
    docs = _xpath(node, "./bpmn:documentation")
    return docs[0].text if docs and docs[0].text else None


def read_extensions(node: etree._Element, *, lane: str | None) -> dict[str, Any]:
    """Everything Voronka reads from one element's Camunda/Zeebe attributes and extension elements."""
    camunda_form_key = node.get(camunda("formKey")) or node.get(camunda("formRef"))
    zeebe_form_key = (
        _zeebe_attr(node, "formDefinition", "formKey")
        or _zeebe_attr(node, "formDefinition", "formId")
        or _zeebe_attr(node, "formDefinition", "externalReference")
    )
    extensions: dict[str, Any] = {
        "properties": _properties(node),
        "candidate_groups": _blank_to_none(node.get(camunda("candidateGroups")))
        or _zeebe_attr(node, "assignmentDefinition", "candidateGroups"),
        "candidate_users": _blank_to_none(node.get(camunda("candidateUsers")))
        or _zeebe_attr(node, "assignmentDefinition", "candidateUsers"),
        "assignee": _blank_to_none(node.get(camunda("assignee")))
        or _zeebe_attr(node, "assignmentDefinition", "assignee"),
        "due_date": _blank_to_none(node.get(camunda("dueDate")))
        or _zeebe_attr(node, "taskSchedule", "dueDate"),
        "priority": _blank_to_none(node.get(camunda("priority")))
        or _zeebe_attr(node, "priorityDefinition", "priority"),
        "form_key": _blank_to_none(camunda_form_key) or zeebe_form_key,
        "form_fields": read_form_fields(node),
        "external_topic": _external_topic(node),
        "documentation": _documentation(node),
    }
    is_user_task = node.tag == f"{{{BPMN_MODEL_NS}}}userTask"
    if is_user_task and not (
        extensions["candidate_groups"] or extensions["candidate_users"] or extensions["assignee"]
    ):
        # Whoever stands in the task's lane may do it: the lane is the role in a sales diagram.
        extensions["candidate_groups"] = normalize_lane(lane)
    return extensions
