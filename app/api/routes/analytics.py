"""Sales funnel and process monitoring: JSON, or CSV for Excel with `?format=csv` or the `.csv` path."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse

from app.api.deps import Context, CurrentActor
from app.services import analytics
from app.services.analytics import Filters, Report

router = APIRouter(prefix="/analytics", tags=["analytics"])

PERIOD = ("Deals started in [from, to) for the funnel, stage times and cycle time; tasks completed, timers "
          "fired and tasks due in [from, to) for task times, bottlenecks, SLA and people. ISO 8601; a time "
          "without a zone is UTC.")


def analytics_filters(
    definition_key: Annotated[str, Query(min_length=1, max_length=255, description="Process key.")],
    version: Annotated[int | None, Query(ge=1, description="One version; all versions when absent.")] = None,
    from_: Annotated[datetime | None, Query(alias="from", description="Period start (inclusive).")] = None,
    to: Annotated[datetime | None, Query(description="Period end (exclusive).")] = None,
    manager: Annotated[str | None, Query(max_length=255, description="Deals and tasks of one user "
                                         "(forced to yourself unless you are head of sales or admin).")] = None,
    source: Annotated[str | None, Query(max_length=64, description="Lead source, e.g. cold_call.")] = None,
    segment: Annotated[str | None, Query(max_length=64, description="Client segment, e.g. smb.")] = None,
    category: Annotated[str | None, Query(max_length=64, description="Client category, e.g. key.")] = None,
) -> Filters:
    return Filters(definition_key=definition_key, version=version, start=from_, end=to, manager=manager,
                   source=source, segment=segment, category=category)


Params = Annotated[Filters, Depends(analytics_filters)]
Format = Annotated[Literal["json", "csv"], Query(description="`csv`: UTF-8 with BOM, for Excel.")]
TableName = Annotated[str | None, Query(max_length=64, description="CSV of another table of the report.")]
Separator = Annotated[Literal[",", ";"], Query(description="CSV separator (`;` for Excel in a Russian "
                                                           "locale).")]


def respond(request: Request, report: Report, fmt: str, table: str | None, sep: str) -> Response:
    if fmt != "csv" and not request.url.path.endswith(".csv"):
        if table is not None:
            report.table(table)  # an unknown table name is an error in JSON too
        return JSONResponse(report.as_json())
    chosen = table or report.main
    body = analytics.to_csv(report.table(chosen), delimiter=sep)
    name = f"{report.figure}-{report.filters.get('definition_key') or 'report'}-{chosen}.csv"
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition})


CSV_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"application/json": {}, "text/csv": {}}}}


@router.get("/funnel", summary="Sales funnel", responses=CSV_RESPONSE, description=(
    "One row per funnel stage in the model's order: `reached` (deals whose furthest stage is this one or "
    "later), `current` (running deals in it now), `lost` (deals that ended lost there, with `lost_reasons`), "
    "`conversion` from the previous stage and `conversion_from_first`. Summary: deals, won, lost, "
    "overall_conversion (won / deals), win_rate (won / closed). Tables: stages, lost_reasons. " + PERIOD))
@router.get("/funnel.csv", include_in_schema=False)
def funnel(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
           table: TableName = None, sep: Separator = ",") -> Response:
    return respond(request, analytics.funnel(ctx, actor=actor, filters=filters), format, table, sep)


@router.get("/stage-times", summary="Time in each funnel stage", responses=CSV_RESPONSE, description=(
    "Median, p90 and mean seconds a deal spends in each stage (stays that are over), deals in the stage now; "
    "summary: cycle_time (lead to payment) and won_cycle_time (lead to a won end). " + PERIOD))
@router.get("/stage-times.csv", include_in_schema=False)
def stage_times(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
                table: TableName = None, sep: Separator = ",") -> Response:
    return respond(request, analytics.stage_times(ctx, actor=actor, filters=filters), format, table, sep)


@router.get("/task-times", summary="Time on each task", responses=CSV_RESPONSE, description=(
    "Per task element: median and p90 seconds waiting for a claim (created -> claimed), working "
    "(claimed -> completed) and in total. " + PERIOD))
@router.get("/task-times.csv", include_in_schema=False)
def task_times(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
               table: TableName = None, sep: Separator = ",") -> Response:
    return respond(request, analytics.task_times(ctx, actor=actor, filters=filters), format, table, sep)


@router.get("/bottlenecks", summary="Slowest steps, ranked", responses=CSV_RESPONSE, description=(
    "Task elements ranked by median total time, with whether waiting or working dominates and how many are "
    "open now (and the oldest). " + PERIOD))
@router.get("/bottlenecks.csv", include_in_schema=False)
def bottlenecks(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
                table: TableName = None, sep: Separator = ",",
                limit: Annotated[int, Query(ge=1, le=100)] = 10) -> Response:
    report = analytics.bottlenecks(ctx, actor=actor, filters=filters, limit=limit)
    return respond(request, report, format, table, sep)


@router.get("/sla", summary="SLA breaches and escalations", responses=CSV_RESPONSE, description=(
    "Per stage: boundary timers fired (SLA breaches), tasks completed or open past their due time, "
    "escalation tasks and reassignments. Tables: stages, managers, timers. " + PERIOD))
@router.get("/sla.csv", include_in_schema=False)
def sla(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
        table: TableName = None, sep: Separator = ",") -> Response:
    return respond(request, analytics.sla(ctx, actor=actor, filters=filters), format, table, sep)


@router.get("/people", summary="People: KPIs and the 50 % auxiliary-work limit", responses=CSV_RESPONSE,
            description=(
    "Per user (and per role for managers): tasks completed, deals won and lost, conversion, median handling "
    "time, overdue tasks, working seconds on main and auxiliary tasks and the auxiliary share against the "
    "50 % limit. A user who is not head of sales or admin gets their own row only. " + PERIOD))
@router.get("/people.csv", include_in_schema=False)
def people(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
           table: TableName = None, sep: Separator = ",") -> Response:
    return respond(request, analytics.people(ctx, actor=actor, filters=filters), format, table, sep)


@router.get("/versions", summary="Two versions side by side", responses=CSV_RESPONSE, description=(
    "The funnel, stage times, cycle time, SLA breaches and auxiliary share of versions `a` and `b` "
    "(default: the two latest) with the change b - a. Tables: figures, stages. " + PERIOD))
@router.get("/versions.csv", include_in_schema=False)
def versions(request: Request, ctx: Context, actor: CurrentActor, filters: Params, format: Format = "json",
             table: TableName = None, sep: Separator = ",",
             a: Annotated[int | None, Query(ge=1, description="The older version.")] = None,
             b: Annotated[int | None, Query(ge=1, description="The newer version.")] = None) -> Response:
    report = analytics.compare_versions(ctx, actor=actor, filters=filters, a=a, b=b)
    return respond(request, report, format, table, sep)
