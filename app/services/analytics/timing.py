"""Time: how long deals stay in each funnel stage, how long each task waits for a claim and is worked on,
the cycle time from lead to payment, and the slowest steps ranked (bottlenecks)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, literal, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import InstanceStatus, ProcessInstance, StageVisit, Task, TaskState
from app.services.analytics.report import Report, Table
from app.services.analytics.scope import (
    Filters,
    Scope,
    deal_conditions,
    in_period,
    instance_conditions,
    manager_tasks,
    needs_instance,
    resolve,
)
from app.services.analytics.sql import percentile_rows, rounded, seconds_between
from app.services.context import AppContext

STAGE_COLUMNS = ["stage", "deals", "median_seconds", "p90_seconds", "mean_seconds", "in_stage_now"]
TASK_COLUMNS = ["element_id", "name", "stage", "work_kind", "completed",
                "wait_median_seconds", "wait_p90_seconds", "work_median_seconds", "work_p90_seconds",
                "total_median_seconds", "total_p90_seconds"]
BOTTLENECK_COLUMNS = ["rank", "element_id", "name", "stage", "completed", "total_median_seconds",
                      "total_p90_seconds", "wait_median_seconds", "work_median_seconds", "mostly", "open_now",
                      "oldest_open_seconds"]
PAYMENT_STAGE = "paid"


def stage_times(ctx: AppContext, *, actor: Actor, filters: Filters) -> Report:
    with ctx.db.read() as session:
        return stage_times_in(session, resolve(session, actor, filters))


def task_times(ctx: AppContext, *, actor: Actor, filters: Filters) -> Report:
    with ctx.db.read() as session:
        scope = resolve(session, actor, filters)
        return Report("task-times", scope.filters.as_dict(),
                      {"tasks": Table(TASK_COLUMNS, task_rows(session, scope))})


def bottlenecks(ctx: AppContext, *, actor: Actor, filters: Filters, limit: int = 10) -> Report:
    with ctx.db.read() as session:
        scope = resolve(session, actor, filters)
        return Report("bottlenecks", scope.filters.as_dict(),
                      {"bottlenecks": Table(BOTTLENECK_COLUMNS, bottleneck_rows(session, scope, limit))})


def stage_times_in(session: Session, scope: Scope) -> Report:
    """Time in stage per deal (all its stays in that stage added up), for stays that are over: the deal moved
    on or ended. Deals still in a stage are counted in `in_stage_now`, not in the times."""
    conditions = deal_conditions(scope)
    left = func.coalesce(StageVisit.left_at, ProcessInstance.ended_at)
    per_deal = (select(StageVisit.stage.label("stage"),
                       func.sum(seconds_between(scope.dialect, StageVisit.entered_at, left)).label("seconds"))
                .join(ProcessInstance, ProcessInstance.id == StageVisit.instance_id)
                .where(*conditions, left.is_not(None))
                .group_by(StageVisit.instance_id, StageVisit.stage))
    figures = {r["stage"]: r for r in percentile_rows(session, per_deal, ["stage"], ["seconds"])}
    now_in = dict(session.execute(
        select(ProcessInstance.funnel_stage, func.count())
        .where(*conditions, ProcessInstance.status == InstanceStatus.RUNNING)
        .group_by(ProcessInstance.funnel_stage)).all())
    stages = list(scope.model.stages) + sorted(set(figures) - set(scope.model.stages))
    rows = []
    for stage in stages:
        f = figures.get(stage, {})
        rows.append({"stage": stage, "deals": int(f.get("seconds_n") or 0),
                     "median_seconds": rounded(f.get("seconds_p50")), "p90_seconds": rounded(f.get("seconds_p90")),
                     "mean_seconds": rounded(f.get("seconds_avg")), "in_stage_now": int(now_in.get(stage, 0))})
    return Report("stage-times", scope.filters.as_dict(), {"stages": Table(STAGE_COLUMNS, rows)},
                  {"cycle_time": cycle_time(session, scope), "won_cycle_time": won_cycle_time(session, scope)})


def cycle_time(session: Session, scope: Scope) -> dict[str, Any]:
    """From the lead (the deal's start) to the first entry into the payment stage ('paid', else the last)."""
    stages = scope.model.stages
    target = PAYMENT_STAGE if PAYMENT_STAGE in stages else (stages[-1] if stages else PAYMENT_STAGE)
    per_deal = (select(literal(1).label("all"),
                       seconds_between(scope.dialect, ProcessInstance.started_at,
                                       func.min(StageVisit.entered_at)).label("seconds"))
                .select_from(StageVisit)
                .join(ProcessInstance, ProcessInstance.id == StageVisit.instance_id)
                .where(*deal_conditions(scope), StageVisit.stage == target)
                .group_by(StageVisit.instance_id, ProcessInstance.started_at))
    return _summary(percentile_rows(session, per_deal, ["all"], ["seconds"]), to_stage=target)


def won_cycle_time(session: Session, scope: Scope) -> dict[str, Any]:
    """From the lead to the end of a won deal."""
    per_deal = select(literal(1).label("all"),
                      seconds_between(scope.dialect, ProcessInstance.started_at,
                                      ProcessInstance.ended_at).label("seconds")
                      ).where(*deal_conditions(scope), ProcessInstance.outcome == "won")
    return _summary(percentile_rows(session, per_deal, ["all"], ["seconds"]))


def _summary(rows: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    row = rows[0] if rows else {}
    return {**extra, "deals": int(row.get("seconds_n") or 0), "median_seconds": rounded(row.get("seconds_p50")),
            "p90_seconds": rounded(row.get("seconds_p90"))}


def task_conditions(scope: Scope) -> list[Any]:
    """Completed tasks of the selected deals, completed in the period (the manager's own, with a manager)."""
    conditions = [Task.definition_key == scope.filters.definition_key, Task.state == TaskState.COMPLETED,
                  *in_period(scope, Task.completed_at)]
    if needs_instance(scope):  # else the task's own definition key is enough: no join with the instances
        conditions.append(Task.instance_id.in_(select(ProcessInstance.id).where(*instance_conditions(scope))))
    if scope.filters.manager is not None:
        conditions.append(Task.completed_by == scope.filters.manager)
    return conditions


def task_rows(session: Session, scope: Scope) -> list[dict[str, Any]]:
    """Per task element: waiting for a claim (created -> claimed) and working (claimed -> completed)."""
    d = scope.dialect
    claimed = func.coalesce(Task.claimed_at, Task.completed_at)
    per_task = (select(Task.element_id.label("element_id"),
                       seconds_between(d, Task.created_at, claimed).label("wait"),
                       seconds_between(d, claimed, Task.completed_at).label("work"),
                       seconds_between(d, Task.created_at, Task.completed_at).label("total"))
                .where(*task_conditions(scope)))
    figures = percentile_rows(session, per_task, ["element_id"], ["wait", "work", "total"])
    rows = []
    for f in figures:
        element = scope.model.elements.get(f["element_id"])
        rows.append({
            "element_id": f["element_id"], "name": element.name if element else None,
            "stage": element.stage if element else None, "work_kind": element.work_kind if element else None,
            "completed": int(f["total_n"] or 0),
            "wait_median_seconds": rounded(f["wait_p50"]), "wait_p90_seconds": rounded(f["wait_p90"]),
            "work_median_seconds": rounded(f["work_p50"]), "work_p90_seconds": rounded(f["work_p90"]),
            "total_median_seconds": rounded(f["total_p50"]), "total_p90_seconds": rounded(f["total_p90"]),
        })
    order = {e: i for i, e in enumerate(scope.model.elements)}
    rows.sort(key=lambda r: (order.get(r["element_id"], len(order)), r["element_id"]))
    return rows


def bottleneck_rows(session: Session, scope: Scope, limit: int) -> list[dict[str, Any]]:
    """The slowest steps: by median time from a task's creation to its completion, with what is open now."""
    rows = task_rows(session, scope)
    open_conditions = [Task.definition_key == scope.filters.definition_key, Task.state == TaskState.OPEN]
    if needs_instance(scope):
        open_conditions.append(Task.instance_id.in_(select(ProcessInstance.id).where(*instance_conditions(scope))))
    if scope.filters.manager is not None:
        open_conditions.append(and_(manager_tasks(scope.filters.manager)))
    open_now = {r.element_id: r for r in session.execute(
        select(Task.element_id, func.count().label("n"), func.min(Task.created_at).label("oldest"))
        .where(*open_conditions).group_by(Task.element_id)).all()}
    by_element = {r["element_id"]: r for r in rows}
    for element_id in set(open_now) - set(by_element):
        element = scope.model.elements.get(element_id)
        by_element[element_id] = {"element_id": element_id, "name": element.name if element else None,
                                  "stage": element.stage if element else None, "completed": 0,
                                  "total_median_seconds": None, "total_p90_seconds": None,
                                  "wait_median_seconds": None, "work_median_seconds": None}
    ranked = []
    for element_id, row in by_element.items():
        waiting = open_now.get(element_id)
        oldest = (scope.now - waiting.oldest).total_seconds() if waiting is not None else None
        wait, work = row.get("wait_median_seconds"), row.get("work_median_seconds")
        ranked.append({
            "element_id": element_id, "name": row["name"], "stage": row["stage"], "completed": row["completed"],
            "total_median_seconds": row["total_median_seconds"], "total_p90_seconds": row["total_p90_seconds"],
            "wait_median_seconds": wait, "work_median_seconds": work,
            "mostly": None if wait is None or work is None else ("waiting" if wait > work else "working"),
            "open_now": waiting.n if waiting is not None else 0,
            "oldest_open_seconds": rounded(oldest),
        })
    ranked.sort(key=lambda r: (-(r["total_median_seconds"] or 0), -(r["oldest_open_seconds"] or 0),
                               r["element_id"]))
    for index, row in enumerate(ranked[:limit], start=1):
        row["rank"] = index
    return ranked[:limit]
