"""User tasks: the inbox queries and the claim / unclaim / assign / complete use cases."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.actor import Actor
from app.auth.permissions import (
    candidate_clause,
    lost_race_for,
    may_work_task,
    require_may_reassign,
    require_task_actionable,
    require_task_readable,
    visible_tasks_clause,
)
from app.db.base import utcnow
from app.db.models import (
    CandidateKind,
    EventKind,
    HistoryEvent,
    ProcessInstance,
    Task,
    TaskCandidate,
    TaskState,
    User,
    membership,
)
from app.engine import runner
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.context import AppContext
from app.services.documents import with_file_fields
from app.services.instances import advance
from app.services.recording import add_event
from app.services.variables import check_variables, validate_form

SORTS = {
    "created": Task.created_at,
    "due": Task.due_at,
    "priority": Task.priority,
    "name": Task.name,
    "assignee": Task.assignee,
    "id": Task.id,
    "instance": Task.instance_id,
}
Scope = Literal["all", "mine", "groups", "inbox"]


@dataclass
class TaskFilter:
    scope: Scope = "all"
    state: str | None = TaskState.OPEN
    candidate_group: str | None = None
    candidate_user: str | None = None
    assignee: str | None = None
    instance_id: str | None = None
    definition_key: str | None = None
    business_key: str | None = None
    element_id: str | None = None
    funnel_stage: str | None = None
    overdue: bool | None = None
    search: str | None = None
    sort: str = "created"
    descending: bool = False
    # Finer filters (the Camunda dialect's task queries).
    states: list[str] | None = None
    task_ids: list[str] | None = None
    candidate_groups: list[str] | None = None
    candidate_for: str | None = None  # a user's claimable tasks: named candidate or member of a candidate group
    assigned: bool | None = None
    assignees: list[str] | None = None
    definition_id: str | None = None
    definition_keys: list[str] | None = None
    element_ids: list[str] | None = None
    name: str | None = None
    name_like: str | None = None  # SQL pattern with `%`
    created_after: datetime | None = None
    created_before: datetime | None = None
    due_after: datetime | None = None
    due_before: datetime | None = None
    min_priority: int | None = None
    max_priority: int | None = None


def task_query(actor: Actor, flt: TaskFilter) -> Select[tuple[Task]]:
    query = select(Task).where(visible_tasks_clause(actor))
    if flt.state is not None:
        if flt.state not in set(TaskState):
            raise InvalidInput(f"state must be one of {', '.join(TaskState)}")
        query = query.where(Task.state == flt.state)
    if flt.scope == "mine":
        query = query.where(_mine_clause(actor))
    elif flt.scope == "groups":
        query = query.where(_groups_clause(actor))
    elif flt.scope == "inbox":
        query = query.where(_mine_clause(actor) | _groups_clause(actor))
    if flt.candidate_group:
        query = query.where(Task.candidates.any(
            (TaskCandidate.kind == CandidateKind.GROUP) & (TaskCandidate.name == flt.candidate_group)))
    if flt.candidate_user:
        query = query.where(Task.candidates.any(
            (TaskCandidate.kind == CandidateKind.USER) & (TaskCandidate.name == flt.candidate_user)))
    for column, value in ((Task.assignee, flt.assignee), (Task.instance_id, flt.instance_id),
                          (Task.definition_key, flt.definition_key), (Task.business_key, flt.business_key),
                          (Task.element_id, flt.element_id), (Task.funnel_stage, flt.funnel_stage)):
        if value:
            query = query.where(column == value)
    if flt.overdue is not None:
        now = utcnow()
        query = query.where((Task.due_at < now) if flt.overdue else (Task.due_at.is_(None) | (Task.due_at >= now)))
    if flt.search:
        pattern = f"%{flt.search.lower()}%"
        query = query.where(func.lower(Task.business_key).like(pattern) | func.lower(Task.name).like(pattern))
    return _finer_filters(query, flt)


def _finer_filters(query: Select[tuple[Task]], flt: TaskFilter) -> Select[tuple[Task]]:
    for column, values in ((Task.state, flt.states), (Task.id, flt.task_ids), (Task.assignee, flt.assignees),
                           (Task.definition_key, flt.definition_keys), (Task.element_id, flt.element_ids)):
        if values is not None:
            query = query.where(column.in_(values))
    if flt.candidate_groups is not None:
        query = query.where(Task.candidates.any(
            (TaskCandidate.kind == CandidateKind.GROUP) & TaskCandidate.name.in_(flt.candidate_groups)))
    if flt.candidate_for is not None:
        groups = (select(membership.c.group_id).join(User, User.id == membership.c.user_id)
                  .where(User.username == flt.candidate_for))
        query = query.where(Task.candidates.any(
            ((TaskCandidate.kind == CandidateKind.USER) & (TaskCandidate.name == flt.candidate_for))
            | ((TaskCandidate.kind == CandidateKind.GROUP) & TaskCandidate.name.in_(groups))))
    if flt.assigned is not None:
        query = query.where(Task.assignee.is_not(None) if flt.assigned else Task.assignee.is_(None))
    if flt.definition_id is not None:
        query = query.where(Task.instance_id.in_(
            select(ProcessInstance.id).where(ProcessInstance.definition_id == flt.definition_id)))
    if flt.name is not None:
        query = query.where(Task.name == flt.name)
    if flt.name_like is not None:
        query = query.where(Task.name.like(flt.name_like))
    bounds = ((Task.created_at, operator.gt, flt.created_after), (Task.created_at, operator.lt, flt.created_before),
              (Task.due_at, operator.gt, flt.due_after), (Task.due_at, operator.lt, flt.due_before),
              (Task.priority, operator.ge, flt.min_priority), (Task.priority, operator.le, flt.max_priority))
    for column, compare, bound in bounds:
        if bound is not None:
            query = query.where(compare(column, bound))
    return query


def list_tasks(ctx: AppContext, *, actor: Actor, flt: TaskFilter, limit: int = 50,
               offset: int = 0) -> tuple[list[Task], int]:
    if flt.sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    query = task_query(actor, flt)
    column = SORTS[flt.sort]
    order = column.desc() if flt.descending else column.asc()
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(order.nulls_last(), Task.created_at, Task.id)
                               .limit(limit).offset(offset)).all()
        return list(rows), total


def count_tasks(ctx: AppContext, *, actor: Actor, flt: TaskFilter) -> int:
    with ctx.db.read() as session:
        return session.scalar(select(func.count()).select_from(task_query(actor, flt).subquery())) or 0


@dataclass
class TaskCounts:
    mine: int  # open, assigned to me
    groups: int  # open, unassigned, for one of my groups or me by name
    inbox: int  # both
    overdue: int  # inbox tasks past their due date


def inbox_counts(ctx: AppContext, *, actor: Actor) -> TaskCounts:
    """The inbox badges in one statement."""
    mine, groups = _mine_clause(actor), _groups_clause(actor)
    inbox = mine | groups

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (select(count(mine), count(groups), count(inbox), count(and_(inbox, Task.due_at < utcnow())))
             .where(Task.state == TaskState.OPEN))
    with ctx.db.read() as session:
        row = session.execute(query).one()
    return TaskCounts(*(int(v) for v in row))


def _mine_clause(actor: Actor) -> ColumnElement[bool]:
    return Task.assignee == actor.username


def _groups_clause(actor: Actor) -> ColumnElement[bool]:
    return Task.assignee.is_(None) & candidate_clause(actor)


@dataclass
class TaskDetail:
    task: Task
    data: dict[str, Any]


def get_task(ctx: AppContext, *, actor: Actor, task_id: str) -> TaskDetail:
    with ctx.db.read() as session:
        task = require_task_readable(actor, session.get(Task, task_id), task_id)
        instance = session.get(ProcessInstance, task.instance_id)
        return TaskDetail(task, dict(instance.variables) if instance else {})


def claim_task(ctx: AppContext, *, actor: Actor, task_id: str) -> Task:
    with ctx.db.transaction() as session:
        task = _open_task(session, actor, task_id)
        if task.assignee == actor.username:
            return task
        if task.assignee is not None:
            raise Conflict(f"task {task_id} is already claimed by {task.assignee}")
        if not may_work_task(actor, task):
            raise Forbidden(f"you are not a candidate for task {task_id}; a manager may assign it instead")
        _write_task(session, task, assignee=actor.username, claimed_at=utcnow())
        _task_event(session, task, EventKind.TASK_CLAIMED, actor)
        _touch(session, task)
        return task


def unclaim_task(ctx: AppContext, *, actor: Actor, task_id: str) -> Task:
    with ctx.db.transaction() as session:
        task = _open_task(session, actor, task_id)
        if task.assignee is None:
            return task
        if task.assignee != actor.username and not actor.sees_all_work:
            raise Forbidden(f"task {task_id} is claimed by {task.assignee}; only they or a manager may release it")
        previous = task.assignee
        _write_task(session, task, assignee=None, claimed_at=None)
        _task_event(session, task, EventKind.TASK_UNCLAIMED, actor, {"previous": previous})
        _touch(session, task)
        return task


def assign_task(ctx: AppContext, *, actor: Actor, task_id: str, assignee: str | None) -> Task:
    """Reassign (head of sales, admin): hand a stuck task to someone else, or back to the pool."""
    with ctx.db.transaction() as session:
        task = _open_task(session, actor, task_id)
        self_claim = assignee == actor.username and task.assignee is None and may_work_task(actor, task)
        if not self_claim and not actor.sees_all_work and assignee == actor.username and lost_race_for(actor, task):
            raise Conflict(f"task {task_id} is already claimed by {task.assignee}")
        if not self_claim:
            require_may_reassign(actor)
        if assignee is not None and not session.scalar(
                select(User.is_active).where(User.username == assignee)):
            raise InvalidInput(f"no active user {assignee!r} to assign the task to")
        previous = task.assignee
        if previous == assignee:
            return task
        _write_task(session, task, assignee=assignee, claimed_at=utcnow() if assignee else None)
        _task_event(session, task, EventKind.TASK_ASSIGNED, actor, {"previous": previous, "assignee": assignee})
        _touch(session, task)
        return task


def complete_task(ctx: AppContext, *, actor: Actor, task_id: str,
                  variables: dict[str, Any] | None = None) -> Task:
    variables = check_variables(variables or {}, max_bytes=ctx.settings.max_variables_bytes)
    with ctx.db.transaction() as session:
        task = _open_task(session, actor, task_id)
        if not may_work_task(actor, task):
            if lost_race_for(actor, task):
                raise Conflict(f"task {task_id} is already claimed by {task.assignee}")
            if task.assignee is not None:
                raise Forbidden(f"task {task_id} is claimed by {task.assignee}")
            raise Forbidden(f"you are not a candidate for task {task_id}")
        instance = session.get(ProcessInstance, task.instance_id)
        if instance is None:
            raise NotFound(f"process instance {task.instance_id} not found")
        variables = with_file_fields(session, task, variables)
        cleaned = validate_form(task.form, variables, current=instance.variables)
        now = utcnow()
        _write_task(session, task, state=TaskState.COMPLETED, completed_at=now, completed_by=actor.username,
                    assignee=task.assignee or actor.username, claimed_at=task.claimed_at or now)
        add_event(session, instance, EventKind.TASK_COMPLETED, actor=actor, at=now, task_id=task.id,
                  element_id=task.element_id, element_name=task.name, element_type="UserTask",
                  funnel_stage=task.funnel_stage, data={"variables": cleaned})
        advance(ctx, session, instance, runner.complete_task(task.id, cleaned), actor=actor)
        return task


def task_history(ctx: AppContext, *, actor: Actor, task_id: str) -> list[HistoryEvent]:
    """Who created, claimed, released, reassigned and completed the task, and when (oldest first)."""
    with ctx.db.read() as session:
        require_task_readable(actor, session.get(Task, task_id), task_id)
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.task_id == task_id)
                                    .order_by(HistoryEvent.id)))


def _open_task(session: Session, actor: Actor, task_id: str) -> Task:
    """The task to act on: 404/403 first (so nothing leaks to outsiders), then 409 unless it is open.
    Lock order (architecture.md): the instance row first, as the worker and messages take it, then the task
    row (read once the instance is ours, so what we check is what we change); so a request and a firing timer
    queue instead of deadlocking."""
    session.scalar(select(ProcessInstance).join(Task, Task.instance_id == ProcessInstance.id)
                   .where(Task.id == task_id).with_for_update(of=ProcessInstance))
    task = require_task_actionable(actor, session.get(Task, task_id), task_id)
    if task.state != TaskState.OPEN:
        raise Conflict(f"task {task_id} is already {task.state}")
    return task


def _write_task(session: Session, task: Task, **values: Any) -> None:
    """Claim, release, assign or complete as a guarded UPDATE: it only applies while the task is still open
    and held by whom we saw holding it, so of racing requests exactly one wins (two server processes on
    PostgreSQL included) and the others get 409."""
    seen = Task.assignee.is_(None) if task.assignee is None else Task.assignee == task.assignee
    result = session.execute(update(Task).where(Task.id == task.id, Task.state == TaskState.OPEN, seen)
                             .values(**values).execution_options(synchronize_session=False))
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise Conflict(f"task {task.id} was claimed, released or completed by another request at the same "
                       "time; reload it")
    for name, value in values.items():
        set_committed_value(task, name, value)


def _task_event(session: Session, task: Task, kind: EventKind, actor: Actor,
                data: dict[str, Any] | None = None) -> None:
    instance = session.get(ProcessInstance, task.instance_id)
    if instance is not None:
        add_event(session, instance, kind, actor=actor, task_id=task.id, element_id=task.element_id,
                  element_name=task.name, element_type="UserTask", funnel_stage=task.funnel_stage, data=data)


def _touch(session: Session, task: Task) -> None:
    """Claims change the instance's revision too, so a claim racing a completion is a conflict, not a mix."""
    instance = session.get(ProcessInstance, task.instance_id)
    if instance is not None:
        instance.updated_at = utcnow()
