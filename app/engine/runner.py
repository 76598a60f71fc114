"""Advance one instance and report what changed, so the service can record it in one transaction.

The runner knows SpiffWorkflow and nothing of HTTP or the database: it turns a stored state plus a command
(start, complete a task, fire timers, deliver a message, cancel) into a new state plus facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from app.engine.compaction import compact
from app.engine.data import json_safe
from app.engine.serializer import dump_state, load_state, new_workflow
from app.engine.workflow import run_engine
from app.errors import Conflict, EngineLimitExceeded, NotFound

# Element types worth an audit line; plain flow plumbing (joins, splits, start markers) is left out.
_SKIPPED_SPEC_CLASSES = {"StartTask", "Simple", "_EndJoin", "BoundaryEventSplit", "BoundaryEventJoin",
                         "SubWorkflowTask"}


@dataclass(frozen=True)
class ProcessRuntime:
    """A parsed definition ready to run: the spec is deserialized once per process and reused."""

    definition_id: str
    spec: Any
    subprocess_specs: dict[str, Any]
    script_engine: Any


@dataclass
class OpenTask:
    id: str
    element_id: str
    name: str
    lane: str | None
    documentation: str | None
    extensions: dict[str, Any]
    data: dict[str, Any]


@dataclass
class TimerWait:
    task_id: str
    element_id: str
    due_at: datetime


@dataclass
class ExternalWait:
    task_id: str
    element_id: str
    topic: str
    data: dict[str, Any]


@dataclass
class MessageWait:
    task_id: str
    element_id: str
    message_name: str


@dataclass
class ThrownMessage:
    name: str
    payload: Any
    correlations: dict[str, Any]


@dataclass
class ElementEvent:
    """An element that finished during this step (for history)."""

    task_id: str
    element_id: str
    element_name: str | None
    element_type: str
    properties: dict[str, Any]
    taken: list[str] = field(default_factory=list)  # gateways: the element ids chosen next


@dataclass
class Failure:
    element_id: str | None
    message: str


@dataclass
class Step:
    """The outcome of one command: the new state and the facts to record."""

    state: dict[str, Any]
    data: dict[str, Any]
    completed: bool
    user_tasks: list[OpenTask]
    timers: list[TimerWait]
    external_tasks: list[ExternalWait]
    message_waits: list[MessageWait]
    thrown: list[ThrownMessage]
    finished_elements: list[ElementEvent]
    failure: Failure | None = None
    end_properties: dict[str, Any] = field(default_factory=dict)


Command = Callable[[BpmnWorkflow], None]


def start(runtime: ProcessRuntime, variables: Mapping[str, Any], *, max_steps: int) -> Step:
    workflow = new_workflow(runtime.spec, runtime.subprocess_specs, runtime.script_engine)
    workflow.task_tree.data.update(variables)
    return _advance(workflow, lambda wf: None, max_steps=max_steps, before=set())


def apply(runtime: ProcessRuntime, state: dict[str, Any], command: Command, *, max_steps: int) -> Step:
    """Load a stored state, run `command` on it, then run the engine until the instance waits."""
    workflow = load_state(state, runtime.spec, runtime.subprocess_specs, runtime.script_engine)
    before = {str(t.id) for t in _all_tasks(workflow) if t.has_state(TaskState.FINISHED_MASK)}
    return _advance(workflow, command, max_steps=max_steps, before=before)


def read_data(runtime: ProcessRuntime, state: dict[str, Any]) -> dict[str, Any]:
    workflow = load_state(state, runtime.spec, runtime.subprocess_specs, runtime.script_engine)
    return current_data(workflow)


# Commands ---------------------------------------------------------------------------------------------------


def complete_task(task_id: str, variables: Mapping[str, Any]) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        task = find_task(workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            raise Conflict(f"task {task_id} is not waiting for completion")
        task.data.update(variables)
        task.run()

    return command


def fire_due_timers() -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        workflow.refresh_timers()

    return command


def retry_failed() -> Command:
    """Put tasks that failed (an incident) back to READY so the engine runs them again."""

    def command(workflow: BpmnWorkflow) -> None:
        failed = [t for t in _all_tasks(workflow) if t.has_state(TaskState.ERROR)]
        if not failed:
            raise Conflict("the instance has no failed step to retry")
        for task in failed:
            task._set_state(TaskState.READY)

    return command


def cancel() -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        workflow.cancel()

    return command


# Internals --------------------------------------------------------------------------------------------------


def _advance(workflow: BpmnWorkflow, command: Command, *, max_steps: int, before: set[str]) -> Step:
    failure: Failure | None = None
    try:
        command(workflow)
        _run_until_waiting(workflow, max_steps=max_steps)
    except (Conflict, NotFound):
        raise
    except EngineLimitExceeded as exc:
        failure = Failure(exc.element_ids[0] if exc.element_ids else None, str(exc))
    except SpiffWorkflowException as exc:
        failure = Failure(_element_of(exc), _message_of(exc))
    return _report(workflow, before=before, failure=failure)


def _run_until_waiting(workflow: BpmnWorkflow, *, max_steps: int) -> None:
    """Engine steps, then the pass-through tasks SpiffWorkflow treats as manual (plain and manual tasks are
    pass-through in Camunda), until only user tasks, external tasks and waits remain."""
    steps = 0
    while True:
        steps += run_engine(workflow, max_steps=max_steps - steps)
        passthrough = [t for t in workflow.get_tasks(state=TaskState.READY) if _is_passthrough(t)]
        if not passthrough:
            return
        for task in passthrough:
            task.run()
            steps += 1
        if steps > max_steps:
            raise EngineLimitExceeded(steps, [t.task_spec.bpmn_id for t in passthrough])


def _is_passthrough(task: SpiffTask) -> bool:
    spec = task.task_spec
    return isinstance(spec, NoneTask | ManualTask) and not isinstance(spec, UserTask)


def _report(workflow: BpmnWorkflow, *, before: set[str], failure: Failure | None) -> Step:
    tasks = list(_all_tasks(workflow))
    user_tasks: list[OpenTask] = []
    external: list[ExternalWait] = []
    timers: list[TimerWait] = []
    waits: list[MessageWait] = []
    finished: list[ElementEvent] = []
    for task in tasks:
        spec = task.task_spec
        extensions = getattr(spec, "extensions", None) or {}
        if task.has_state(TaskState.READY):
            if isinstance(spec, UserTask):
                user_tasks.append(OpenTask(str(task.id), spec.bpmn_id, spec.bpmn_name or spec.bpmn_id, spec.lane,
                                           spec.documentation, extensions, json_safe(task.data)))
            elif extensions.get("external_topic"):
                external.append(ExternalWait(str(task.id), spec.bpmn_id, extensions["external_topic"],
                                             json_safe(task.data)))
        elif task.has_state(TaskState.WAITING) and isinstance(spec, CatchingEvent):
            definition = spec.event_definition
            if isinstance(definition, TimerEventDefinition):
                due = _timer_due(task)
                if due is not None:
                    timers.append(TimerWait(str(task.id), spec.bpmn_id, due))
            elif isinstance(definition, MessageEventDefinition):
                waits.append(MessageWait(str(task.id), spec.bpmn_id, definition.name))
        elif task.has_state(TaskState.COMPLETED) and str(task.id) not in before:
            if type(spec).__name__ in _SKIPPED_SPEC_CLASSES or not getattr(spec, "bpmn_id", None):
                continue
            event = ElementEvent(str(task.id), spec.bpmn_id, spec.bpmn_name, type(spec).__name__,
                                 dict(extensions.get("properties") or {}))
            if isinstance(spec, ExclusiveGateway | InclusiveGateway):
                event.taken = [c.task_spec.bpmn_id for c in task.children
                               if c.has_state(TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK)
                               and not c.has_state(TaskState.CANCELLED)]
            finished.append(event)
    thrown = [ThrownMessage(e.event_definition.name, json_safe(e.payload), json_safe(e.correlations))
              for e in workflow.get_events() if isinstance(e.event_definition, MessageEventDefinition)]
    completed = failure is None and workflow.is_completed()
    end_properties: dict[str, Any] = {}
    if completed:
        for event in finished:
            if event.element_type == "EndEvent":
                end_properties.update(event.properties)
    data = current_data(workflow)
    compact(workflow)
    return Step(
        state=dump_state(workflow), data=data, completed=completed, user_tasks=user_tasks,
        timers=timers, external_tasks=external, message_waits=waits, thrown=thrown, finished_elements=finished,
        failure=failure, end_properties=end_properties,
    )


def current_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The instance's variables: the data of its live tasks merged in order (or the last task's at the end)."""
    live = [t for t in _all_tasks(workflow) if t.workflow is workflow
            and t.has_state(TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR)]
    if not live:
        last = workflow.last_task
        return json_safe(last.data) if last is not None else {}
    merged: dict[str, Any] = {}
    for task in sorted(live, key=lambda t: t.last_state_change):
        merged.update(task.data)
    return json_safe(merged)


def find_task(workflow: BpmnWorkflow, task_id: str) -> SpiffTask | None:
    try:
        return workflow.get_task_from_id(UUID(task_id))
    except (ValueError, KeyError, SpiffWorkflowException):
        return None


def _all_tasks(workflow: BpmnWorkflow) -> Iterable[SpiffTask]:
    yield from workflow.tasks.values()
    for sub in workflow.subprocesses.values():
        yield from sub.tasks.values()


def _timer_due(task: SpiffTask) -> datetime | None:
    value = task.task_spec.event_definition.details(task).value
    if value is None:
        return None
    if isinstance(value, dict):  # a cycle timer before its first evaluation
        value = value.get("next")
    try:
        due = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else None
    except (ValueError, TypeError):
        return None
    if due is None:
        return None
    return due if due.tzinfo else due.replace(tzinfo=UTC)


def _element_of(exc: SpiffWorkflowException) -> str | None:
    task = getattr(exc, "task", None)
    if task is not None:
        return task.task_spec.bpmn_id
    spec = getattr(exc, "task_spec", None)
    return getattr(spec, "bpmn_id", None)


def _message_of(exc: SpiffWorkflowException) -> str:
    inner = getattr(exc, "error", None) or getattr(exc, "exception", None)
    text = str(exc)
    if inner is not None and str(inner) not in text:
        text = f"{text}: {inner}"
    return text
