"""How the regulation pages name element kinds, changed fields and version states for people."""

from __future__ import annotations

from app.ui.i18n import N_

VERSION_STATES: dict[str, str] = {
    "approved": N_("approved"),
    "draft": N_("awaits approval"),
    "rejected": N_("rejected"),
}

ELEMENT_TYPES: dict[str, str] = {
    "UserTask": N_("User task"), "ServiceTask": N_("Service task"), "ScriptTask": N_("Script task"),
    "ManualTask": N_("Manual task"), "NoneTask": N_("Task"), "SendTask": N_("Send task"),
    "ReceiveTask": N_("Receive task"), "BusinessRuleTask": N_("Business rule task"),
    "CallActivity": N_("Call activity"), "SubWorkflowTask": N_("Sub-process"),
    "TransactionSubprocess": N_("Transaction"), "ExclusiveGateway": N_("Exclusive gateway"),
    "ParallelGateway": N_("Parallel gateway"), "InclusiveGateway": N_("Inclusive gateway"),
    "EventBasedGateway": N_("Event-based gateway"), "StartEvent": N_("Start event"), "EndEvent": N_("End event"),
    "IntermediateCatchEvent": N_("Intermediate event"), "IntermediateThrowEvent": N_("Intermediate event"),
    "BoundaryEvent": N_("Boundary event"), "SendTaskEvent": N_("Send task"),
}

FIELDS: dict[str, str] = {
    "name": N_("name"), "lane": N_("lane"), "documentation": N_("instructions"), "script": N_("script"),
    "called_process": N_("called process"), "interrupting": N_("interrupting"),
    "multi_instance": N_("multi-instance settings"), "candidate_groups": N_("candidate groups"),
    "candidate_users": N_("candidate users"), "assignee": N_("assignee"), "due_date": N_("due date"),
    "priority": N_("priority"), "form": N_("form"), "topic": N_("external task topic"),
    "stage": N_("funnel stage"), "work_kind": N_("kind of work"), "outcome": N_("outcome"),
    "properties": N_("properties"), "conditions": N_("conditions"), "timer": N_("timer"), "event": N_("event"),
    "type": N_("element kind"),
}


def shown(value: object) -> str:
    """A changed value in a few words: timers by their expression, conditions by their text."""
    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if isinstance(value, dict):
        if "expression" in value:
            return str(value["expression"])
        if "name" in value and value.get("name"):
            return str(value["name"])
        return ", ".join(f"{k}: {shown(v)}" for k, v in value.items() if v not in (None, "", [], {})) or "—"
    if isinstance(value, list):
        if value and all(isinstance(v, list | tuple) and len(v) == 2 for v in value):
            return "; ".join(str(v[0]) for v in value)  # conditions: (text, count)
        if value and all(isinstance(v, dict) and "id" in v for v in value):
            return ", ".join(str(v.get("label") or v["id"]) for v in value)  # form fields
        return ", ".join(shown(v) for v in value)
    return str(value)
