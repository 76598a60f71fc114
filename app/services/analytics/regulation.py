"""Regulation: SLA breaches (boundary timers that fired, tasks finished or still open past their due time)
per stage and per manager, and escalations (tasks opened by an SLA timer, reassignments by a manager)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from app.auth.actor import Actor
from app.db.models import EventKind, HistoryEvent, ProcessInstance, Task, TaskState
from app.services.analytics.report import Report, Table
from app.services.analytics.scope import (
    Filters,
    Scope,
    in_period,
    instance_conditions,
    manager_deals,
    manager_tasks,
    resolve,
)
from app.services.analytics.sql import percentile_rows, rounded, seconds_between
from app.services.context import AppContext

UNASSIGNED = "(unassigned)"
STAGE_COLUMNS = ["stage", "sla_breaches", "overdue_completed", "overdue_open", "escalations",
                 "escalations_handled", "escalation_median_seconds", "reassignments"]
MANAGER_COLUMNS = ["manager", "sla_breaches", "overdue_completed", "overdue_open"]
TIMER_COLUMNS = ["element_id", "name", "guards", "stage", "fired"]


def sla(ctx: AppContext, *, actor: Actor, filters: Filters) -> Report:
    with ctx.db.read() as session:
        return sla_in(session, resolve(session, actor, filters))


def sla_in(session: Session, scope: Scope) -> Report:
    manager = scope.filters.manager
    breaches = _breaches(session, scope)
    overdue = _overdue(session, scope)
    escalations = _escalations(session, scope)
    reassignments = _reassignments(session, scope)
    stages = list(scope.model.stages)
    for stage in {*(r["stage"] for r in breaches), *(r["stage"] for r in overdue), *escalations, *reassignments}:
        if stage not in stages:
            stages.append(stage)
    stage_rows = []
    for stage in stages:
        esc = escalations.get(stage, {})
        stage_rows.append({
            "stage": stage,
            "sla_breaches": sum(r["count"] for r in breaches if r["stage"] == stage),
            "overdue_completed": sum(r["completed"] for r in overdue if r["stage"] == stage),
            "overdue_open": sum(r["open"] for r in overdue if r["stage"] == stage),
            "escalations": esc.get("created", 0), "escalations_handled": esc.get("handled", 0),
            "escalation_median_seconds": esc.get("median"), "reassignments": reassignments.get(stage, 0),
        })
    people: dict[str, dict[str, Any]] = {}
    for r in breaches:
        person = people.setdefault(r["manager"], {"manager": r["manager"], "sla_breaches": 0,
                                                  "overdue_completed": 0, "overdue_open": 0})
        person["sla_breaches"] += r["count"]
    for r in overdue:
        person = people.setdefault(r["manager"], {"manager": r["manager"], "sla_breaches": 0,
                                                  "overdue_completed": 0, "overdue_open": 0})
        person["overdue_completed"] += r["completed"]
        person["overdue_open"] += r["open"]
    if manager is not None:
        people = {k: v for k, v in people.items() if k == manager}
    manager_rows = sorted(people.values(), key=lambda p: (-(p["sla_breaches"] + p["overdue_completed"]
                                                            + p["overdue_open"]), p["manager"]))
    timers = scope.model.sla_timers()
    timer_rows = []
    for element_id, element in timers.items():
        guarded = scope.model.elements.get(element.attached_to or "")
        timer_rows.append({"element_id": element_id, "name": element.name,
                           "guards": guarded.name if guarded else element.attached_to,
                           "stage": guarded.stage if guarded else None,
                           "fired": sum(r["count"] for r in breaches if r["element_id"] == element_id)})
    summary = {"sla_breaches": sum(r["sla_breaches"] for r in stage_rows),
               "overdue": sum(r["overdue_completed"] + r["overdue_open"] for r in stage_rows),
               "escalations": sum(r["escalations"] for r in stage_rows),
               "reassignments": sum(r["reassignments"] for r in stage_rows)}
    return Report("sla", scope.filters.as_dict(),
                  {"stages": Table(STAGE_COLUMNS, stage_rows), "managers": Table(MANAGER_COLUMNS, manager_rows),
                   "timers": Table(TIMER_COLUMNS, timer_rows)}, summary)


def _breaches(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Boundary timers fired in the period, with the task they guard and who held it then."""
    timers = scope.model.sla_timers()
    if not timers:
        return []
    guarded = case({k: e.attached_to for k, e in timers.items()}, value=HistoryEvent.element_id)
    task = aliased(Task)
    held_by = func.coalesce(task.completed_by, task.assignee, literal(UNASSIGNED))
    query = (select(HistoryEvent.element_id, held_by.label("manager"), func.count().label("n"))
             .join(ProcessInstance, ProcessInstance.id == HistoryEvent.instance_id)
             .outerjoin(task, and_(task.instance_id == HistoryEvent.instance_id, task.element_id == guarded,
                                   task.created_at <= HistoryEvent.at,
                                   or_(task.completed_at.is_(None), task.completed_at >= HistoryEvent.at)))
             .where(HistoryEvent.kind == EventKind.TIMER_FIRED, HistoryEvent.element_id.in_(list(timers)),
                    *in_period(scope, HistoryEvent.at), *instance_conditions(scope))
             .group_by(HistoryEvent.element_id, held_by))
    if scope.filters.manager is not None:
        query = query.where(held_by == scope.filters.manager)
    rows = []
    for element_id, manager, count in session.execute(query):
        guarded_element = scope.model.elements.get(timers[element_id].attached_to or "")
        rows.append({"element_id": element_id, "manager": manager, "count": int(count),
                     "stage": guarded_element.stage if guarded_element else None})
    return rows


def _overdue(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Tasks due in the period that were completed after their due time, or are open past it now."""
    late_done = and_(Task.completed_at.is_not(None), Task.completed_at > Task.due_at,
                     Task.state == TaskState.COMPLETED)
    late_open = and_(Task.state == TaskState.OPEN, Task.due_at < scope.now)
    who = func.coalesce(Task.completed_by, Task.assignee, literal(UNASSIGNED))
    query = (select(Task.funnel_stage, who.label("manager"),
                    func.coalesce(func.sum(case((late_done, 1), else_=0)), 0),
                    func.coalesce(func.sum(case((late_open, 1), else_=0)), 0))
             .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
             .where(Task.definition_key == scope.filters.definition_key, Task.due_at.is_not(None),
                    or_(late_done, late_open), *in_period(scope, Task.due_at), *instance_conditions(scope))
             .group_by(Task.funnel_stage, who))
    if scope.filters.manager is not None:
        query = query.where(manager_tasks(scope.filters.manager))
    return [{"stage": stage, "manager": manager, "completed": int(done), "open": int(still)}
            for stage, manager, done, still in session.execute(query)]


def _escalations(session: Session, scope: Scope) -> dict[str, dict[str, Any]]:
    """Escalation tasks (opened by an SLA timer) created in the period, per stage of the escalation."""
    elements = sorted(scope.model.escalations())
    if not elements:
        return {}
    conditions = [Task.definition_key == scope.filters.definition_key, Task.element_id.in_(elements),
                  *in_period(scope, Task.created_at), *instance_conditions(scope)]
    if scope.filters.manager is not None:
        conditions.append(manager_deals(scope.filters.manager))
    counts = session.execute(
        select(Task.funnel_stage, func.count(),
               func.coalesce(func.sum(case((Task.state == TaskState.COMPLETED, 1), else_=0)), 0))
        .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
        .where(*conditions).group_by(Task.funnel_stage)).all()
    handled = (select(Task.funnel_stage.label("stage"),
                      seconds_between(scope.dialect, Task.created_at, Task.completed_at).label("seconds"))
               .join(ProcessInstance, ProcessInstance.id == Task.instance_id)
               .where(*conditions, Task.state == TaskState.COMPLETED))
    medians = {r["stage"]: r["seconds_p50"] for r in percentile_rows(session, handled, ["stage"], ["seconds"])}
    return {stage: {"created": int(n), "handled": int(done), "median": rounded(medians.get(stage))}
            for stage, n, done in counts}


def _reassignments(session: Session, scope: Scope) -> dict[str, int]:
    """Tasks a manager handed to someone else (or back to the pool): `task_assigned` not done to oneself."""
    assignee = HistoryEvent.data["assignee"].as_string()
    conditions = [HistoryEvent.kind == EventKind.TASK_ASSIGNED,
                  or_(assignee.is_(None), assignee != HistoryEvent.actor),
                  *in_period(scope, HistoryEvent.at), *instance_conditions(scope)]
    if scope.filters.manager is not None:
        conditions.append(manager_deals(scope.filters.manager))
    return {stage: int(n) for stage, n in session.execute(
        select(HistoryEvent.funnel_stage, func.count())
        .join(ProcessInstance, ProcessInstance.id == HistoryEvent.instance_id)
        .where(*conditions).group_by(HistoryEvent.funnel_stage))}
