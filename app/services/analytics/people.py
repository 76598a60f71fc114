"""People: per user and per role, tasks completed, deals won and lost, conversion, median handling time,
overdue tasks, and the share of working time spent on auxiliary work against the 50 % limit of the
regulation ("на вспомогательные направления ... не больше 50 % рабочего времени")."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import (
    CandidateKind,
    Group,
    ProcessInstance,
    Task,
    TaskCandidate,
    TaskState,
    User,
    membership,
)
from app.services.analytics.report import Report, Table
from app.services.analytics.scope import Filters, Scope, in_period, instance_conditions, resolve
from app.services.analytics.sql import percentile_rows, rounded, seconds_between
from app.services.analytics.timing import task_conditions
from app.services.context import AppContext

AUXILIARY_LIMIT = 0.5
COLUMNS = ["tasks_completed", "deals_won", "deals_lost", "conversion", "handling_median_seconds",
           "overdue", "main_seconds", "auxiliary_seconds", "auxiliary_share", "over_auxiliary_limit"]
USER_COLUMNS = ["username", "display_name", "roles", *COLUMNS]
ROLE_COLUMNS = ["role", *COLUMNS]


def people(ctx: AppContext, *, actor: Actor, filters: Filters) -> Report:
    with ctx.db.read() as session:
        return people_in(session, resolve(session, actor, filters))


def people_in(session: Session, scope: Scope) -> Report:
    users = _figures(session, scope, Task.completed_by, by_role=False)
    names = {}
    roles: dict[str, list[str]] = {}
    if users:
        names = dict(session.execute(select(User.username, User.display_name)
                                     .where(User.username.in_(list(users)))).all())
        for username, group in session.execute(
                select(User.username, Group.id).join(membership, membership.c.user_id == User.id)
                .join(Group, Group.id == membership.c.group_id).where(User.username.in_(list(users)))
                .order_by(Group.id)):
            roles.setdefault(username, []).append(group)
    user_rows = [{"username": u, "display_name": names.get(u), "roles": roles.get(u, []), **f}
                 for u, f in sorted(users.items())]
    tables = {"users": Table(USER_COLUMNS, user_rows)}
    if scope.sees_all:  # a role's totals hold other people's numbers
        role_figures = _figures(session, scope, TaskCandidate.name, by_role=True)
        tables["roles"] = Table(ROLE_COLUMNS, [{"role": r, **f} for r, f in sorted(role_figures.items())])
    summary = {"auxiliary_limit": AUXILIARY_LIMIT,
               "over_auxiliary_limit": [r["username"] for r in user_rows if r["over_auxiliary_limit"]]}
    return Report("people", scope.filters.as_dict(), tables, summary)


def _figures(session: Session, scope: Scope, key: Any, *, by_role: bool) -> dict[str, dict[str, Any]]:
    """Figures keyed by the person who completed the task, or by the task's candidate group (the role)."""
    d = scope.dialect
    claimed = func.coalesce(Task.claimed_at, Task.completed_at)
    work = seconds_between(d, claimed, Task.completed_at)

    def tasks(*columns: Any) -> Any:
        query = select(*columns).select_from(Task).where(*task_conditions(scope), Task.completed_by.is_not(None))
        if by_role:
            query = query.join(TaskCandidate, and_(TaskCandidate.task_id == Task.id,
                                                   TaskCandidate.kind == CandidateKind.GROUP))
        return query

    totals = session.execute(tasks(
        key.label("k"), func.count(),
        func.coalesce(func.sum(case((Task.work_kind == "main", work), else_=0.0)), 0.0),
        func.coalesce(func.sum(case((Task.work_kind == "auxiliary", work), else_=0.0)), 0.0),
        func.coalesce(func.sum(case((and_(Task.due_at.is_not(None), Task.completed_at > Task.due_at), 1),
                                    else_=0)), 0),
    ).group_by(key)).all()
    handling = {r["k"]: r["work_p50"] for r in percentile_rows(
        session, tasks(key.label("k"), work.label("work")), ["k"], ["work"])}
    deals = _deals(session, scope, key, by_role=by_role)
    open_overdue = _open_overdue(session, scope, key, by_role=by_role)
    figures: dict[str, dict[str, Any]] = {}
    for k, completed, main, auxiliary, overdue in totals:
        won, lost = deals.get(k, (0, 0))
        main, auxiliary = float(main), float(auxiliary)
        share = auxiliary / (main + auxiliary) if main + auxiliary > 0 else None
        figures[k] = {
            "tasks_completed": int(completed), "deals_won": won, "deals_lost": lost,
            "conversion": round(won / (won + lost), 4) if won + lost else None,
            "handling_median_seconds": rounded(handling.get(k)),
            "overdue": int(overdue) + open_overdue.pop(k, 0),
            "main_seconds": rounded(main), "auxiliary_seconds": rounded(auxiliary),
            "auxiliary_share": round(share, 4) if share is not None else None,
            "over_auxiliary_limit": share is not None and share > AUXILIARY_LIMIT,
        }
    for k, overdue in open_overdue.items():
        won, lost = deals.get(k, (0, 0))
        figures[k] = {"tasks_completed": 0, "deals_won": won, "deals_lost": lost,
                      "conversion": round(won / (won + lost), 4) if won + lost else None,
                      "handling_median_seconds": None, "overdue": overdue, "main_seconds": 0.0,
                      "auxiliary_seconds": 0.0, "auxiliary_share": None, "over_auxiliary_limit": False}
    return figures


def _deals(session: Session, scope: Scope, key: Any, *, by_role: bool) -> dict[str, tuple[int, int]]:
    """Deals that ended in the period, won or lost, on which the person (the role) completed a task. Starts
    from the ended deals, so a period reads only their tasks (through the task's instance index)."""
    ended = (select(ProcessInstance.id.label("id"), ProcessInstance.outcome.label("outcome"))
             .where(*instance_conditions(scope), ProcessInstance.outcome.in_(["won", "lost"]),
                    *in_period(scope, ProcessInstance.ended_at)).subquery())
    worked = (select(key.label("k"), ended.c.id.label("instance_id"), ended.c.outcome.label("outcome"))
              .select_from(ended).join(Task, Task.instance_id == ended.c.id)
              .where(Task.state == TaskState.COMPLETED, Task.completed_by.is_not(None)))
    if by_role:
        worked = worked.join(TaskCandidate, and_(TaskCandidate.task_id == Task.id,
                                                 TaskCandidate.kind == CandidateKind.GROUP))
    if scope.filters.manager is not None:
        worked = worked.where(Task.completed_by == scope.filters.manager)
    pairs = worked.distinct().subquery()
    rows = session.execute(
        select(pairs.c.k, func.coalesce(func.sum(case((pairs.c.outcome == "won", 1), else_=0)), 0),
               func.coalesce(func.sum(case((pairs.c.outcome == "lost", 1), else_=0)), 0))
        .group_by(pairs.c.k)).all()
    return {k: (int(won), int(lost)) for k, won, lost in rows}


def _open_overdue(session: Session, scope: Scope, key: Any, *, by_role: bool) -> dict[str, int]:
    """Open tasks held past their due time now (for roles: open tasks of the role past due)."""
    holder = Task.assignee if not by_role else key
    query = (select(holder.label("k"), func.count()).select_from(Task)
             .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
             .where(Task.definition_key == scope.filters.definition_key, Task.state == TaskState.OPEN,
                    Task.due_at.is_not(None), Task.due_at < scope.now, *instance_conditions(scope)))
    if by_role:
        query = query.join(TaskCandidate, and_(TaskCandidate.task_id == Task.id,
                                               TaskCandidate.kind == CandidateKind.GROUP))
    else:
        query = query.where(Task.assignee.is_not(None))
    if scope.filters.manager is not None:
        query = query.where(Task.assignee == scope.filters.manager)
    return {k: int(n) for k, n in session.execute(query.group_by(holder))}


