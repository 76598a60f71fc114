"""Multi-instance tasks that refuse a collection which is not a list, naming the element.

The library iterates whatever it finds (`None` or a number raised a bare TypeError: a 500 and no incident; a
string became one instance per character). Camunda requires a collection: anything else is an incident here.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.bpmn.specs.defaults import ParallelMultiInstanceTask as BpmnParallelMI
from SpiffWorkflow.bpmn.specs.defaults import SequentialMultiInstanceTask as BpmnSequentialMI
from SpiffWorkflow.camunda.specs.multiinstance_task import ParallelMultiInstanceTask as CamundaParallelMI
from SpiffWorkflow.camunda.specs.multiinstance_task import SequentialMultiInstanceTask as CamundaSequentialMI
from SpiffWorkflow.task import Task


def _describe(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {value}"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {value[:40]!r}"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


class _ListInput:
    data_input: Any
    bpmn_id: str

    def _check_input(self, my_task: Task) -> None:
        reference = self.data_input
        if reference is None:
            return
        name = getattr(reference, "bpmn_id", "?")
        if not reference.exists(my_task):
            problem = f"the variable {name!r} is missing"
        else:
            value = reference.get(my_task)
            if isinstance(value, list):
                return
            problem = f"{name!r} is {_describe(value)}"
        raise WorkflowDataException(f"multi-instance {self.bpmn_id}: {problem}; its collection must be a list",
                                    my_task, data_input=reference)

    def create_children(self, my_task: Task) -> None:  # parallel
        self._check_input(my_task)
        super().create_children(my_task)  # type: ignore[misc]

    def init_remaining_items(self, my_task: Task) -> Any:  # sequential
        self._check_input(my_task)
        return super().init_remaining_items(my_task)  # type: ignore[misc]


class CheckedParallelMI(_ListInput, BpmnParallelMI):  # type: ignore[misc]
    pass


class CheckedSequentialMI(_ListInput, BpmnSequentialMI):  # type: ignore[misc]
    pass


class CheckedCamundaParallelMI(_ListInput, CamundaParallelMI):  # type: ignore[misc]
    pass


class CheckedCamundaSequentialMI(_ListInput, CamundaSequentialMI):  # type: ignore[misc]
    pass


# camunda:collection on Camunda-parsed tasks (user tasks...), standard loopDataInputRef on the others (script
# tasks...). The library's Camunda serializer knows only the first pair: the serializer registers the BPMN pair
# under its own type names (BPMN_TYPENAMES), else a stored spec could not be read back.
BPMN_TYPENAMES = {CheckedParallelMI: "BpmnParallelMultiInstanceTask",
                  CheckedSequentialMI: "BpmnSequentialMultiInstanceTask"}
CHECKED_MULTI_INSTANCE: dict[type, type] = {
    BpmnParallelMI: CheckedParallelMI,
    BpmnSequentialMI: CheckedSequentialMI,
    CamundaParallelMI: CheckedCamundaParallelMI,
    CamundaSequentialMI: CheckedCamundaSequentialMI,
}
