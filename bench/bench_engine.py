"""Engine micro-benchmarks: long loops and state (de)serialization, in-process, no HTTP and no database.

Run: .venv/bin/python bench/bench_engine.py   (from the repository root)
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.util.task import BpmnTaskIterator
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskIterator, TaskState

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine.serializer import dump_state, load_state, new_workflow  # noqa: E402
from app.engine.workflow import run_engine  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "unit" / "engine" / "fixtures"
ENGINE = PythonScriptEngine()
BIG = 10**9


def load(name: str) -> tuple[Any, dict[str, Any]]:
    parser = CamundaParser()
    parser.add_bpmn_str((FIXTURES / f"{name}.bpmn").read_bytes(), filename=f"{name}.bpmn")
    return parser.get_spec(name), parser.get_subprocess_specs(name)


class RaisedDepthWorkflow(BpmnWorkflow):
    """The library's tree walks with the depth limit lifted (what "just raise max_depth" would cost)."""

    def get_tasks_iterator(self, first_task: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("max_depth", BIG)
        return BpmnTaskIterator(first_task or self.task_tree, **kwargs)

    def is_completed(self) -> bool:
        if not self.completed:
            self.completed = (
                next(TaskIterator(self.task_tree, state=TaskState.NOT_FINISHED_MASK, max_depth=BIG), None)
                is None
            )
        return self.completed

    def update_waiting_tasks(self) -> None:
        for task in TaskIterator(self.task_tree, state=TaskState.WAITING, max_depth=BIG):
            task.task_spec._update(task)


def drive_user_loop(workflow: Any, passes: int, step: Callable[[Any], None]) -> int:
    workflow.task_tree.data.update(counter=0, limit=passes)
    step(workflow)
    done = 0
    while done < passes and (ready := workflow.get_tasks(state=TaskState.READY, manual=True)):
        done += 1
        ready[0].data["counter"] = done
        ready[0].run()
        step(workflow)
    return done


def ours_step(workflow: Any) -> None:
    run_engine(workflow, max_steps=1000)


def library_step(workflow: Any) -> None:
    workflow.do_engine_steps()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def bench_loops(passes: int) -> None:
    spec, subs = load("follow_up_loop")
    print(f"== user-task loop, {passes} passes (complete task + engine steps per pass)")
    seconds, done = timed(lambda: drive_user_loop(new_workflow(spec, subs, ENGINE), passes, ours_step))
    print(f"  voronka Workflow               {seconds:7.3f} s   passes={done}")
    plain = BpmnWorkflow(spec, subs, script_engine=ENGINE)
    seconds, done = timed(lambda: drive_user_loop(plain, passes, library_step))
    print(
        f"  BpmnWorkflow (default depth)   {seconds:7.3f} s   passes={done} (stalls; is_completed()="
        f"{plain.is_completed()})"
    )
    raised = RaisedDepthWorkflow(spec, subs, script_engine=ENGINE)
    seconds, done = timed(lambda: drive_user_loop(raised, passes, library_step))
    print(f"  BpmnWorkflow (max_depth=1e9)   {seconds:7.3f} s   passes={done}")

    spec, subs = load("auto_loop")
    workflow = new_workflow(spec, subs, ENGINE)
    workflow.task_tree.data.update(counter=0, limit=passes)
    seconds, steps = timed(lambda: run_engine(workflow, max_steps=10 * passes))
    print(
        f"== automatic loop, {passes} passes in one run_engine: {seconds:.3f} s, {steps} steps, "
        f"counter={workflow.data['counter']}"
    )

    spec, subs = load("parallel_timer_loop")
    workflow = new_workflow(spec, subs, ENGINE)
    workflow.task_tree.data.update(counter=0, limit=passes)
    run_engine(workflow, max_steps=100)

    def parallel() -> None:
        for done in range(1, passes + 1):
            for name in ("call", "note"):
                task = next(
                    t
                    for t in workflow.get_tasks(state=TaskState.READY, manual=True)
                    if t.task_spec.name == name
                )
                task.data["counter"] = done
                task.run()
                run_engine(workflow, max_steps=100)

    seconds, _ = timed(parallel)
    print(
        f"== parallel split/join + boundary timer loop, {passes} passes: {seconds:.3f} s, "
        f"completed={workflow.is_completed()}, tasks={len(workflow.tasks)}"
    )


def bench_serialization(target_tasks: int, repeat: int = 30) -> None:
    spec, subs = load("follow_up_loop")
    workflow = new_workflow(spec, subs, ENGINE)
    drive_user_loop(workflow, max(1, (target_tasks - 5) // 3), ours_step)
    dumps, loads, sizes = [], [], []
    for _ in range(repeat):
        seconds, text = timed(lambda: json.dumps(dump_state(workflow), ensure_ascii=False))
        dumps.append(seconds)
        sizes.append(len(text.encode()))
        seconds, _ = timed(lambda text=text: load_state(json.loads(text), spec, subs, ENGINE))
        loads.append(seconds)
    dump_ms, load_ms = statistics.median(dumps) * 1000, statistics.median(loads) * 1000
    print(
        f"  {len(workflow.tasks):5d} tasks: dump+json {dump_ms:6.2f} ms, json+load {load_ms:6.2f} ms, "
        f"total {dump_ms + load_ms:6.2f} ms, state {sizes[0] / 1024:7.1f} KiB "
        f"({sizes[0] / len(workflow.tasks):.0f} B/task)"
    )


def main() -> None:
    bench_loops(1000)
    print("== state serialize + deserialize (JSON text both ways, median of 30)")
    for tasks in (40, 600, 3000):
        bench_serialization(tasks)


if __name__ == "__main__":
    main()
