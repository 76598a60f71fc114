"""Drop finished history from a workflow's task tree so long loops stay cheap to store.

SpiffWorkflow keeps every task it ever ran; a loop drawn as a gateway back-edge adds ~3 tasks per pass, and the
stored state grows by ~390 bytes per task, so the 1,000th follow-up call would load and save ~1 MB. The server
already records what happened (task projection and history), so the engine only needs the part of the tree that
can still change: the subtree under the lowest common ancestor of every unfinished task. Everything above that
ancestor is finished, and nothing below it refers back to it (joins look for splits *inside* the live subtree,
boundary events hang under their split, call activities are themselves unfinished).
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.task import Task
from SpiffWorkflow.util.task import TaskState

# Ordinary processes are left exactly as the library built them; only deep histories are cut.
MIN_PRUNABLE_DEPTH = 50


def compact(workflow: Any, *, min_depth: int = MIN_PRUNABLE_DEPTH) -> int:
    """Re-hang the live subtree directly under the root when it sits deeper than `min_depth`.

    Returns how many finished tasks were dropped. Sub-workflows (call activities) are compacted too.
    """
    subprocesses = getattr(workflow, "subprocesses", {})
    dropped = _compact_one(workflow, min_depth)
    for sub in list(subprocesses.values()):
        dropped += _compact_one(sub, min_depth)
    # Finished call activities whose calling task is gone are history too.
    live_ids = set(workflow.tasks).union(*(sub.tasks for sub in subprocesses.values()))
    for task_id in [tid for tid in subprocesses if tid not in live_ids]:
        del subprocesses[task_id]
    return dropped


def _compact_one(workflow: Any, min_depth: int) -> int:
    unfinished = [t for t in workflow.tasks.values() if not t.has_state(TaskState.FINISHED_MASK)]
    if not unfinished:
        return 0
    anchor = _lowest_common_ancestor(unfinished)
    root = workflow.task_tree
    if anchor is None or anchor is root:
        return 0
    path = _path_to_root(anchor)  # anchor, parent, ..., root
    if len(path) - 1 <= min_depth:
        return 0
    keep = {root.id, *(t.id for t in _subtree(anchor))}
    doomed = [task_id for task_id in workflow.tasks if task_id not in keep]
    for task_id in doomed:
        del workflow.tasks[task_id]
    root.children = [anchor]
    anchor.parent = root
    last = getattr(workflow, "last_task", None)
    if last is not None and last.id not in keep:
        workflow.last_task = None
    return len(doomed)


def _path_to_root(task: Task) -> list[Task]:
    path = [task]
    while path[-1].parent is not None:
        path.append(path[-1].parent)
    return path


def _lowest_common_ancestor(tasks: list[Task]) -> Task | None:
    first_path = _path_to_root(tasks[0])
    position = {t.id: i for i, t in enumerate(first_path)}
    highest = 0
    for task in tasks[1:]:
        node: Task | None = task
        while node is not None and node.id not in position:
            node = node.parent
        if node is None:
            return None
        highest = max(highest, position[node.id])
    return first_path[highest]


def _subtree(task: Task) -> list[Task]:
    found, stack = [], [task]
    while stack:
        node = stack.pop()
        found.append(node)
        stack.extend(node.children)
    return found
