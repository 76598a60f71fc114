"""Authorization rules, checked in the service layer so every API (native, Camunda, UI) gets the same answer.

Tasks: read, claim and complete by the assignee, or while unassigned by a candidate (member of a candidate
group, or a candidate user). Head of sales and admins read every task and reassign. Admins may also work any
unassigned task: they manage groups and could make themselves candidates anyway, so refusing would only add
friction, not safety. A task of another role is 404 to readers (its existence is none of their business);
acting on it is a 403 that names no groups or people.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement, and_, exists, or_, select, true

from app.auth.actor import Actor
from app.db.models import (
    CandidateKind,
    HistoryEvent,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskCandidate,
    TaskState,
)
from app.errors import Forbidden, NotFound


def is_candidate(actor: Actor, task: Task) -> bool:
    """Named by the task's candidate groups or users (whoever holds it now)."""
    return bool(actor.groups.intersection(task.candidate_groups)) or actor.username in task.candidate_users


def may_work_task(actor: Actor, task: Task) -> bool:
    """Claim or complete: the assignee, or while unassigned a candidate or an admin (security.md). The head
    of sales is not a candidate by rank: they reassign a task (to themselves too) and then work it."""
    if task.assignee is not None:
        return task.assignee == actor.username
    return actor.is_admin or is_candidate(actor, task)


def lost_race_for(actor: Actor, task: Task) -> bool:
    """Someone else holds a task this actor could have worked while it was free: a 409 (state), not a 403."""
    return task.assignee not in (None, actor.username) and (actor.is_admin or is_candidate(actor, task))


def may_read_task(actor: Actor, task: Task) -> bool:
    if actor.sees_all_work or task.assignee == actor.username or task.completed_by == actor.username:
        return True
    return task.assignee is None and task.state == TaskState.OPEN and is_candidate(actor, task)


def require_task_readable(actor: Actor, task: Task | None, task_id: str) -> Task:
    # 404 rather than 403: a task of another role is none of this user's business, not even its existence.
    if task is None or not may_read_task(actor, task):
        raise NotFound(f"task {task_id} not found")
    return task


def require_task_actionable(actor: Actor, task: Task | None, task_id: str) -> Task:
    """Before claim/unclaim/assign/complete: 404 when there is no such task; 403, naming nobody, when the actor
    neither may read it nor is one of its candidates. Readers and candidates get on to the precise answer
    (already claimed, already completed) from the caller."""
    if task is None:
        raise NotFound(f"task {task_id} not found")
    if not (may_read_task(actor, task) or is_candidate(actor, task)):
        raise Forbidden(f"you may not work on task {task_id}")
    return task


def visible_tasks_clause(actor: Actor) -> ColumnElement[bool]:
    """SQL filter for the tasks `actor` may see in lists, counts and search (same rule as may_read_task)."""
    if actor.sees_all_work:
        return true()
    return or_(
        Task.assignee == actor.username,
        Task.completed_by == actor.username,
        and_(Task.assignee.is_(None), Task.state == TaskState.OPEN, candidate_clause(actor)),
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


def require_may_reassign(actor: Actor) -> None:
    if not actor.sees_all_work:
        raise Forbidden("reassigning tasks requires the head_of_sales or admin role")


def may_start(actor: Actor, definition: ProcessDefinition) -> bool:
    """Open to every authenticated user unless the model names candidateStarterGroups/Users."""
    groups: Iterable[str] = definition.candidate_starter_groups or []
    users: Iterable[str] = definition.candidate_starter_users or []
    if actor.is_admin or not (list(groups) or list(users)):
        return True
    return bool(actor.groups.intersection(groups)) or actor.username in users


def require_may_start(actor: Actor, definition: ProcessDefinition) -> None:
    if not may_start(actor, definition):
        raise Forbidden(f"starting {definition.key!r} is limited to the groups "
                        f"{', '.join(definition.candidate_starter_groups) or '(none)'} "
                        "and the users named in the model")
