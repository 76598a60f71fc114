"""Business rule tasks that evaluate a DMN decision (`camunda:decisionRef`, `zeebe:calledDecision`).

The decision is looked up when the task runs, by key (latest version, or the version the model binds), through
`script_engine.decisions`, which the services provide: the head of sales deploys a new table and running
processes use it at their next decision, as in Camunda. What the table saw and which rules matched is kept on
the task for history.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.task import Task

from app.engine.data import json_safe
from app.engine.dmn_eval import DecisionFailed, map_result
from app.engine.expressions import is_expression_text
from app.errors import ExpressionFailed


class DecisionTask(ScriptEngineTask, BpmnSpecMixin):  # type: ignore[misc]
    """Runs the decision named in `extensions["decision"]` (see extensions.read_decision)."""

    def _execute(self, my_task: Task) -> bool:
        config: dict[str, Any] = self.extensions["decision"]
        engine = my_task.workflow.script_engine
        resolve = getattr(engine, "decisions", None)
        try:
            if resolve is None:
                raise DecisionFailed("decisions are not available in this engine")
            ref = config["ref"]
            if is_expression_text(ref):
                ref = str(engine.evaluate(my_task, ref))
            decision = resolve(ref, config.get("version"))
            evaluation = decision.evaluate(dict(my_task.data), getattr(engine, "limits", None))
            value = map_result(evaluation, config.get("mapping") or "resultList", self.bpmn_id)
        except ExpressionFailed as exc:
            raise WorkflowTaskException(f"{self.bpmn_id}: {exc.detail}", task=my_task) from None
        if config.get("result_variable"):
            my_task.data[config["result_variable"]] = value
        my_task.internal_data["decision"] = json_safe({**evaluation.summary(), "version": decision.version,
                                                       "result": value})
        return True
