"""A follow-up call repeated 1,000 times completes with the right data: the library's depth-1000 stall never
reaches a user."""

from __future__ import annotations

from sqlalchemy import select

from app.auth.actor import Actor
from app.db.models import HistoryEvent, Task, TaskState
from app.services import deployments, instances, tasks
from app.services.context import AppContext
from tests.factories import loop_process

PASSES = 1000


def test_thousand_pass_loop_completes_with_the_right_count(ctx: AppContext) -> None:
    hunter = Actor("hunter1", frozenset({"hunter", "designer"}))
    deployments.deploy(ctx, files=[("loop.bpmn", loop_process().encode())], actor=hunter)
    view = instances.start_instance(ctx, actor=hunter, definition_key="followup", variables={"target": PASSES})
    instance_id = view.instance.id
    (task,) = view.open_tasks
    for calls in range(1, PASSES + 1):
        tasks.complete_task(ctx, actor=hunter, task_id=task.id, variables={"calls": calls})
        if calls < PASSES:
            current = instances.get_instance(ctx, actor=hunter, instance_id=instance_id)
            assert current.instance.status == "running", f"ended early after {calls} passes"
            (task,) = current.open_tasks
    final = instances.get_instance(ctx, actor=hunter, instance_id=instance_id)
    assert final.instance.status == "completed"
    assert final.instance.variables == {"target": PASSES, "calls": PASSES}
    with ctx.db.transaction() as session:
        completed = session.scalars(select(Task).where(Task.instance_id == instance_id,
                                                       Task.state == TaskState.COMPLETED)).all()
        decisions = session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id,
                                                               HistoryEvent.kind == "gateway_taken")).all()
    assert len(completed) == PASSES
    assert [d.data["taken"] for d in decisions] == [["Call"]] * (PASSES - 1) + [["EndEvent"]]
