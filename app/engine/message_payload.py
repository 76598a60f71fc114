"""A thrown message that carries chosen variables instead of all of the sender's data.

`camunda:expression` on a message throw or end event (SpiffWorkflow's Camunda convention, which Camunda Modeler
offers on message events) is evaluated as the payload: a dict of variables, for example
`{'company': company, 'source': 'repeat'}`. Without it a thrown message carries the sender's data, as before.
The receiver merges the payload into its data either way (plain message semantics, see parser.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.event import BpmnEvent


class PayloadMessageEventDefinition(MessageEventDefinition):
    def __init__(self, name: str, correlation_properties: Any = None, expression: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(name, correlation_properties, **kwargs)
        self.expression = expression

    def throw(self, my_task: Any) -> None:
        payload = my_task.workflow.script_engine.evaluate(my_task, self.expression)
        if not isinstance(payload, Mapping):
            raise WorkflowTaskException(
                f"the payload of message {self.name!r} must be a dict of variables, not {type(payload).__name__}",
                task=my_task)
        payload = dict(payload)
        correlations = self.get_correlations(my_task, payload)
        my_task.workflow.correlations.update(correlations)
        # Sent as the plain definition, so catch events in the same workflow (plain ones) recognise it.
        plain = MessageEventDefinition(self.name, self.correlation_properties)
        my_task.workflow.top_workflow.catch(BpmnEvent(plain, payload=payload, correlations=correlations))


class PayloadMessageEventDefinitionConverter(MessageEventDefinitionConverter):
    def to_dict(self, event_definition: Any) -> dict[str, Any]:
        dct: dict[str, Any] = super().to_dict(event_definition)
        dct["expression"] = event_definition.expression
        return dct
