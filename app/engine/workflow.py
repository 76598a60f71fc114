# TEMPORARY STUB (not committed): replaced by the engine branch.
from __future__ import annotations

from typing import Any

from SpiffWorkflow.util.task import TaskState


def run_engine(workflow: Any, *, max_steps: int) -> int:
    steps = 0
    while True:
        workflow.refresh_timers()
        before = steps
        ready = [t for t in workflow.get_tasks(state=TaskState.READY) if not t.task_spec.manual]
        for t in ready:
            t.run()
            steps += 1
        workflow.refresh_timers()
        if steps == before:
            return steps
