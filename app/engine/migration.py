"""Move a running instance from one definition version to another.

An element of the source version corresponds to the element of the target version with the same BPMN id, or to
the one a migration instruction names (a renamed element). The instance is checked first and migrated only when
every element it is in (waiting user tasks, timers, messages, external tasks, and the finished elements on their
path) has a counterpart of the same kind, no waiting timer changed its definition, no waiting element is reached
another way (a boundary event added or removed), and no sub-process it waits in changed. Otherwise it is left
exactly as it was, with the reasons.

Finished history above the live part of the task tree is dropped first (the database keeps it: task projection and
history events), then the task specs are re-pointed, like SpiffWorkflow's `migrate_workflow` does with a
`SpecDiff` alignment, but without resetting waiting tasks: user tasks keep their ids (their inbox rows stay) and
timers keep their due times. What lies beyond the tasks the instance is in (the old version's forecast) is dropped
and predicted again from the new spec.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

from app.engine.compaction import compact
from app.engine.runner import ProcessRuntime, Step, report
from app.engine.serializer import convert_spec, load_state
from app.engine.spec_diff import elements

# The library's own plumbing around an element carries the element's id as a prefix ("Task_A.BoundaryEventSplit").
_PLUMBING_SEPARATOR = "."


@dataclass(frozen=True)
class Obstacle:
    """Why an instance cannot be migrated, at which element of the source version."""

    element_id: str | None
    message: str


class MigrationRefused(Exception):
    def __init__(self, obstacles: list[Obstacle]) -> None:
        super().__init__("; ".join(o.message for o in obstacles))
        self.obstacles = obstacles


def instruction_obstacles(source: ProcessRuntime, target: ProcessRuntime,
                          mapping: Mapping[str, str]) -> list[Obstacle]:
    """Problems of the plan itself: instructions naming elements that do not exist or differ in kind."""
    old = elements(source.spec, source.subprocess_specs)
    new = elements(target.spec, target.subprocess_specs)
    obstacles = []
    for source_id, target_id in mapping.items():
        if source_id not in old:
            obstacles.append(Obstacle(source_id, f"the source version has no element {source_id!r}"))
        elif target_id not in new:
            obstacles.append(Obstacle(source_id, f"the target version has no element {target_id!r}"))
        elif old[source_id].get("typename") != new[target_id].get("typename"):
            obstacles.append(Obstacle(source_id, f"{_label(old[source_id])} is a {old[source_id].get('typename')}"
                                                 f" but {target_id!r} is a {new[target_id].get('typename')}"))
    return obstacles


def migrate(source: ProcessRuntime, target: ProcessRuntime, state: dict[str, Any],
            mapping: Mapping[str, str]) -> Step:
    """The instance's new state on the target version; raises MigrationRefused (nothing changed) otherwise."""
    workflow = load_state(state, source.spec, source.subprocess_specs, source.script_engine)
    compact(workflow, min_depth=0)
    pairs = [(workflow, target.spec)]
    obstacles: list[Obstacle] = []
    for sub in workflow.subprocesses.values():
        new_spec = target.subprocess_specs.get(sub.spec.name)
        if new_spec is None or _structure(sub.spec, source) != _structure(new_spec, target):
            obstacles.append(Obstacle(_caller_id(workflow, sub), f"the instance waits inside the sub-process "
                                      f"{sub.spec.name!r}, whose structure changed in the new version"))
        else:
            pairs.append((sub, new_spec))
    alignment: dict[Task, Any] = {}
    for flow, new_spec in pairs:
        obstacles += _align(flow, new_spec, mapping, alignment)
    if obstacles:
        raise MigrationRefused(obstacles)
    for flow, new_spec in pairs:
        _repoint(flow, new_spec, alignment)
    workflow.subprocess_specs = target.subprocess_specs
    workflow.script_engine = target.script_engine
    return report(workflow)


def _structure(spec: Any, runtime: ProcessRuntime) -> dict[str, dict[str, Any]]:
    return elements(spec, runtime.subprocess_specs)


def _caller_id(workflow: Any, sub: Any) -> str | None:
    caller = workflow.get_task_from_id(sub.parent_task_id) if hasattr(workflow, "get_task_from_id") else None
    return getattr(getattr(caller, "task_spec", None), "bpmn_id", None)


def target_name(name: str, mapping: Mapping[str, str]) -> str:
    if name in mapping:
        return mapping[name]
    head, separator, tail = name.partition(_PLUMBING_SEPARATOR)
    if separator and head in mapping:
        return f"{mapping[head]}{separator}{tail}"
    return name


def _align(flow: Any, new_spec: Any, mapping: Mapping[str, str], alignment: dict[Task, Any]) -> list[Obstacle]:
    obstacles = []
    for task in _live(flow.tasks.values()):
        old_spec = task.task_spec
        new_task_spec = new_spec.task_specs.get(target_name(old_spec.name, mapping))
        label = _label(convert_spec(old_spec)) if getattr(old_spec, "bpmn_id", None) else repr(old_spec.name)
        bpmn_id = getattr(old_spec, "bpmn_id", None)
        waiting = not task.has_state(TaskState.FINISHED_MASK)
        if new_task_spec is None and task.has_state(TaskState.CANCELLED):
            continue  # a branch not taken: it goes with the old version's forecast (see _repoint)
        if new_task_spec is None:
            verb = "waits in" if waiting else "passed through"
            obstacles.append(Obstacle(bpmn_id, f"the instance {verb} {label}, which the new version does not "
                                               "have: map it to an element of the new version"))
            continue
        if type(new_task_spec).__name__ != type(old_spec).__name__:
            obstacles.append(Obstacle(bpmn_id, f"{label} is a {type(old_spec).__name__} here and a "
                                               f"{type(new_task_spec).__name__} in the new version"))
            continue
        alignment[task] = new_task_spec
        if waiting and _timer_changed(old_spec, new_task_spec):
            obstacles.append(Obstacle(bpmn_id, f"the instance waits on the timer {label}, whose definition "
                                               "changed in the new version"))
        if waiting and _boundary_events_changed(task, new_task_spec, mapping):
            obstacles.append(Obstacle(bpmn_id, f"the instance waits in {label}, whose boundary events changed in "
                                               "the new version"))
    return obstacles


def _boundary_events_changed(task: Task, new_task_spec: Any, mapping: Mapping[str, str]) -> bool:
    """A waiting element hangs under a boundary split when it has boundary events: the split was passed when the
    element was reached, so boundary events added, removed or swapped in the new version cannot take effect."""
    parent = task.parent
    old_split = parent is not None and type(parent.task_spec).__name__ == "BoundaryEventSplit"
    new_splits = [s for s in new_task_spec.inputs if type(s).__name__ == "BoundaryEventSplit"]
    if old_split != bool(new_splits):
        return True
    if not old_split:
        return False
    old_outputs = {target_name(o.name, mapping) for o in parent.task_spec.outputs}
    return old_outputs != {o.name for o in new_splits[0].outputs}


def _live(tasks: Iterable[Task]) -> list[Task]:
    """What the instance has reached, parents first: finished tasks and the unfinished ones directly under a
    finished task (the frontier). Everything below the frontier is the old version's forecast and is predicted
    again from the new spec."""
    return sorted((t for t in tasks if t.has_state(TaskState.FINISHED_MASK) or _is_frontier(t)), key=_depth)


def _is_frontier(task: Task) -> bool:
    return (not task.has_state(TaskState.FINISHED_MASK) and not task.has_state(TaskState.PREDICTED_MASK)
            and (task.parent is None or task.parent.has_state(TaskState.FINISHED_MASK)))


def _depth(task: Task) -> int:
    depth = 0
    while task.parent is not None:
        task = task.parent
        depth += 1
    return depth


def _timer_changed(old_spec: Any, new_spec: Any) -> bool:
    old_definition = getattr(old_spec, "event_definition", None)
    if not isinstance(old_definition, TimerEventDefinition):
        return False
    new_definition = getattr(new_spec, "event_definition", None)
    return (type(old_definition) is not type(new_definition)
            or old_definition.expression != getattr(new_definition, "expression", None))


def _repoint(flow: Any, new_spec: Any, alignment: dict[Task, Any]) -> None:
    for task in [t for t in flow.tasks.values() if t.has_state(TaskState.CANCELLED) and t not in alignment]:
        if task.id in flow.tasks:
            flow._remove_task(task.id)
    frontier = [t for t in flow.tasks.values() if _is_frontier(t)]
    for task in frontier:
        for child in list(task.children):
            flow._remove_task(child.id)
    flow.spec = new_spec
    for task in flow.tasks.values():
        task.task_spec = alignment.get(task, task.task_spec)
    for task in frontier:
        task.task_spec._predict(task, mask=TaskState.NOT_FINISHED_MASK)
    if getattr(flow, "last_task", None) is not None and flow.last_task.id not in flow.tasks:
        flow.last_task = None


def _label(spec: dict[str, Any]) -> str:
    name = spec.get("bpmn_name")
    return f"«{name}» ({spec.get('bpmn_id')})" if name else repr(spec.get("bpmn_id"))
