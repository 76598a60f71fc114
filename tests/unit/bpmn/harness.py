"""Drive the shipped sales models directly on SpiffWorkflow, the way the server will.

Test-only stand-ins, each documented where it is used:
- ``IsoTimerScriptEngine`` returns a bare ISO 8601 duration (``PT24H``, exactly as Camunda Modeler writes it)
  as a string instead of evaluating it as Python; the server's safe evaluator does the same. Conditions are
  the models' own trusted text, so the stock evaluator is fine for them here.
- External service tasks: SpiffWorkflow's plain ``ServiceTask`` (what ``CamundaParser`` builds for
  ``camunda:type="external"``) does nothing when run and is left STARTED; the server turns it into an external
  job and completes it with the worker's variables. ``complete_external`` does exactly that.
- Message starts: a process with a none start and message starts fires the none start on its own, so an
  instance started by a message runs the start split by hand, cancels the other start events and lets the
  message start fire with the message's variables (``start_by_message``).
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.specs.mixins.events.start_event import StartEvent
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

BPMN_DIR = Path(__file__).resolve().parents[3] / "bpmn"
_ISO = re.compile(r"R\d*/.+|P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+(\.\d+)?S)?)?")


class IsoTimerScriptEngine(PythonScriptEngine):
    """Stock engine, except that bare ISO 8601 durations and cycles evaluate to themselves."""

    def evaluate(self, task: Task, expression: str, external_context: dict | None = None) -> Any:
        if isinstance(expression, str) and _ISO.fullmatch(expression.strip()):
            return expression.strip()
        return super().evaluate(task, expression, external_context)


def model_files() -> list[Path]:
    return sorted(BPMN_DIR.glob("*.bpmn"))


def parser() -> CamundaParser:
    """All shipped models in one parser, validated against the BPMN 2.0 XSD, so call activities resolve."""
    p = CamundaParser(validator=BpmnValidator())
    p.add_bpmn_files([str(f) for f in model_files()])
    # The discount approval table; the library's own DMN engine reads its simple tests (`"x"`, `> 5`, `-`).
    p.add_dmn_files([str(f) for f in sorted(BPMN_DIR.glob("*.dmn"))])
    return p


_PARSER: CamundaParser | None = None


def new_workflow(process_id: str = "sales_deal") -> BpmnWorkflow:
    global _PARSER
    if _PARSER is None:
        _PARSER = parser()
    spec = _PARSER.get_spec(process_id)
    subprocesses = _PARSER.get_subprocess_specs(process_id)
    return BpmnWorkflow(spec, subprocesses, script_engine=IsoTimerScriptEngine())


def start_manually(variables: dict[str, Any]) -> BpmnWorkflow:
    """The hunter submits the start form: its variables become the instance's first data."""
    wf = new_workflow()
    wf.get_next_task(state=TaskState.READY).set_data(**variables)
    wf.do_engine_steps()
    return wf


def start_by_message(name: str, variables: dict[str, Any]) -> BpmnWorkflow:
    """Start an instance at the message start event catching ``name`` (Camunda: the message's variables)."""
    wf = new_workflow()
    wf.get_next_task(state=TaskState.READY).run()  # Start
    split = wf.get_next_task(state=TaskState.READY)  # StartEventSplit
    split.run()
    target = None
    for child in split.children:
        definition = getattr(child.task_spec, "event_definition", None)
        if isinstance(definition, MessageEventDefinition) and definition.name == name:
            target = child
        else:
            child.cancel()
    assert target is not None, f"no message start event for {name}"
    target.set_data(**variables)
    payload = {"payload": variables, "result_var": "message_payload"}
    wf.send_event(BpmnEvent(target.task_spec.event_definition, payload))
    wf.do_engine_steps()
    return wf


def ready_user_tasks(wf: BpmnWorkflow) -> list[Task]:
    return [t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.manual]


def ready_ids(wf: BpmnWorkflow) -> set[str]:
    return {t.task_spec.bpmn_id for t in ready_user_tasks(wf)}


def complete(wf: BpmnWorkflow, bpmn_id: str, **form: Any) -> Task:
    """Submit a user task's form, as the inbox does, and advance the engine."""
    matches = [t for t in ready_user_tasks(wf) if t.task_spec.bpmn_id == bpmn_id]
    assert len(matches) == 1, f"expected one ready {bpmn_id}, ready: {sorted(ready_ids(wf))}"
    task = matches[0]
    task.set_data(**form)
    task.run()
    wf.do_engine_steps()
    return task


def started_external(wf: BpmnWorkflow) -> list[Task]:
    started = wf.get_tasks(state=TaskState.STARTED)
    return [t for t in started if t.task_spec.__class__.__name__ == "ServiceTask"]


def complete_external(wf: BpmnWorkflow, bpmn_id: str, **variables: Any) -> None:
    """What the server does when an external worker completes the job of a STARTED service task."""
    matches = [t for t in started_external(wf) if t.task_spec.bpmn_id == bpmn_id]
    assert len(matches) == 1, f"expected one started {bpmn_id}"
    matches[0].set_data(**variables)
    matches[0].complete()
    wf.do_engine_steps()


def _waits_for_timer(task: Task) -> bool:
    """A timer event, or an event-based gateway with a timer branch.

    SpiffWorkflow waits at the event-based gateway itself (one combined definition with its own due time) and
    turns the events after it into plain pass-through events.
    """
    definition = getattr(task.task_spec, "event_definition", None)
    inner = getattr(definition, "event_definitions", [definition])
    return any("Timer" in type(d).__name__ for d in inner)


def waiting_timers(wf: BpmnWorkflow) -> dict[str, Task]:
    """Waiting timers by the BPMN id of the waiting element (timer event or event-based gateway)."""
    return {t.task_spec.bpmn_id: t for t in wf.get_tasks(state=TaskState.WAITING) if _waits_for_timer(t)}


def fire_timer(wf: BpmnWorkflow, bpmn_id: str) -> timedelta:
    """Make a waiting timer due now (as the worker does when its job falls due); return its set delay."""
    timer = waiting_timers(wf).get(bpmn_id)
    assert timer is not None, f"timer {bpmn_id} is not waiting"
    due = datetime.fromisoformat(timer.internal_data["event_value"])
    delay = due - datetime.now(UTC)
    timer.internal_data["event_value"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    wf.refresh_timers()
    wf.do_engine_steps()
    return delay


def deliver_message(wf: BpmnWorkflow, name: str, variables: dict[str, Any]) -> None:
    """Correlate a message to this instance (the server finds the instance by business key)."""
    definition = MessageEventDefinition(name)
    wf.send_event(BpmnEvent(definition, {"payload": variables, "result_var": name}))
    wf.do_engine_steps()


def completed_path(wf: BpmnWorkflow) -> list[str]:
    """BPMN ids of completed flow nodes (including called processes), in completion order."""
    ordered = sorted(wf.get_tasks(state=TaskState.COMPLETED), key=lambda t: t.last_state_change)
    return [t.task_spec.bpmn_id for t in ordered if t.task_spec.bpmn_id is not None]


def funnel_stages(wf: BpmnWorkflow) -> list[str]:
    """Funnel stages passed, in order, without repeats (from the camunda:properties of completed steps)."""
    stages: list[str] = []
    for bpmn_id in completed_path(wf):
        stage = _stage_of(bpmn_id)
        if stage and (not stages or stages[-1] != stage) and stage not in stages:
            stages.append(stage)
    return stages


def _stage_of(bpmn_id: str) -> str | None:
    from .model_xml import properties_by_id

    return properties_by_id().get(bpmn_id, {}).get("funnel_stage")


def is_start_event(task: Task) -> bool:
    return isinstance(task.task_spec, StartEvent)
