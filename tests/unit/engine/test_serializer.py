"""Instance state and specs stored as JSON: no spec in the state, identical continuation, data types kept."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

import pytest
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.user_task import UserTask

from app.engine.serializer import (
    STATE_VERSION,
    STATE_VERSION_KEY,
    dump_spec,
    dump_state,
    load_spec,
    load_state,
    new_workflow,
)
from app.engine.workflow import DepthSafeEndJoin, DepthSafeParallelGateway, Workflow, run_engine

from .spiff_helpers import SCRIPT_ENGINE, load_model, ready_user_tasks


def through_json(value: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(value, ensure_ascii=False))


def complete(workflow: Any, name: str, **data: Any) -> None:
    task = ready_user_tasks(workflow)[name]
    task.data.update(data)
    task.run()
    run_engine(workflow, max_steps=100)


def finish(workflow: Any) -> list[tuple[str, Any]]:
    """Drive the parallel loop to its end (limit 12); the trail of (task, counter) it took."""
    trail = []
    done = 2
    while not workflow.is_completed():
        done += 1
        for name in ("note", "call"):
            complete(workflow, name, counter=done)
            trail.append((name, workflow.last_task.data.get("counter")))
    return trail


def mid_process() -> Workflow:
    spec, subprocess_specs = load_model("parallel_timer_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=12, клиент="ООО «Ромашка»")
    run_engine(workflow, max_steps=100)
    complete(workflow, "call", counter=1)
    complete(workflow, "note", counter=1)
    complete(workflow, "note", counter=2)  # "call" of the second pass is open and its timer waits
    return workflow


def test_state_round_trip_through_json_text_continues_identically() -> None:
    original = mid_process()
    restored = load_state(
        json.loads(json.dumps(dump_state(original))), original.spec, original.subprocess_specs, SCRIPT_ENGINE
    )

    assert isinstance(restored, Workflow)
    assert {str(t.id): t.state for t in restored.tasks.values()} == {
        str(t.id): t.state for t in original.tasks.values()
    }
    assert [e.event_type for e in restored.waiting_events()] == ["DurationTimerEventDefinition"]
    complete(original, "call", counter=2)
    complete(restored, "call", counter=2)
    assert finish(restored) == finish(original)
    assert restored.is_completed() and original.is_completed()
    assert restored.data == original.data


def test_state_holds_no_spec() -> None:
    workflow = mid_process()

    state = dump_state(workflow)
    text = json.dumps(state)

    assert state[STATE_VERSION_KEY] == STATE_VERSION
    assert "spec" not in state and "subprocess_specs" not in state
    assert "task_specs" not in text and "conditionExpression" not in text and "counter < limit" not in text


def test_state_data_keeps_cyrillic_and_json_types_and_nulls_what_json_cannot_hold() -> None:
    workflow = mid_process()
    task = ready_user_tasks(workflow)["call"]
    when = datetime(2024, 5, 1, 9, 30, tzinfo=UTC)
    task.data.update(
        комментарий="Перезвонить после обеда",
        when=when,
        day=date(2024, 5, 2),
        tags={"горячий"},
        pair=("a", "б"),
        nested={"список": [1, {"ключ": "значение"}]},
        fn=len,
        module=json,
    )

    state = through_json(dump_state(workflow))
    restored = load_state(state, workflow.spec, workflow.subprocess_specs, SCRIPT_ENGINE)
    data = ready_user_tasks(restored)["call"].data

    assert data["комментарий"] == "Перезвонить после обеда"
    assert data["клиент"] == "ООО «Ромашка»"
    assert data["when"] == when and data["day"] == date(2024, 5, 2)
    assert data["tags"] == ["горячий"] and data["pair"] == ["a", "б"]
    assert data["nested"] == {"список": [1, {"ключ": "значение"}]}
    assert data["fn"] is None and data["module"] is None


def test_loading_a_state_leaves_the_stored_dict_reusable() -> None:
    spec, subprocess_specs = load_model("subprocess_loop")
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=3)
    run_engine(workflow, max_steps=100)
    state = through_json(dump_state(workflow))

    first = load_state(state, spec, subprocess_specs, SCRIPT_ENGINE)
    second = load_state(state, spec, subprocess_specs, SCRIPT_ENGINE)

    assert len(first.subprocesses) == len(second.subprocesses) == 1
    assert list(ready_user_tasks(second)) == ["offer"]


def test_spec_round_trip_keeps_extensions_camunda_form_and_depth_safe_joins() -> None:
    spec, subprocess_specs = load_model("follow_up_loop")

    restored, restored_subs = load_spec(through_json(dump_spec(spec, subprocess_specs)))

    call = restored.task_specs["call"]
    assert isinstance(call, UserTask)
    assert call.extensions == {"channel": "телефон"}
    assert call.form.key == "call_form"
    assert [(f.id, f.label, f.type, f.default_value) for f in call.form.fields] == [
        ("counter", "Счётчик", "long", "0")
    ]
    assert restored.name == "follow_up_loop" and restored_subs == {}
    assert isinstance(restored.task_specs["follow_up_loop.EndJoin"], DepthSafeEndJoin)


def test_spec_from_storage_runs_a_long_loop() -> None:
    spec, subprocess_specs = load_spec(through_json(dump_spec(*load_model("parallel_timer_loop"))))
    assert isinstance(spec.task_specs["join"], DepthSafeParallelGateway)
    workflow = new_workflow(spec, subprocess_specs, SCRIPT_ENGINE)
    workflow.task_tree.data.update(counter=0, limit=400)
    run_engine(workflow, max_steps=100)

    for done in range(1, 401):
        complete(workflow, "call", counter=done)
        complete(workflow, "note", counter=done)

    assert workflow.is_completed() and workflow.data["counter"] == 400


def test_stored_spec_uses_library_type_names_so_plain_spiffworkflow_can_read_it() -> None:
    dumped = through_json(dump_spec(*load_model("parallel_timer_loop")))

    assert dumped["spec"]["task_specs"]["join"]["typename"] == "ParallelGateway"
    plain_registry = BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG)
    plain_spec = plain_registry.restore(dumped["spec"])
    assert type(plain_spec.task_specs["join"]).__name__ == "ParallelGateway"


def test_state_written_by_the_library_serializer_is_migrated_on_load() -> None:
    spec, subprocess_specs = load_model("follow_up_loop")
    plain = BpmnWorkflow(spec, subprocess_specs, script_engine=SCRIPT_ENGINE)
    plain.task_tree.data.update(counter=0, limit=2)
    plain.do_engine_steps()
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    legacy = json.loads(serializer.serialize_json(plain))  # version 0: spec inside, no version of ours

    workflow = load_state(legacy, spec, subprocess_specs, SCRIPT_ENGINE)

    assert isinstance(workflow, Workflow)
    complete(workflow, "call", counter=1)
    complete(workflow, "call", counter=2)
    assert workflow.is_completed() and workflow.data["counter"] == 2


def test_state_from_a_newer_server_is_refused() -> None:
    workflow = mid_process()
    state = dump_state(workflow)
    state[STATE_VERSION_KEY] = STATE_VERSION + 1

    with pytest.raises(ValueError, match="newer"):
        load_state(state, workflow.spec, workflow.subprocess_specs, SCRIPT_ENGINE)
