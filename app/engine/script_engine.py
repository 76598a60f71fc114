"""SpiffWorkflow glue for the safe evaluator: a script engine that never eval/execs, and a deploy-time walk
over parsed specs that checks every expression and script they hold.

SpiffWorkflow reaches text through two doors: `script_engine.evaluate/execute(task, ...)` (gateway conditions,
script tasks, timers, conditional events, multi-instance cardinality and completion conditions, Camunda
message payloads) and `script_engine.environment.evaluate(text, data)` without a task (message correlation,
ad-hoc completion conditions). Both doors lead to `app.engine.expressions`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from app.engine.expressions import (
    ExpressionSyntaxError,
    Limits,
    check_expression,
    check_script,
    evaluate,
    execute_script,
    is_expression_text,
)
from app.errors import ExpressionFailed, Problem

# task_spec.extensions keys (filled by our parser) whose values may be expressions.
ASSIGNMENT_KEYS = ("candidate_groups", "candidate_users", "assignee", "due_date", "priority")


class SafeEnvironment(BasePythonScriptEngineEnvironment):
    """The environment SpiffWorkflow calls directly for correlation and completion conditions."""

    def __init__(self, limits: Limits | None = None) -> None:
        super().__init__({})
        self.limits = limits or Limits()

    def evaluate(
        self, expression: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> Any:
        return evaluate(expression, context, limits=self.limits, outer=external_context)

    def execute(
        self, script: str, context: dict[str, Any], external_context: Mapping[str, Any] | None = None
    ) -> bool:
        execute_script(script, context, limits=self.limits, outer=external_context)
        return True

    def call_service(self, context: dict[str, Any], **kwargs: Any) -> Any:
        raise ExpressionFailed("service task calls are not supported by this server")


class SafeScriptEngine(PythonScriptEngine):
    """Drop-in replacement for SpiffWorkflow's PythonScriptEngine. Failures surface as WorkflowTaskException
    (carrying the task, so the element id is known) whose `__cause__` is our ExpressionFailed."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        # key, version -> a decision with `.version` and `.evaluate(variables, limits)`; set by the services
        # (business rule tasks look decisions up at run time, the engine itself knows no database).
        self.decisions: Any = None
        super().__init__(environment=SafeEnvironment(self.limits))

    def validate(self, expression: str) -> None:
        # The DMN engine probes texts with validate() and expects SyntaxError for text that does not parse.
        try:
            check_expression(expression)
        except ExpressionSyntaxError as e:
            raise SyntaxError(e.detail) from e

    def evaluate(self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None) -> Any:
        if expression is None:
            return None  # a Camunda message thrown without camunda:expression carries no payload
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except ExpressionFailed as e:
            raise _task_error(task, e, "evaluating expression") from e
        except SpiffWorkflowException as e:
            e.add_note(f"Error evaluating expression '{expression}'")
            raise

    def execute(self, task: Any, script: str, external_context: Mapping[str, Any] | None = None) -> bool:
        try:
            return self.environment.execute(script, task.data, external_context)
        except ExpressionFailed as e:
            raise _task_error(task, e, "running script") from e

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        e = ExpressionFailed("service task calls are not supported by this server")
        raise _task_error(task, e, "calling service") from e


def _task_error(task: Any, error: ExpressionFailed, doing: str) -> WorkflowTaskException:
    element_id = getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name
    if error.element_id is None:
        error.element_id = element_id
        for p in error.problems:
            p.element_id = p.element_id or element_id
    wte = WorkflowTaskException(
        f"{element_id}: error {doing} '{error.expression}': {error.detail}", task=task, exception=error
    )
    wte.expression_error = error  # type: ignore[attr-defined]
    return wte


# --- deploy-time checks ---------------------------------------------------------------------------------


def _texts(task_spec: Any) -> Iterator[tuple[str, str, bool]]:
    """(field, text, is_script) for every expression or script a task spec holds."""
    for cond, target in getattr(task_spec, "cond_task_specs", None) or []:
        if cond is not None and cond.args:
            yield f"conditionExpression (flow to {target})", cond.args[0], False
    script = getattr(task_spec, "script", None)
    if isinstance(script, str):
        yield "script", script, True
    for name, label in (("cardinality", "loopCardinality"), ("condition", "completionCondition")):
        value = getattr(task_spec, name, None)
        if isinstance(value, str):
            yield label, value, False
    event_definition = getattr(task_spec, "event_definition", None)
    if event_definition is not None:
        yield from _event_texts(event_definition)
    extensions = getattr(task_spec, "extensions", None)
    if isinstance(extensions, dict):
        for key in ASSIGNMENT_KEYS:
            value = extensions.get(key)
            for item in value if isinstance(value, list | tuple) else [value]:
                if isinstance(item, str) and is_expression_text(item):
                    yield key, item, False


def _event_texts(event_definition: Any) -> Iterator[tuple[str, str, bool]]:
    for child in getattr(event_definition, "event_definitions", None) or []:
        yield from _event_texts(child)
    expression = getattr(event_definition, "expression", None)
    if isinstance(expression, str):
        kind = type(event_definition).__name__.replace("EventDefinition", "")
        yield f"{kind} expression", expression, False
    for prop in getattr(event_definition, "correlation_properties", None) or []:
        text = getattr(prop, "retrieval_expression", None)
        if isinstance(text, str):
            yield f"correlation property {prop.name}", text, False


def check_spec_expressions(spec: Any, subprocess_specs: Mapping[str, Any] | None = None) -> list[Problem]:
    """Check every expression and script in a parsed process and its subprocesses; one Problem per bad text.
    An empty list means the model is fine."""
    specs: Iterable[Any] = [spec, *(subprocess_specs or {}).values()]
    problems: list[Problem] = []
    for process in specs:
        for task_spec in process.task_specs.values():
            element_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
            for field, text, is_script in _texts(task_spec):
                try:
                    (check_script if is_script else check_expression)(text)
                except ExpressionFailed as e:
                    problems.append(
                        Problem(f"{field}: {e.detail}", element_id=element_id, field=field, expression=text)
                    )
    return problems
