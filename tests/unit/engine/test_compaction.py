"""Compaction drops finished history but never changes what an instance does next."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.engine.compaction import compact
from app.engine.serializer import dump_state, load_state, new_workflow
from app.engine.workflow import run_engine

from .spiff_helpers import SCRIPT_ENGINE, load_model, ready_user_tasks


def drive(name: str, passes: int, script: list[tuple[str, str]], *, compacting: bool) -> tuple[Any, int]:
    spec, subprocess_specs = load_model(name)
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=passes)
    run_engine(workflow, max_steps=1000)
    largest = 0
    for done in range(1, passes + 1):
        for task_name, key in script:
            task = ready_user_tasks(workflow)[task_name]
            task.data.update({"counter": done, key: f"{key} {done}"})
            task.run()
            run_engine(workflow, max_steps=1000)
            if compacting:
                compact(workflow, min_depth=10)
            state = json.loads(json.dumps(dump_state(workflow)))
            largest = max(largest, len(json.dumps(state)))
            workflow = load_state(state, spec, subprocess_specs, SCRIPT_ENGINE)
    return workflow, largest


@pytest.mark.parametrize(
    ("model", "script"),
    [
        ("follow_up_loop", [("call", "called")]),
        ("parallel_timer_loop", [("call", "called"), ("note", "noted")]),
        ("subprocess_loop", [("offer", "offered")]),
    ],
)
def test_compacted_loop_ends_like_the_full_history_with_bounded_state(model: str, script: list) -> None:
    full, full_size = drive(model, 60, script, compacting=False)
    compacted, compacted_size = drive(model, 60, script, compacting=True)

    assert full.is_completed() and compacted.is_completed()
    assert compacted.data == full.data
    assert compacted.last_task is None or compacted.last_task.data == full.last_task.data
    assert compacted_size < full_size / 3


def test_compaction_leaves_short_histories_alone() -> None:
    spec, subprocess_specs = load_model("follow_up_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=5)
    run_engine(workflow, max_steps=1000)
    before = set(workflow.tasks)
    assert compact(workflow) == 0
    assert set(workflow.tasks) == before
