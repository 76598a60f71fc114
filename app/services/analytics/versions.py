"""Versions side by side: did a changed regulation change results? The funnel, the time in stage, the cycle
time, SLA breaches and the auxiliary share of two versions of one definition, with the difference."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import ProcessDefinition, ProcessInstance, Task
from app.errors import Problem, ValidationFailed
from app.services.analytics.funnel import funnel_in
from app.services.analytics.regulation import sla_in
from app.services.analytics.report import Report, Table
from app.services.analytics.scope import Filters, Scope, instance_conditions, manager_deals, resolve, validate
from app.services.analytics.sql import seconds_between
from app.services.analytics.timing import stage_times_in, task_conditions
from app.services.context import AppContext

FIGURE_COLUMNS = ["figure", "a", "b", "change"]
STAGE_COLUMNS = ["stage", "reached_a", "reached_b", "conversion_a", "conversion_b", "median_seconds_a",
                 "median_seconds_b", "p90_seconds_a", "p90_seconds_b"]


def compare_versions(ctx: AppContext, *, actor: Actor, filters: Filters, a: int | None = None,
                     b: int | None = None) -> Report:
    """Version `a` against version `b` (default: the two latest) for the same period and filters."""
    filters = validate(filters)
    with ctx.db.read() as session:
        a, b = _pick(session, filters.definition_key, a, b)
        sides = [_side(session, actor, replace(filters, version=v)) for v in (a, b)]
    (fa, ta, sa, pa, ma), (fb, tb, sb, pb, mb) = sides
    stage_names = list(dict.fromkeys([r["stage"] for r in fa.tables["stages"].rows]
                                     + [r["stage"] for r in fb.tables["stages"].rows]))

    def by_stage(report: Report, name: str) -> dict[str, dict[str, Any]]:
        return {r["stage"]: r for r in report.tables[name].rows}

    fa_s, fb_s, ta_s, tb_s = by_stage(fa, "stages"), by_stage(fb, "stages"), by_stage(ta, "stages"), by_stage(
        tb, "stages")
    stage_rows = [{
        "stage": s,
        "reached_a": fa_s.get(s, {}).get("reached", 0), "reached_b": fb_s.get(s, {}).get("reached", 0),
        "conversion_a": fa_s.get(s, {}).get("conversion"), "conversion_b": fb_s.get(s, {}).get("conversion"),
        "median_seconds_a": ta_s.get(s, {}).get("median_seconds"),
        "median_seconds_b": tb_s.get(s, {}).get("median_seconds"),
        "p90_seconds_a": ta_s.get(s, {}).get("p90_seconds"), "p90_seconds_b": tb_s.get(s, {}).get("p90_seconds"),
    } for s in stage_names]
    figures = [
        ("deals", fa.summary["deals"], fb.summary["deals"]),
        ("deals_migrated_in", ma, mb),
        ("deals_started_on_version", fa.summary["deals"] - ma, fb.summary["deals"] - mb),
        ("won", fa.summary["won"], fb.summary["won"]),
        ("lost", fa.summary["lost"], fb.summary["lost"]),
        ("overall_conversion", fa.summary["overall_conversion"], fb.summary["overall_conversion"]),
        ("win_rate", fa.summary["win_rate"], fb.summary["win_rate"]),
        ("cycle_time_median_seconds", ta.summary["cycle_time"]["median_seconds"],
         tb.summary["cycle_time"]["median_seconds"]),
        ("cycle_time_p90_seconds", ta.summary["cycle_time"]["p90_seconds"], tb.summary["cycle_time"]["p90_seconds"]),
        ("sla_breaches", sa.summary["sla_breaches"], sb.summary["sla_breaches"]),
        ("overdue_tasks", sa.summary["overdue"], sb.summary["overdue"]),
        ("escalations", sa.summary["escalations"], sb.summary["escalations"]),
        ("auxiliary_share", pa, pb),
    ]
    figure_rows = [{"figure": name, "a": va, "b": vb, "change": _change(va, vb)} for name, va, vb in figures]
    applied = fa.filters | {"version": None}
    return Report("versions", applied, {"figures": Table(FIGURE_COLUMNS, figure_rows),
                                        "stages": Table(STAGE_COLUMNS, stage_rows)},
                  {"a": a, "b": b})


def _side(session: Session, actor: Actor, filters: Filters
          ) -> tuple[Report, Report, Report, float | None, int]:
    scope = resolve(session, actor, filters)
    return funnel_in(session, scope), stage_times_in(session, scope), sla_in(session, scope), _aux_share(
        session, scope), _migrated_in(session, scope)


def _migrated_in(session: Session, scope: Scope) -> int:
    """Deals on the version that started on another one and were moved to it (their funnel is counted with the
    version's own deals; this says how many of them there are)."""
    conditions = [*instance_conditions(scope), ProcessInstance.migrated_from_id.is_not(None)]
    if scope.filters.start is not None:
        conditions.append(ProcessInstance.started_at >= scope.filters.start)
    if scope.filters.end is not None:
        conditions.append(ProcessInstance.started_at < scope.filters.end)
    if scope.filters.manager is not None:
        conditions.append(manager_deals(scope.filters.manager))
    return session.scalar(select(func.count()).select_from(ProcessInstance).where(*conditions)) or 0


def _pick(session: Session, key: str, a: int | None, b: int | None) -> tuple[int, int]:
    versions = list(session.scalars(select(ProcessDefinition.version).where(ProcessDefinition.key == key)
                                    .order_by(ProcessDefinition.version.desc())))
    if a is None and b is None:
        if len(versions) < 2:
            message = f"{key!r} has {len(versions)} version(s): name two versions to compare with a and b"
            raise ValidationFailed(message, problems=[Problem(message, field="a")])
        return versions[1], versions[0]
    problems = [Problem(f"no version {v}", field=name) for name, v in (("a", a), ("b", b))
                if v is not None and v not in versions]
    if a is None or b is None:
        problems.append(Problem("give both versions a and b, or neither", field="b" if a is not None else "a"))
    if problems:
        raise ValidationFailed("; ".join(p.message for p in problems), problems=problems)
    assert a is not None and b is not None
    return a, b


def _aux_share(session: Session, scope: Scope) -> float | None:
    """Auxiliary working time over all working time (claim to completion) of the version's tasks."""
    claimed = func.coalesce(Task.claimed_at, Task.completed_at)
    work = seconds_between(scope.dialect, claimed, Task.completed_at)
    main, auxiliary = session.execute(
        select(func.coalesce(func.sum(case((Task.work_kind == "main", work), else_=0.0)), 0.0),
               func.coalesce(func.sum(case((Task.work_kind == "auxiliary", work), else_=0.0)), 0.0))
        .select_from(Task).where(*task_conditions(scope))).one()
    total = float(main) + float(auxiliary)
    return round(float(auxiliary) / total, 4) if total else None


def _change(a: Any, b: Any) -> float | None:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return round(b - a, 4)
    return None
