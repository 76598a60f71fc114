"""Authorization rules, checked in the service layer so every API (native, Camunda, UI) gets the same answer."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from app.auth.actor import Actor
from app.db.models import CandidateKind, HistoryEvent, ProcessDefinition, ProcessInstance, Task, TaskCandidate
from app.errors import Forbidden, NotFound


def may_work_task(actor: Actor, task: Task) -> bool:
    """Claim or complete: the assignee, or while unassigned a candidate (group member or named user)."""
    if task.assignee is not None:
        return task.assignee == actor.username
    return is_candidate(actor, task)


def is_candidate(actor: Actor, task: Task) -> bool:
    return bool(actor.groups.intersection(task.candidate_groups)) or actor.username in task.candidate_users


def may_read_task(actor: Actor, task: Task) -> bool:
    if actor.sees_all_work or task.assignee == actor.username or task.completed_by == actor.username:
        return True
    return task.assignee is None and is_candidate(actor, task)


def require_task_readable(actor: Actor, task: Task | None, task_id: str) -> Task:
    # 404 rather than 403: a task of another role is none of this user's business, not even its existence.
    if task is None or not may_read_task(actor, task):
        raise NotFound(f"task {task_id} not found")
    return task


def visible_tasks_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL filter for the tasks `actor` may see in lists and counts."""
    if actor.sees_all_work:
        return true()
    return or_(
        Task.assignee == actor.username,
        Task.completed_by == actor.username,
        and_(Task.assignee.is_(None), candidate_clause(actor)),
    )


def candidate_clause(actor: Actor) -> ColumnElement[bool]:
    conditions = [and_(TaskCandidate.kind == CandidateKind.USER, TaskCandidate.name == actor.username)]
    if actor.groups:
        conditions.append(and_(TaskCandidate.kind == CandidateKind.GROUP, TaskCandidate.name.in_(actor.groups)))
    return exists(select(TaskCandidate.task_id).where(TaskCandidate.task_id == Task.id, or_(*conditions)))


def visible_instances_clause(actor: Actor) -> ColumnElement[bool]:
    """Instances visible to who started them, who worked or can work one of their tasks, and managers."""
    if actor.sees_all_work:
        return true()
    involved = exists(
        select(Task.id).where(Task.instance_id == ProcessInstance.id, visible_tasks_clause(actor))
    )
    acted = exists(
        select(HistoryEvent.id).where(HistoryEvent.instance_id == ProcessInstance.id,
                                      HistoryEvent.actor == actor.username)
    )
    return or_(ProcessInstance.started_by == actor.username, involved, acted)


def require_can_deploy(actor: Actor) -> None:
    if not actor.can_deploy:
        raise Forbidden("deploying models requires the designer or admin role")


def require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("this action requires the admin role")


def may_start(actor: Actor, definition: ProcessDefinition) -> bool:
    groups: Iterable[str] = definition.candidate_starter_groups or []
    users: Iterable[str] = definition.candidate_starter_users or []
    if actor.is_admin or not (list(groups) or list(users)):
        return True
    return bool(actor.groups.intersection(groups)) or actor.username in users


def require_may_start(actor: Actor, definition: ProcessDefinition) -> None:
    if not may_start(actor, definition):
        raise Forbidden(f"starting {definition.key!r} is limited to the groups "
                        f"{', '.join(definition.candidate_starter_groups)}")


def nothing() -> ColumnElement[bool]:
    return false()
