"""Long loops: the instance sees its next task at any tree depth and completes only at the loop's exit."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from app.engine.serializer import dump_state, load_state, new_workflow
from app.engine.workflow import run_engine
from app.errors import EngineLimitExceeded

from .spiff_helpers import SCRIPT_ENGINE, load_model, ready_user_tasks, tree_depth

PASSES = 1000
MAX_STEPS = 1000


def start(name: str, **variables: Any) -> Any:
    spec, subprocess_specs = load_model(name)
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(variables)
    run_engine(workflow, max_steps=MAX_STEPS)
    return workflow


def complete(workflow: Any, name: str, **data: Any) -> None:
    task = ready_user_tasks(workflow)[name]
    task.data.update(data)
    task.run()
    run_engine(workflow, max_steps=MAX_STEPS)


def round_trip(workflow: Any) -> Any:
    spec, subprocess_specs = workflow.spec, workflow.subprocess_specs
    text = json.dumps(dump_state(workflow), ensure_ascii=False)
    return load_state(json.loads(text), spec, subprocess_specs, SCRIPT_ENGINE)


def test_follow_up_call_repeated_1000_times_completes_only_at_exit_with_final_counter() -> None:
    workflow = start("follow_up_loop", counter=0, limit=PASSES)

    for done in range(1, PASSES + 1):
        assert not workflow.is_completed(), f"completed early after {done - 1} passes"
        assert list(ready_user_tasks(workflow)) == ["call"]
        complete(workflow, "call", counter=done)

    assert workflow.is_completed()
    assert workflow.data["counter"] == PASSES
    assert ready_user_tasks(workflow) == {}
    assert tree_depth(workflow) > 3 * PASSES  # far past the library's depth limit of 1000


def test_plain_library_workflow_stalls_near_depth_1000() -> None:
    # Documents the library behaviour this module exists for; if a SpiffWorkflow upgrade fixes it, this fails.
    spec, subprocess_specs = load_model("follow_up_loop")
    workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=PASSES)
    workflow.do_engine_steps()
    passes = 0
    while (ready := workflow.get_tasks(state=TaskState.READY, manual=True)) and passes < PASSES:
        passes += 1
        ready[0].data["counter"] = passes
        ready[0].run()
        workflow.do_engine_steps()

    assert passes < 400
    assert workflow.is_completed()  # the silent, wrong "completion"


def test_follow_up_loop_survives_a_state_round_trip_every_50_passes() -> None:
    workflow = start("follow_up_loop", counter=0, limit=PASSES)

    for done in range(1, PASSES + 1):
        if done % 50 == 0:
            workflow = round_trip(workflow)
        assert not workflow.is_completed()
        complete(workflow, "call", counter=done)

    assert workflow.is_completed()
    assert workflow.data["counter"] == PASSES


def test_automatic_loop_runs_1000_passes_in_one_engine_run_and_exits_on_its_condition() -> None:
    spec, subprocess_specs = load_model("auto_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=PASSES)

    steps = run_engine(workflow, max_steps=10 * PASSES)

    assert workflow.is_completed()
    assert workflow.data["counter"] == PASSES
    assert steps > 4 * PASSES  # merge, script, throw event, gateway on every pass


def test_runaway_cycle_of_automatic_tasks_raises_engine_limit_with_the_cycle_elements() -> None:
    spec, subprocess_specs = load_model("runaway_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)

    with pytest.raises(EngineLimitExceeded) as caught:
        run_engine(workflow, max_steps=500)

    assert caught.value.steps == 500
    assert {"merge", "noop", "again"} <= set(caught.value.element_ids)
    assert "end" not in caught.value.element_ids


def test_run_engine_counts_steps_and_stops_at_the_user_task() -> None:
    spec, subprocess_specs = load_model("follow_up_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=2)

    steps = run_engine(workflow, max_steps=MAX_STEPS)

    assert steps > 0
    assert list(ready_user_tasks(workflow)) == ["call"]
    assert run_engine(workflow, max_steps=MAX_STEPS) == 0


def test_parallel_loop_with_boundary_timer_runs_1000_passes_in_alternating_branch_order() -> None:
    workflow = start("parallel_timer_loop", counter=0, limit=PASSES)

    for done in range(1, PASSES + 1):
        assert sorted(ready_user_tasks(workflow)) == ["call", "note"]
        assert [e.event_type for e in workflow.waiting_events()] == ["DurationTimerEventDefinition"]
        first, second = ("call", "note") if done % 2 else ("note", "call")
        complete(workflow, first, counter=done)
        # The join must wait for this pass's other branch, whichever finished first last time.
        assert list(ready_user_tasks(workflow)) == [second]
        complete(workflow, second, counter=done)

    assert workflow.is_completed()
    assert workflow.data["counter"] == PASSES
    assert tree_depth(workflow) > 1000


def test_parallel_join_merges_branch_data_like_the_library_below_its_depth_limit() -> None:
    # Below depth 1000 the library works (in a fixed branch order), so its merged data is the reference.
    # Note its rule: for keys both branches carry, the branch that finishes last wins.
    spec, subprocess_specs = load_model("parallel_timer_loop")
    plain = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    plain.task_tree.data.update(counter=0, limit=50)
    plain.do_engine_steps()
    ours = start("parallel_timer_loop", counter=0, limit=50)

    for done in range(1, 51):
        for workflow in (plain, ours):
            for name, data in (
                ("call", {"called": done}),
                ("note", {"noted": f"итог {done}", "counter": done}),
            ):
                task = ready_user_tasks(workflow)[name]
                task.data.update(data)
                task.run()
                workflow.do_engine_steps()

    assert plain.is_completed() and ours.is_completed()
    assert ours.data == plain.data
    assert ours.data["noted"] == "итог 50"


def test_boundary_timer_fires_deep_in_the_loop_and_the_end_waits_for_the_open_branch() -> None:
    workflow = start("parallel_timer_loop", counter=0, limit=PASSES)
    for done in range(1, 401):
        complete(workflow, "call", counter=done)
        complete(workflow, "note", counter=done)
    assert tree_depth(workflow) > 1000

    timer = workflow.get_next_task(state=TaskState.WAITING, spec_name="call_timeout")
    timer.internal_data["event_value"] = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    run_engine(workflow, max_steps=MAX_STEPS)

    # The interrupting timer cancelled the call and reached its end event; "note" is still open, so the
    # end join must not finish the instance (the library's end join looked only 1000 levels deep).
    assert workflow.get_next_task(spec_name="escalated", state=TaskState.COMPLETED) is not None
    assert list(ready_user_tasks(workflow)) == ["note"]
    assert not workflow.is_completed()


def test_subprocess_in_a_loop_runs_400_passes_with_state_round_trips() -> None:
    workflow = start("subprocess_loop", counter=0, limit=400)

    for done in range(1, 401):
        if done % 100 == 0:
            workflow = round_trip(workflow)
        assert not workflow.is_completed()
        complete(workflow, "offer", counter=done)

    assert workflow.is_completed()
    assert workflow.data["counter"] == 400
    assert len(workflow.subprocesses) == 400
