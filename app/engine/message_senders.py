"""Who may send a message to a model: the roles its catch events declare for the message name.

A catch event (start, intermediate, boundary, receive task) names them in a Camunda property,
`<camunda:property name="senderGroups" value="accounting,external_worker"/>`. Several catch events of one
model that wait for the same message add up.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent

SENDER_GROUPS_PROPERTY = "senderGroups"


def declared_senders(specs: list[Any]) -> dict[str, frozenset[str]]:
    """Message name -> the groups the model allows to send it (names absent from the map declare none)."""
    senders: dict[str, set[str]] = {}
    for spec in specs:
        for task_spec in spec.task_specs.values():
            definition = getattr(task_spec, "event_definition", None)
            if not isinstance(task_spec, CatchingEvent) or not isinstance(definition, MessageEventDefinition):
                continue
            value = (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get(SENDER_GROUPS_PROPERTY)
            groups = {g.strip() for g in (value or "").split(",") if g.strip()}
            if groups:
                senders.setdefault(definition.name, set()).update(groups)
    return {name: frozenset(groups) for name, groups in senders.items()}
