"""Advance one instance and report what changed, so the service can record it in one transaction.

The runner knows SpiffWorkflow and nothing of HTTP or the database: it turns a stored state plus a command
(start, complete a task, fire timers, deliver a message, cancel) into a new state plus facts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import NoneEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimerEventDefinition,
)
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.exclusive_gateway import ExclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask
from SpiffWorkflow.bpmn.specs.mixins.none_task import NoneTask
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import Task as SpiffTask
from SpiffWorkflow.util.task import TaskState

from app.engine.compaction import compact
from app.engine.data import json_safe
from app.engine.message_senders import declared_senders
from app.engine.serializer import dump_state, load_state, new_workflow
from app.engine.workflow import run_engine
from app.errors import Conflict, EngineLimitExceeded, ExpressionFailed, NotFound, UncaughtBpmnError

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

    @cached_property
    def message_senders(self) -> dict[str, frozenset[str]]:
        """Message name -> the groups its catch events allow to send it (message_senders.py)."""
        return declared_senders([self.spec, *self.subprocess_specs.values()])


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
    # What this wait expects, keyed by correlation property id (from the instance's correlations, else its
    # retrieval expression evaluated on the waiting task's data).
    correlation: dict[str, Any] = field(default_factory=dict)


@dataclass
class StartTrigger:
    """A start event of a definition, as the deployment needs to know it (jobs and subscriptions)."""

    element_id: str
    kind: str  # "none" | "timer" | "message" | "other"
    message_name: str | None = None
    due_at: datetime | None = None  # timers: the first firing
    schedule: dict[str, Any] | None = None  # cycle timers: {"cycles": left after the first, "seconds": n}


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
    timer: bool = False  # a timer catch event (intermediate or boundary) that fired


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


def start(runtime: ProcessRuntime, variables: Mapping[str, Any], *, max_steps: int,
          start_event: str | None = None, correlations: Mapping[str, Any] | None = None) -> Step:
    """A new instance. With `start_event`, that start event fires (a timer or message start, or a process
    without a none start event started by hand) and the process's other start events are cancelled;
    `correlations` (by property id) become the instance's correlation keys."""
    workflow = new_workflow(runtime.spec, runtime.subprocess_specs, runtime.script_engine)
    workflow.task_tree.data.update(variables)
    command: Command = (lambda wf: None) if start_event is None else _fire_start_event(start_event, correlations)
    return _advance(workflow, command, max_steps=max_steps, before=set())


def start_triggers(runtime: ProcessRuntime, *, now: datetime) -> list[StartTrigger]:
    """The top-level start events of a definition; timer expressions are evaluated (no instance data)."""
    triggers: list[StartTrigger] = []
    for spec in runtime.spec.task_specs.values():
        if not isinstance(spec, StartEvent) or not getattr(spec, "bpmn_id", None):
            continue
        definition = spec.event_definition
        if isinstance(definition, NoneEventDefinition):
            triggers.append(StartTrigger(spec.bpmn_id, "none"))
        elif isinstance(definition, MessageEventDefinition):
            triggers.append(StartTrigger(spec.bpmn_id, "message", message_name=definition.name))
        elif isinstance(definition, TimerEventDefinition):
            triggers.append(_start_timer(runtime, spec.bpmn_id, definition, now))
        else:
            triggers.append(StartTrigger(spec.bpmn_id, "other"))
    return triggers


def manual_start_event(runtime: ProcessRuntime) -> str | None:
    """Which start event a start by hand fires: None when the process has a none start event (the engine
    takes it), else its only start event (a message or timer start started by hand, as Camunda does)."""
    starts = [spec for spec in runtime.spec.task_specs.values()
              if isinstance(spec, StartEvent) and getattr(spec, "bpmn_id", None)]
    if not starts or any(not isinstance(s.event_definition, MessageEventDefinition | TimerEventDefinition)
                         for s in starts):
        return None
    if len(starts) == 1:
        return str(starts[0].bpmn_id)
    raise Conflict("this process has no none start event; it starts by "
                   + ", ".join(sorted(f"{type(s.event_definition).__name__} at {s.bpmn_id}" for s in starts))
                   + " (send the message, or wait for the timer)")


def _start_timer(runtime: ProcessRuntime, element_id: str, definition: TimerEventDefinition,
                 now: datetime) -> StartTrigger:
    try:
        value = runtime.script_engine.environment.evaluate(definition.expression, {})
        if isinstance(definition, CycleTimerEventDefinition):
            cycles, first, interval = TimerEventDefinition.parse_iso_recurring_interval(value)
            if cycles == 0:
                return StartTrigger(element_id, "timer")
            schedule = {"cycles": cycles - 1 if cycles > 0 else -1, "seconds": interval.total_seconds()}
            return StartTrigger(element_id, "timer", due_at=_aware(first), schedule=schedule)
        if isinstance(definition, DurationTimerEventDefinition):
            parsed = TimerEventDefinition.parse_iso_duration(value)
            return StartTrigger(element_id, "timer",
                                due_at=now + TimerEventDefinition.get_timedelta_from_start(parsed, now))
        return StartTrigger(element_id, "timer", due_at=_aware(TimerEventDefinition.get_datetime(value)))
    except ExpressionFailed:
        raise
    except Exception as exc:  # the library raises bare Exception for malformed ISO 8601 text
        raise ExpressionFailed(f"timer start event {element_id}: {definition.expression!r} is not an ISO 8601 "
                               f"date, duration or cycle ({exc})", expression=definition.expression,
                               element_id=element_id) from exc


def apply(runtime: ProcessRuntime, state: dict[str, Any], command: Command, *, max_steps: int) -> Step:
    """Load a stored state, run `command` on it, then run the engine until the instance waits."""
    workflow = load_state(state, runtime.spec, runtime.subprocess_specs, runtime.script_engine)
    before = {str(t.id) for t in _all_tasks(workflow) if t.has_state(TaskState.FINISHED_MASK)}
    return _advance(workflow, command, max_steps=max_steps, before=before)


# Commands ---------------------------------------------------------------------------------------------------


def complete_task(task_id: str, variables: Mapping[str, Any]) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        task = find_task(workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            raise Conflict(f"task {task_id} is not waiting for completion")
        task.data.update(variables)
        task.run()

    return command


def complete_external_task(task_id: str, variables: Mapping[str, Any]) -> Command:
    """A worker outside the server did the service task's work: its variables go in and the task completes
    (the library leaves a service task it ran itself STARTED, waiting for a result that comes from us)."""

    def command(workflow: BpmnWorkflow) -> None:
        task = find_task(workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            raise Conflict(f"task {task_id} is not waiting for a worker")
        task.data.update(variables)
        task.run()
        if task.has_state(TaskState.STARTED):
            task.complete()

    return command


def fire_due_timers() -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        workflow.refresh_timers()

    return command


def deliver_message(name: str, payload: Mapping[str, Any], correlations: Mapping[str, Any]) -> Command:
    """Catch message `name` in the tasks that wait for it. `correlations` are by correlation property id;
    properties not given are taken from the payload (retrieval expression), then from the instance."""

    def command(workflow: BpmnWorkflow) -> None:
        waiting = [t for t in workflow.event_manager.tasks.values()
                   if _message_definition(t.task_spec.event_definition, name) is not None]
        if not waiting:
            raise Conflict(f"the instance is not waiting for message {name!r}")
        definition = _message_definition(waiting[0].task_spec.event_definition, name)
        assert definition is not None
        wanted = _event_correlations(workflow, definition, payload, correlations)
        event = BpmnEvent(definition, payload=dict(payload), correlations=wanted)
        engine = workflow.script_engine
        # The library re-reads correlation values from the payload when it catches and fails on a property
        # the payload lacks; the values were matched already, so a missing one is simply not there.
        workflow.script_engine = _TolerantRetrieval(engine)
        try:
            workflow.send_event(event)
        except WorkflowException as exc:
            raise Conflict(f"the instance waits for message {name!r} with other correlation values") from exc
        finally:
            workflow.script_engine = engine
        _keep_correlations(workflow, wanted)

    return command


def throw_bpmn_error(task_id: str, code: str | None, message: str | None,
                     variables: Mapping[str, Any]) -> Command:
    """An external task reports a business error: a boundary error event (on the task or an enclosing
    sub-process) catches it by code; nothing catching it raises UncaughtBpmnError (nothing is changed)."""

    def command(workflow: BpmnWorkflow) -> None:
        task = find_task(workflow, task_id)
        if task is None or not task.has_state(TaskState.READY):
            raise Conflict(f"task {task_id} is not waiting for a worker")
        payload = {**task.data, **variables}
        event = BpmnEvent(ErrorEventDefinition(code or message or "error", code), payload=payload,
                          target=task.workflow)
        workflow.catch(event)
        if event in workflow.bpmn_events:  # nothing caught it: the library queued it as an outside event
            workflow.bpmn_events.remove(event)
            raise UncaughtBpmnError(code, task.task_spec.bpmn_id, message)

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


def _fire_start_event(element_id: str, correlations: Mapping[str, Any] | None) -> Command:
    def command(workflow: BpmnWorkflow) -> None:
        _open_start_events(workflow)
        starts = [t for t in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING)
                  if t.workflow is workflow and isinstance(t.task_spec, StartEvent)]
        chosen = next((t for t in starts if t.task_spec.bpmn_id == element_id), None)
        if chosen is None:
            raise NotFound(f"start event {element_id!r} is not a start event of this process")
        for other in starts:
            if other is not chosen:
                other.cancel()
        if correlations:
            definition = chosen.task_spec.event_definition
            if isinstance(definition, MessageEventDefinition):
                workflow.correlations.update(_event_correlations(workflow, definition, {}, correlations))
        chosen._set_internal_data(event_fired=True)
        if isinstance(chosen.task_spec.event_definition, CycleTimerEventDefinition):
            # The library grows a cycle's branches inside one instance; here each firing is its own instance
            # (the start timer job keeps the cycle), so give this one its branch and let the event complete.
            chosen._sync_children(chosen.task_spec.outputs, TaskState.FUTURE)
        chosen.task_spec._update(chosen)

    return command


def _open_start_events(workflow: BpmnWorkflow) -> None:
    """Run the plumbing before the start events (start task, start event split) and nothing else."""
    for _ in range(10):
        ready = [t for t in workflow.get_tasks(state=TaskState.READY)
                 if t.workflow is workflow and not isinstance(t.task_spec, StartEvent)]
        if not ready:
            return
        for task in ready:
            task.run()


def _message_definition(definition: Any, name: str) -> MessageEventDefinition | None:
    if isinstance(definition, MessageEventDefinition):
        return definition if definition.name == name else None
    if isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            found = _message_definition(inner, name)
            if found is not None:
                return found
    return None


def _known_correlation(workflow: Any, prop_id: str) -> tuple[bool, Any]:
    for values in (getattr(workflow, "correlations", None) or {}).values():
        if isinstance(values, dict) and prop_id in values:
            return True, values[prop_id]
    return False, None


def _retrieve(workflow: Any, expression: str, data: Mapping[str, Any]) -> tuple[bool, Any]:
    try:
        return True, workflow.script_engine.environment.evaluate(expression, dict(data))
    except Exception:  # a missing variable means "no value", not a failure of the instance
        return False, None


def _event_correlations(workflow: Any, definition: MessageEventDefinition, payload: Mapping[str, Any],
                        given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """SpiffWorkflow's shape {correlation key name: {property id: value}} for an incoming message."""
    result: dict[str, dict[str, Any]] = {}
    for prop in definition.correlation_properties:
        if prop.name in given:
            found, value = True, given[prop.name]
        else:
            found, value = _retrieve(workflow, prop.retrieval_expression, payload)
            if not found:
                found, value = _known_correlation(workflow, prop.name)
        if found:
            for key in prop.correlation_keys:
                result.setdefault(key, {})[prop.name] = value
    return result


class _MissingValue:
    """Marks a correlation value the payload did not have (never stored)."""


class _TolerantRetrieval:
    """The script engine, except that a correlation retrieval that fails yields a marker, not an error."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self.environment = _TolerantEnvironment(engine.environment)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


class _TolerantEnvironment:
    def __init__(self, environment: Any) -> None:
        self._environment = environment

    def evaluate(self, expression: str, context: Any, external_context: Any = None) -> Any:
        try:
            return self._environment.evaluate(expression, context, external_context)
        except Exception:
            return _MissingValue

    def __getattr__(self, name: str) -> Any:
        return getattr(self._environment, name)


def _keep_correlations(workflow: Any, wanted: dict[str, dict[str, Any]]) -> None:
    """After a catch: the instance's correlations hold the values we matched on, and no missing markers."""
    workflows = [workflow, *getattr(workflow, "subprocesses", {}).values()]
    for wf in workflows:
        correlations = getattr(wf, "correlations", None)
        if not correlations:
            continue
        for key in list(correlations):
            values = correlations[key]
            if isinstance(values, dict):
                for prop in [p for p, v in values.items() if v is _MissingValue]:
                    if key in wanted and prop in wanted[key]:
                        values[prop] = wanted[key][prop]
                    else:
                        del values[prop]
                if not values:
                    del correlations[key]


def _wait_correlation(task: SpiffTask, definition: MessageEventDefinition) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for prop in definition.correlation_properties:
        found, value = _known_correlation(task.workflow, prop.name)
        if not found:
            found, value = _retrieve(task.workflow, prop.retrieval_expression, task.data)
        if found and value is not None:
            values[prop.name] = value
    return json_safe(values)


def _advance(workflow: BpmnWorkflow, command: Command, *, max_steps: int, before: set[str]) -> Step:
    failure: Failure | None = None
    try:
        command(workflow)
        _run_until_waiting(workflow, max_steps=max_steps)
    except (Conflict, NotFound):
        raise
    except EngineLimitExceeded as exc:
        failure = Failure(exc.element_ids[0] if exc.element_ids else None, str(exc))
    except ExpressionFailed as exc:  # evaluated outside a task, e.g. a thrown message's correlation values
        failure = Failure(exc.element_id, exc.detail)
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


def _is_merge_gateway(spec: Any) -> bool:
    return "Gateway" in type(spec).__name__ and len(spec.outputs) <= 1


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
            inner = definition.event_definitions if isinstance(definition, MultipleEventDefinition) else []
            if isinstance(definition, TimerEventDefinition) or any(
                    isinstance(d, TimerEventDefinition) for d in inner):
                due = _timer_due(task)
                if due is not None:
                    timers.append(TimerWait(str(task.id), spec.bpmn_id, due))
            for message in [d for d in [definition, *inner] if isinstance(d, MessageEventDefinition)]:
                waits.append(MessageWait(str(task.id), spec.bpmn_id, message.name,
                                         _wait_correlation(task, message)))
        elif task.has_state(TaskState.COMPLETED) and str(task.id) not in before:
            if type(spec).__name__ in _SKIPPED_SPEC_CLASSES or not getattr(spec, "bpmn_id", None):
                continue
            if _is_merge_gateway(spec):
                continue  # a converging gateway decides nothing; its audit line would only be noise
            event = ElementEvent(str(task.id), spec.bpmn_id, spec.bpmn_name, type(spec).__name__,
                                 dict(extensions.get("properties") or {}))
            event.timer = _caught_a_timer(task)
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


def _caught_a_timer(task: SpiffTask) -> bool:
    """A catch event that fired on its timer. An event-based gateway holds its events' definitions itself (the
    library moves them there) and remembers which one it caught: its timer job is the gateway's."""
    spec = task.task_spec
    if not isinstance(spec, CatchingEvent) or isinstance(spec, StartEvent):
        return False
    if isinstance(spec, EventBasedGateway):
        return any(isinstance(getattr(seen, "event_definition", None), TimerEventDefinition)
                   for seen in task.internal_data.get("seen_events", []))
    return isinstance(spec.event_definition, TimerEventDefinition)


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
    definition = task.task_spec.event_definition
    if isinstance(definition, MultipleEventDefinition):  # event-based gateway: the timer's value is on the task
        value = task.internal_data.get("event_value")
    else:
        value = definition.details(task).value
    if value is None:
        return None
    if isinstance(value, dict):  # a cycle timer before its first evaluation
        value = value.get("next")
    try:
        due = TimerEventDefinition.parse_time_or_duration(value) if isinstance(value, str) else None
    except Exception:  # the library raises bare Exception for malformed text
        return None
    return _aware(due) if isinstance(due, datetime) else None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


def report(workflow: BpmnWorkflow) -> Step:
    """The facts of a workflow as it stands, without running anything (a migrated instance)."""
    before = {str(t.id) for t in _all_tasks(workflow) if t.has_state(TaskState.FINISHED_MASK)}
    return _report(workflow, before=before, failure=None)
