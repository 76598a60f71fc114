from __future__ import annotations

from typing import Literal

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.instances import HistoryEventOut
from app.api.schemas.tasks import Assign, Complete, TaskCountsOut, TaskDetailOut, TaskOut
from app.services import tasks
from app.services.tasks import TaskFilter

router = APIRouter(prefix="/tasks", tags=["tasks"])


@router.get("", response_model=Page[TaskOut], summary="List tasks",
            description="Tasks you may see. `scope`: `mine` (assigned to me), `groups` (my groups' unassigned "
                        "tasks), `inbox` (both), `all` (everything visible). `state` defaults to `open`.")
def list_tasks(ctx: Context, actor: CurrentActor, scope: Literal["all", "mine", "groups", "inbox"] = "all",
               state: str | None = "open", candidate_group: str | None = None,
               candidate_user: str | None = None, assignee: str | None = None, instance_id: str | None = None,
               definition_key: str | None = None, business_key: str | None = None,
               element_id: str | None = None, funnel_stage: str | None = None, overdue: bool | None = None,
               search: str | None = None, sort: str = "created", descending: bool = False,
               limit: Limit = 50, offset: Offset = 0) -> Page[TaskOut]:
    flt = TaskFilter(scope=scope, state=state or None, candidate_group=candidate_group,
                     candidate_user=candidate_user, assignee=assignee, instance_id=instance_id,
                     definition_key=definition_key, business_key=business_key, element_id=element_id,
                     funnel_stage=funnel_stage, overdue=overdue, search=search, sort=sort, descending=descending)
    rows, total = tasks.list_tasks(ctx, actor=actor, flt=flt, limit=limit, offset=offset)
    return Page[TaskOut](items=[TaskOut.model_validate(r) for r in rows], total=total)


@router.get("/counts", response_model=TaskCountsOut, summary="Inbox counts",
            description="Open tasks assigned to me (`mine`), my groups' unassigned ones (`groups`), both "
                        "(`inbox`) and the inbox tasks past their due date (`overdue`).")
def task_counts(ctx: Context, actor: CurrentActor) -> TaskCountsOut:
    counts = tasks.inbox_counts(ctx, actor=actor)
    return TaskCountsOut(mine=counts.mine, groups=counts.groups, inbox=counts.inbox, overdue=counts.overdue)


@router.get("/{task_id}", response_model=TaskDetailOut, summary="Get a task with its form and data")
def get_task(ctx: Context, actor: CurrentActor, task_id: str) -> TaskDetailOut:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    out = TaskOut.model_validate(detail.task)
    return TaskDetailOut(**out.model_dump(), data=detail.data)


@router.post("/{task_id}/claim", response_model=TaskOut, summary="Claim a task")
def claim_task(ctx: Context, actor: CurrentActor, task_id: str) -> TaskOut:
    return TaskOut.model_validate(tasks.claim_task(ctx, actor=actor, task_id=task_id))


@router.post("/{task_id}/unclaim", response_model=TaskOut, summary="Release a claimed task")
def unclaim_task(ctx: Context, actor: CurrentActor, task_id: str) -> TaskOut:
    return TaskOut.model_validate(tasks.unclaim_task(ctx, actor=actor, task_id=task_id))


@router.post("/{task_id}/assign", response_model=TaskOut, summary="Reassign a task",
             description="Head of sales and admins: give the task to a user, or `null` back to its groups.")
def assign_task(ctx: Context, actor: CurrentActor, task_id: str, body: Assign) -> TaskOut:
    return TaskOut.model_validate(tasks.assign_task(ctx, actor=actor, task_id=task_id, assignee=body.assignee))


@router.post("/{task_id}/complete", response_model=TaskOut, summary="Complete a task",
             description="Submit the form's values. A missing required field or a wrong type is a 422 naming "
                         "the field; a task already completed (or completed concurrently) is a 409.")
def complete_task(ctx: Context, actor: CurrentActor, task_id: str, body: Complete) -> TaskOut:
    return TaskOut.model_validate(tasks.complete_task(ctx, actor=actor, task_id=task_id,
                                                      variables=body.variables))


@router.get("/{task_id}/history", response_model=Page[HistoryEventOut], summary="Task assignment history")
def task_history(ctx: Context, actor: CurrentActor, task_id: str) -> Page[HistoryEventOut]:
    events = tasks.task_history(ctx, actor=actor, task_id=task_id)
    return Page[HistoryEventOut](items=[HistoryEventOut.model_validate(e) for e in events], total=len(events))
