"""The funnel: how many deals reached each stage, how many are there now, how many were lost there and why,
and the conversion between consecutive stages and overall."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import InstanceStatus, ProcessInstance, StageVisit
from app.services.analytics.report import Report, Table
from app.services.analytics.scope import Filters, Scope, deal_conditions, resolve
from app.services.context import AppContext

COLUMNS = ["stage", "reached", "current", "lost", "conversion", "conversion_from_first", "lost_reasons"]


def funnel(ctx: AppContext, *, actor: Actor, filters: Filters) -> Report:
    with ctx.db.read() as session:
        return funnel_in(session, resolve(session, actor, filters))


def funnel_in(session: Session, scope: Scope) -> Report:
    stages = scope.model.stages
    conditions = deal_conditions(scope)
    reached = _reached(session, scope, conditions)
    current = dict(session.execute(
        select(ProcessInstance.funnel_stage, func.count())
        .where(*conditions, ProcessInstance.status == InstanceStatus.RUNNING)
        .group_by(ProcessInstance.funnel_stage)).all())
    lost_rows = session.execute(
        select(ProcessInstance.funnel_stage, ProcessInstance.lost_reason, func.count())
        .where(*conditions, ProcessInstance.outcome == "lost")
        .group_by(ProcessInstance.funnel_stage, ProcessInstance.lost_reason)).all()
    totals = session.execute(select(
        func.count(),
        func.coalesce(func.sum(case((ProcessInstance.outcome == "won", 1), else_=0)), 0),
        func.coalesce(func.sum(case((ProcessInstance.outcome == "lost", 1), else_=0)), 0),
        func.coalesce(func.sum(case((ProcessInstance.status == InstanceStatus.RUNNING, 1), else_=0)), 0),
        func.coalesce(func.sum(case((ProcessInstance.status == InstanceStatus.TERMINATED, 1), else_=0)), 0),
    ).where(*conditions)).one()
    lost: dict[str, dict[str, int]] = {}
    for stage, reason, count in lost_rows:
        lost.setdefault(stage, {})[reason or "(not given)"] = count
    rows: list[dict[str, Any]] = []
    first = reached.get(stages[0], 0) if stages else 0
    previous: int | None = None
    for stage in stages:
        count = reached.get(stage, 0)
        reasons = dict(sorted(lost.get(stage, {}).items(), key=lambda kv: (-kv[1], kv[0])))
        rows.append({
            "stage": stage, "reached": count, "current": current.get(stage, 0),
            "lost": sum(reasons.values()),
            "conversion": _ratio(count, previous) if previous is not None else None,
            "conversion_from_first": _ratio(count, first),
            "lost_reasons": reasons,
        })
        previous = count
    deals, won, lost_total, running, terminated = (int(v) for v in totals)
    summary = {
        "deals": deals, "won": won, "lost": lost_total, "running": running, "terminated": terminated,
        "overall_conversion": _ratio(won, deals),
        "win_rate": _ratio(won, won + lost_total),
        "stage_conversion": _ratio(reached.get(stages[-1], 0), first) if stages else None,
    }
    reason_rows = [{"stage": stage, "reason": reason, "deals": n}
                   for stage in [*stages, *sorted(set(lost) - set(stages), key=str)]
                   for reason, n in sorted(lost.get(stage, {}).items(), key=lambda kv: (-kv[1], kv[0]))]
    return Report("funnel", scope.filters.as_dict(),
                  {"stages": Table(COLUMNS, rows),
                   "lost_reasons": Table(["stage", "reason", "deals"], reason_rows)}, summary)


def _reached(session: Session, scope: Scope, conditions: list[Any]) -> dict[str, int]:
    """Deals whose furthest stage is this one or a later one: the funnel never widens, even for a deal that
    skipped a stage (a key client's own path, say)."""
    stages = scope.model.stages
    if not stages:
        return {}
    rank = case({stage: index for index, stage in enumerate(stages)}, value=StageVisit.stage)
    furthest = (select(StageVisit.instance_id, func.max(rank).label("furthest"))
                .join(ProcessInstance, ProcessInstance.id == StageVisit.instance_id)
                .where(*conditions, StageVisit.stage.in_(stages))
                .group_by(StageVisit.instance_id).subquery())
    counts = dict(session.execute(select(furthest.c.furthest, func.count()).group_by(furthest.c.furthest)).all())
    reached: dict[str, int] = {}
    running = 0
    for index in range(len(stages) - 1, -1, -1):
        running += int(counts.get(index, 0))
        reached[stages[index]] = running
    return reached


def _ratio(part: int, whole: int | None) -> float | None:
    return round(part / whole, 4) if whole else None
