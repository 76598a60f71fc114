"""SpiffWorkflow glue: a BpmnWorkflow whose task lookups do not depend on tree depth, and `run_engine`.

Why: SpiffWorkflow's `TaskIterator` stops at tree depth 1000, and `Task.is_descendant_of` / `find_ancestor`
recurse once per level. A loop drawn as a gateway back-edge adds ~3 levels per pass, so after ~333 passes the
engine no longer sees the next task and `is_completed()` says True (joins inside the loop hit RecursionError).

How, without patching the library globally:
- `Workflow` / `SubWorkflow` answer every task query by a flat scan of `workflow.tasks` (a dict id -> Task),
  with parent links walked iteratively when the query is pruned (`end_at_spec`, a start task).
- The join specs that walk the tree themselves (parallel and inclusive gateways, the end join, boundary- and
  start-event joins) are swapped, per spec object, for subclasses with iterative walks (`harden_specs`). The
  swap is idempotent and the serializer writes them under the library's own type names.
- Joins inside a loop look only at the current pass: the library also counted the cancelled branches of
  earlier passes, which let a parallel join fire early when branches finished in a different order.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.control import BoundaryEventJoin, StartEventJoin, _EndJoin
from SpiffWorkflow.bpmn.specs.defaults import InclusiveGateway, ParallelGateway
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.bpmn.util.task import BpmnTaskFilter
from SpiffWorkflow.task import Task
from SpiffWorkflow.util.deep_merge import DeepMerge
from SpiffWorkflow.util.task import TaskFilter, TaskState

from app.engine.multi_instance import CHECKED_MULTI_INSTANCE
from app.errors import EngineLimitExceeded, EngineTimeExceeded

# Nested sub-workflows (call activities, sub-processes) one instance may open: a process calling itself would
# otherwise nest without end, each step dearer than the last.
MAX_CALL_DEPTH = 50

# ----------------------------------------------------------------------------------------------------
# Depth-independent tree walks
# ----------------------------------------------------------------------------------------------------

Stop = Callable[[Task], bool]


def min_state_for(state_mask: int) -> int:
    """The smallest state whose children TaskIterator still visits for a filter on `state_mask`."""
    if state_mask & TaskState.PREDICTED_MASK:
        return TaskState.MAYBE
    if state_mask & TaskState.DEFINITE_MASK:
        return TaskState.FUTURE
    return TaskState.COMPLETED


def _candidates(workflow: Any, top: Any, subprocesses: bool) -> Iterator[Task]:
    # Snapshot each mapping: callers may change the tree while they consume the iterator.
    subs = top.subprocesses if subprocesses else None
    for task in list(workflow.tasks.values()):
        yield task
        # isinstance first: hashing a UUID costs more than the check, and few tasks own a subprocess.
        if subs and isinstance(task.task_spec, SubWorkflowTask):
            sub = subs.get(task.id)
            if sub is not None:
                yield from _candidates(sub, top, subprocesses)


def scan(
    workflow: Any,
    first_task: Task | None = None,
    *,
    min_state: int = TaskState.MAYBE,
    stop: Stop | None = None,
    subprocesses: bool = True,
) -> Iterator[Task]:
    """Every task TaskIterator would visit from `first_task` (default: the root), without its depth limit.

    A task is visited when each ancestor between it and `first_task` has a state >= `min_state` (or is the
    task of a subprocess whose tree is entered) and is not a `stop` task. Subprocess trees follow the task
    that owns them when `subprocesses` is true, as in `BpmnTaskIterator`. Order: insertion order of
    `workflow.tasks`, which puts parents before children.
    """
    start = first_task if first_task is not None else workflow.task_tree
    home = start.workflow
    top = home.top_workflow if hasattr(home, "top_workflow") else home
    candidates = _candidates(home, top, subprocesses and hasattr(top, "subprocesses"))
    if start is home.task_tree and stop is None and min_state != TaskState.COMPLETED:
        # Fast path: from the root with nothing pruned, every task in the tree is visited.
        yield from candidates
        return

    reached: dict[Any, bool] = {start.id: True}
    for task in candidates:
        if _is_reached(task, home, top, reached, min_state, stop):
            yield task


def _is_reached(
    task: Task, home: Any, top: Any, reached: dict[Any, bool], min_state: int, stop: Stop | None
) -> bool:
    chain: list[Any] = []
    node = task
    result = False
    while True:
        known = reached.get(node.id)
        if known is not None:
            result = known
            break
        chain.append(node.id)
        if node._parent is not None:
            parent = node.workflow.tasks.get(node._parent)
            entered_subprocess = False
        elif node.workflow is not home and hasattr(node.workflow, "parent_task_id"):
            parent = top.get_task_from_id(node.workflow.parent_task_id)
            entered_subprocess = True
        else:
            parent = None
        if parent is None:
            break
        if stop is not None and stop(parent):
            break
        if not entered_subprocess and parent._state < min_state:
            break
        node = parent
    for task_id in chain:
        reached[task_id] = result
    return result


def filtered(tasks: Iterator[Task], task_filter: TaskFilter) -> Iterator[Task]:
    mask = task_filter.state
    for task in tasks:
        if task._state & mask and task_filter.matches(task):
            yield task


_PLAIN_FILTERS = (TaskFilter, BpmnTaskFilter)


def _is_plain(task_filter: Any) -> bool:
    return (
        task_filter.updated_ts == 0
        and task_filter.spec_class is None
        and getattr(task_filter, "lane", None) is None
        and getattr(task_filter, "catches_event", None) is None
    )


def _own_matching(workflow: Any, task_filter: TaskFilter) -> list[Task]:
    mask = task_filter.state
    values = workflow.tasks.values()
    if type(task_filter) in _PLAIN_FILTERS and _is_plain(task_filter):
        # Inline the usual filters: a method call per task costs more than the scan itself.
        name, manual = task_filter.spec_name, task_filter.manual
        return [
            t
            for t in values
            if t._state & mask
            and (name is None or t.task_spec.name == name)
            and (manual is None or t.task_spec.manual == manual)
        ]
    return [t for t in values if t._state & mask and task_filter.matches(t)]


def _is_nested(sub: Any, workflow: Any, top: Any) -> bool:
    current = sub
    while current is not top:
        current = top.get_task_from_id(current.parent_task_id).workflow
        if current is workflow:
            return True
    return False


def _matching(workflow: Any, task_filter: TaskFilter, *, subprocesses: bool) -> list[Task]:
    """Matching tasks of `workflow`, then those of the subprocesses nested in it."""
    found = _own_matching(workflow, task_filter)
    top = getattr(workflow, "top_workflow", workflow)
    if subprocesses and getattr(top, "subprocesses", None):
        # A completed subprocess holds only finished tasks: skip it when looking for open ones (a loop
        # around a subprocess leaves one per pass).
        skip_completed = not task_filter.state & TaskState.FINISHED_MASK
        for sub in list(top.subprocesses.values()):
            if skip_completed and sub.completed:
                continue
            if workflow is top or _is_nested(sub, workflow, top):
                found.extend(_own_matching(sub, task_filter))
    return found


def ancestor_distances(task: Task) -> dict[Any, int]:
    """Task id -> number of steps up from `task` (the task itself at 0), within its own workflow."""
    distances: dict[Any, int] = {}
    tasks = task.workflow.tasks
    node: Task | None = task
    depth = 0
    while node is not None:
        distances[node.id] = depth
        depth += 1
        node = tasks.get(node._parent) if node._parent is not None else None
    return distances


def meet_ancestors(task: Task, ancestors: dict[Any, int]) -> int | None:
    """Walk up from `task` to the first task in `ancestors`; its distance there, or None if never met."""
    tasks = task.workflow.tasks
    node: Task | None = task
    while node is not None:
        distance = ancestors.get(node.id)
        if distance is not None:
            return distance
        node = tasks.get(node._parent) if node._parent is not None else None
    return None


def find_ancestor(task: Task, spec_name: str | None) -> Task | None:
    """Iterative `Task.find_ancestor`: the nearest strict ancestor whose spec has this name."""
    tasks = task.workflow.tasks
    node = tasks.get(task._parent) if task._parent is not None else None
    while node is not None:
        if node.task_spec.name == spec_name:
            return node
        node = tasks.get(node._parent) if node._parent is not None else None
    return None


def nearest_ancestor_with_spec(task: Task, spec: Any) -> Task | None:
    """The nearest strict ancestor running the same spec object: the previous pass of a loop, if any."""
    tasks = task.workflow.tasks
    node = tasks.get(task._parent) if task._parent is not None else None
    while node is not None:
        if node.task_spec is spec:
            return node
        node = tasks.get(node._parent) if node._parent is not None else None
    return None


def is_descendant(task: Task, ancestor: Task, *, stop_at: Task | None = None) -> bool:
    """Iterative `task.is_descendant_of(ancestor)`; `stop_at` bounds the walk where the answer is known."""
    tasks = task.workflow.tasks
    node = tasks.get(task._parent) if task._parent is not None else None
    while node is not None:
        if node is ancestor:
            return True
        if node is stop_at:
            return False
        node = tasks.get(node._parent) if node._parent is not None else None
    return False


def subtree(task: Task, *, stop_spec_name: str | None = None) -> Iterator[Task]:
    """`task` and its descendants, depth first, not below tasks named `stop_spec_name` (no depth limit)."""
    tasks = task.workflow.tasks
    stack = [task]
    while stack:
        node = stack.pop()
        yield node
        if node.task_spec.name != stop_spec_name:
            children = [tasks[c] for c in node._children if c in tasks]
            stack.extend(reversed(children))


# ----------------------------------------------------------------------------------------------------
# Depth-safe join specs
# ----------------------------------------------------------------------------------------------------

_FINISHED = TaskState.FINISHED_MASK


def _current_pass(task: Task, ancestors: dict[Any, int], limit: int | None) -> bool:
    """Whether `task` branched off `my_task`'s path below the previous pass of the loop (`limit` steps up)."""
    if limit is None:
        return True
    meet = meet_ancestors(task, ancestors)
    return meet is not None and meet <= limit


def _pass_scope(spec: Any, my_task: Task) -> tuple[list[Task], dict[Any, int]]:
    """The tasks of `spec` that belong to this pass of a loop, and `my_task`'s path up to the previous pass.

    The path maps task id -> steps up from `my_task`; it ends at the previous pass's task of the same spec (the
    nearest such ancestor) or, on a first pass, at the root. In a loop the candidates come from the subtree of
    that previous task, so the cost is the size of one pass, not of the whole history.
    """
    tasks = my_task.workflow.tasks
    path: dict[Any, int] = {}
    previous = None
    node: Task | None = my_task
    distance = 0
    while node is not None:
        path[node.id] = distance
        if distance and node.task_spec is spec:
            previous = node
            break
        node = tasks.get(node._parent) if node._parent is not None else None
        distance += 1
    if previous is None:
        candidates = [t for t in tasks.values() if t.task_spec is spec]
    else:
        candidates = [t for t in subtree(previous) if t.task_spec is spec and t is not previous]
    return candidates, path


def _merge_branches(spec: Any, my_task: Task) -> bool:
    """`UnstructuredJoin._run_hook` without recursion, merging only the branches of the current pass."""
    candidates, path = _pass_scope(spec, my_task)
    others = [t for t in candidates if t._state & _FINISHED and t.id not in path]
    for task in sorted(others, key=lambda t: t.last_state_change):
        DeepMerge.merge(my_task.data, task.parent.data)
        if task.has_state(TaskState.COMPLETED):
            task._drop_children(force=True)
    my_task._inherit_data()
    return True


class DepthSafeParallelGateway(ParallelGateway):  # type: ignore[misc]
    def _check_threshold_unstructured(self, my_task: Task) -> bool:
        candidates, path = _pass_scope(self, my_task)
        waiting_inputs = set(self.inputs)

        def remove_ancestor(task: Task | None) -> None:
            # Only the stretch below us: above it lie earlier passes (the library walked on to the root).
            while task is not None and task is not my_task:
                if task.task_spec in waiting_inputs:
                    waiting_inputs.remove(task.task_spec)
                    return
                task = task.parent

        for task in candidates:
            if task is not my_task:
                # Where the task's branch meets our path (0: below us): bounded by the branch length.
                if meet_ancestors(task, path) == 0:
                    # First iteration of a loop through this gateway: reached only after we fire.
                    remove_ancestor(task)
                    continue
                if task.id in path:
                    continue
            if task.parent.state == TaskState.COMPLETED and task.parent.task_spec in waiting_inputs:
                waiting_inputs.remove(task.parent.task_spec)
        return len(waiting_inputs) == 0

    def _run_hook(self, my_task: Task) -> bool:
        return _merge_branches(self, my_task)


class DepthSafeInclusiveGateway(InclusiveGateway):  # type: ignore[misc]
    def _check_threshold_unstructured(self, my_task: Task) -> bool:
        # The library scans from the root and stops at the first task of this gateway on each path, which in
        # a loop is the first pass's task. Here earlier passes on our own path are walked through instead.
        ancestors = ancestor_distances(my_task)
        previous = nearest_ancestor_with_spec(my_task, self)
        limit = ancestors[previous.id] if previous is not None else None

        def stop(task: Task) -> bool:
            return task.task_spec.name == self.name and (task is my_task or task.id not in ancestors)

        tasks, sources = [], []
        for task in scan(my_task.workflow, stop=stop):
            if task.task_spec == self:
                if task is my_task or (task.id not in ancestors and _current_pass(task, ancestors, limit)):
                    tasks.append(task)
            elif task.has_state(TaskState.READY | TaskState.WAITING):
                sources.append(task.task_spec)
        return self._inputs_complete(tasks, sources)

    def _inputs_complete(self, tasks: list[Task], sources: list[Any]) -> bool:
        # Unchanged from InclusiveGateway._check_threshold_unstructured (SpiffWorkflow 3.2), after its scan.
        completed_inputs = {t.parent.task_spec for t in tasks if t.parent.state == TaskState.COMPLETED}
        for task in tasks:
            parent = task.parent
            if parent.has_state(TaskState.DEFINITE_MASK) and parent.task_spec not in completed_inputs:
                return False

        waiting_inputs = [i for i in self.inputs if i not in completed_inputs]
        checked: list[Any] = []

        def check(spec: Any) -> Any:
            checked.append(spec)
            for parent in spec.inputs:
                if parent not in checked:
                    return parent if parent in sources else check(parent)
            return None

        for spec in completed_inputs:
            source = check(spec)
            if source is not None:
                sources.remove(source)
        return not any(check(spec) is not None for spec in waiting_inputs)

    def _run_hook(self, my_task: Task) -> bool:
        _merge_branches(self, my_task)
        matches, defaults = self._get_matching_outputs(my_task)
        if len(matches + defaults) == 0:
            raise WorkflowTaskException("No conditions satisfied on gateway", task=my_task)
        my_task._sync_children(matches or defaults, TaskState.FUTURE)
        for child in my_task.children:
            child.task_spec._predict(child, mask=TaskState.FUTURE | TaskState.PREDICTED_MASK)
        return True


class DepthSafeEndJoin(_EndJoin):  # type: ignore[misc]
    def _check_threshold_unstructured(self, my_task: Task) -> bool:
        # The workflow ends only when nothing else is unfinished, however deep it sits.
        def stop(task: Task) -> bool:
            return task.task_spec.name == self.name

        for task in scan(my_task.workflow, stop=stop, subprocesses=False):
            if task is not my_task and task._state & TaskState.NOT_FINISHED_MASK:
                return False
        return True

    def _run_hook(self, my_task: Task) -> bool:
        result = _merge_branches(self, my_task)
        my_task.workflow.data.update(my_task.data)
        return result


class _DepthSafeFindTasks:
    name: str
    split_task: str | None

    def _find_tasks(self, my_task: Task) -> list[Task]:
        split_task = find_ancestor(my_task, self.split_task) or my_task.workflow.task_tree
        found = []
        for task in subtree(split_task, stop_spec_name=self.name):
            if task.task_spec.name != self.name or task.thread_id != my_task.thread_id:
                continue
            if self.split_task and is_descendant(task, my_task, stop_at=split_task):
                continue
            found.append(task)
        return found


class DepthSafeBoundaryEventJoin(_DepthSafeFindTasks, BoundaryEventJoin):  # type: ignore[misc]
    pass


class DepthSafeStartEventJoin(_DepthSafeFindTasks, StartEventJoin):  # type: ignore[misc]
    pass


DEPTH_SAFE_SPECS: dict[type, type] = {
    ParallelGateway: DepthSafeParallelGateway,
    InclusiveGateway: DepthSafeInclusiveGateway,
    _EndJoin: DepthSafeEndJoin,
    BoundaryEventJoin: DepthSafeBoundaryEventJoin,
    StartEventJoin: DepthSafeStartEventJoin,
    **CHECKED_MULTI_INSTANCE,  # not about depth: a collection that is not a list is an incident, not a 500
}


def harden_specs(spec: Any, subprocess_specs: dict[str, Any] | None = None) -> None:
    """Swap the library's tree-walking join specs for the depth-safe subclasses, in place and idempotently.

    Only exact library classes are swapped (the subclasses add no state, so `__class__` assignment is safe);
    a parser that brings its own join subclasses keeps them.
    """
    for process in [spec, *(subprocess_specs or {}).values()]:
        for task_spec in process.task_specs.values():
            safe = DEPTH_SAFE_SPECS.get(type(task_spec))
            if safe is not None:
                task_spec.__class__ = safe


# ----------------------------------------------------------------------------------------------------
# Workflows
# ----------------------------------------------------------------------------------------------------


class _FlatQueries:
    """Task queries answered from `workflow.tasks`, shared by the top workflow and its subprocesses."""

    tasks: dict[Any, Task]
    task_tree: Task
    completed: bool
    success: bool

    def get_tasks_iterator(self, first_task: Task | None = None, **kwargs: Any) -> Iterator[Task]:
        end_at_spec = kwargs.pop("end_at_spec", None)
        kwargs.pop("max_depth", None)  # no depth limit here: that is the point
        kwargs.pop("depth_first", None)
        skip_subprocesses = kwargs.pop("skip_subprocesses", False)
        task_filter = kwargs.pop("task_filter", None) or BpmnTaskFilter(**kwargs)
        min_state = min_state_for(task_filter.state)
        if first_task is None and end_at_spec is None and min_state != TaskState.COMPLETED:
            # The common query (READY, WAITING, by spec name): comprehensions over the flat mappings.
            return iter(_matching(self, task_filter, subprocesses=not skip_subprocesses))
        stop = None if end_at_spec is None else (lambda t: t.task_spec.name == end_at_spec)
        tasks = scan(
            self,
            first_task,
            min_state=min_state,
            stop=stop,
            subprocesses=not skip_subprocesses,
        )
        return filtered(tasks, task_filter)

    def get_tasks(self, first_task: Task | None = None, **kwargs: Any) -> list[Task]:
        return list(self.get_tasks_iterator(first_task, **kwargs))

    def get_next_task(self, first_task: Task | None = None, **kwargs: Any) -> Task | None:
        return next(self.get_tasks_iterator(first_task, **kwargs), None)

    def is_completed(self) -> bool:
        if not self.completed:
            self.completed = not any(t._state & TaskState.NOT_FINISHED_MASK for t in self.tasks.values())
        return self.completed

    def manual_input_required(self) -> bool:
        return not any(t._state == TaskState.READY and not t.task_spec.manual for t in self.tasks.values())

    def update_waiting_tasks(self) -> None:
        seen: set[Any] = set()
        while True:
            waiting = [t for t in self.tasks.values() if t._state == TaskState.WAITING and t.id not in seen]
            if not waiting:
                return
            for task in waiting:
                seen.add(task.id)
                # An earlier update may have cancelled or removed it (a join cancels its sibling tasks).
                if task._state == TaskState.WAITING and self.tasks.get(task.id) is task:
                    task.task_spec._update(task)

    def get_task_mapping(self) -> dict:
        mapping: dict[Any, dict[Any, set[Task]]] = {}
        for task in self.tasks.values():
            mapping.setdefault(task.thread_id, {}).setdefault(task.task_spec, set()).add(task)
        return mapping

    def _remove_task(self, task_id: Any) -> None:
        # Iterative version of Workflow._remove_task (which recurses once per level of the subtree).
        root = self.tasks[task_id]
        order: list[Task] = []
        stack = [root]
        while stack:
            node = stack.pop()
            order.append(node)
            stack.extend(self.tasks[c] for c in node._children if c in self.tasks)
        for node in reversed(order):
            parent = node.parent
            if parent is not None and node.id in parent._children:
                parent._children.remove(node.id)
            self.tasks.pop(node.id)
            self._task_removed_notify(node)  # type: ignore[attr-defined]


def _cancel_flat(workflow: Any, success: bool = False) -> list[Task]:
    """`Workflow.cancel` over a flat snapshot of the workflow's own tasks."""
    workflow.success = success
    workflow.completed = True
    cancelled = [t for t in workflow.tasks.values() if t._state & TaskState.NOT_FINISHED_MASK]
    for task in cancelled:
        task.cancel()
    return cancelled


class SubWorkflow(_FlatQueries, BpmnSubWorkflow):  # type: ignore[misc]
    """A subprocess or call activity instance with depth-independent task queries."""

    def cancel(self, success: bool = False) -> list[Task]:
        return _cancel_flat(self, success)


class Workflow(_FlatQueries, BpmnWorkflow):  # type: ignore[misc]
    """A BpmnWorkflow whose task queries and joins work at any tree depth (long loops)."""

    def __init__(
        self,
        spec: Any,
        subprocess_specs: dict[str, Any] | None = None,
        script_engine: Any = None,
        **kwargs: Any,
    ) -> None:
        harden_specs(spec, subprocess_specs)
        super().__init__(spec, subprocess_specs, script_engine, **kwargs)

    def create_subprocess(self, my_task: Task, spec_name: str) -> SubWorkflow:
        depth, workflow = 1, my_task.workflow
        while workflow is not self:
            depth, workflow = depth + 1, workflow.parent_workflow
        if depth > MAX_CALL_DEPTH:
            my_task.error()
            raise WorkflowTaskException(
                f"{_element_id(my_task)} would open a call {depth} levels deep (the limit is {MAX_CALL_DEPTH}): "
                "does the process call itself without a way out?", task=my_task)
        spec = self.subprocess_specs[spec_name]
        subprocess = SubWorkflow(spec, parent_task_id=my_task.id, top_workflow=self)
        self.subprocesses[my_task.id] = subprocess
        return subprocess

    def cancel(self, workflow: Any = None) -> list[Task]:
        wf = workflow or self
        cancelled = _cancel_flat(wf)
        cancelled_ids = {t.id for t in cancelled}
        for sp_id, sp in list(self.subprocesses.items()):
            if sp_id in cancelled_ids:
                cancelled.extend(self.cancel(sp))
        return cancelled


# ----------------------------------------------------------------------------------------------------
# Running
# ----------------------------------------------------------------------------------------------------


def _element_id(task: Task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def run_engine(workflow: Any, *, max_steps: int, deadline: float | None = None) -> int:
    """Fire due timers, then run automatic (non-manual READY) tasks until none is ready; return how many ran.

    Raises EngineLimitExceeded (with the element ids seen in the last steps) instead of running step
    max_steps + 1: a cycle of automatic tasks with no wait must not hold a request or a worker. Raises
    EngineTimeExceeded once `time.monotonic()` passes `deadline` (steps that grow dearer, such as ever deeper
    calls, escape a step cap). The workflow is then mid-way and the caller should discard it.
    """
    steps = 0
    recent: deque[str] = deque(maxlen=50)

    def before_step(task: Task) -> None:
        nonlocal steps
        if steps >= max_steps:
            raise EngineLimitExceeded(steps=steps, element_ids=list(dict.fromkeys(recent)))
        if deadline is not None and time.monotonic() > deadline:
            raise EngineTimeExceeded(steps=steps, element_ids=list(dict.fromkeys(recent)))
        steps += 1
        recent.append(_element_id(task))

    while True:
        before = steps
        workflow.refresh_timers()
        workflow.do_engine_steps(will_complete_task=before_step)
        # do_engine_steps refreshes timers after its last step: a timer that fired there left a task READY.
        if steps == before or workflow.get_next_task(state=TaskState.READY, manual=False) is None:
            return steps
