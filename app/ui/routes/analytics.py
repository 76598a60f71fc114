"""The funnel page: the funnel chart, time in stage, the bottlenecks and a heatmap of time per element on the
BPMN diagram, with links to every table as CSV. Managers see everyone; anyone else their own figures."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_timedelta
from fastapi import APIRouter, Request
from starlette.responses import Response

from app.services import analytics, catalog, deployments
from app.services.analytics import Filters
from app.ui.deps import Context, PageActor
from app.ui.diagram import DiagramView
from app.ui.funnel import STAGES
from app.ui.i18n import N_, negotiate
from app.ui.rendering import PageRoute, render

router = APIRouter(route_class=PageRoute)
DEFAULT_PROCESS = "sales_deal"
HEAT_LEVELS = 5


@dataclass
class HeatmapView(DiagramView):
    """The diagram of one version with each task coloured by its median time (the ui's marker mechanism)."""

    heat: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def has_marks(self) -> bool:
        return False

    @property
    def marks_json(self) -> str:
        return json.dumps({"heat": self.heat})


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@router.get("/analytics")
def funnel_page(request: Request, ctx: Context, actor: PageActor) -> Response:
    params = request.query_params
    names = catalog.process_names(ctx, actor=actor)
    key = params.get("process") or (DEFAULT_PROCESS if DEFAULT_PROCESS in names else next(iter(names), ""))
    start, end = _day(params.get("from")), _day(params.get("to"))
    version_text = params.get("version", "")
    version = int(version_text) if version_text.isdigit() and 0 < int(version_text) < 100_000 else None
    form = {"process": key, "from": start.isoformat() if start else "", "to": end.isoformat() if end else "",
            "version": str(version or "")}
    if not key:
        return render(request, "analytics.html", actor=actor, names=names, form=form, funnel=None)
    filters = Filters(key, version=version,
                      start=datetime.combine(start, time(), UTC) if start else None,
                      end=datetime.combine(end, time(), UTC) + timedelta(days=1) if end else None)
    funnel = analytics.funnel(ctx, actor=actor, filters=filters)
    stage_times = analytics.stage_times(ctx, actor=actor, filters=filters)
    task_times = analytics.task_times(ctx, actor=actor, filters=filters)
    bottlenecks = analytics.bottlenecks(ctx, actor=actor, filters=filters, limit=5)
    versions = deployments.definition_versions(ctx, key=key, actor=actor)
    shown = next((d for d in versions if d.version == version), versions[0])
    locale = negotiate(request)

    def duration(seconds: float | None) -> str:
        if seconds is None:
            return "—"
        return format_timedelta(timedelta(seconds=seconds), threshold=1.5, format="short", locale=locale)

    heat = _heat(task_times.table(None).rows, duration)
    api_query = urlencode({k: v for k, v in {"definition_key": key, "version": version or "",
                                             "from": filters.start.isoformat() if filters.start else "",
                                             "to": filters.end.isoformat() if filters.end else ""}.items() if v})
    stage_rows = funnel.table(None).rows
    widest = max((r["reached"] for r in stage_rows), default=0) or 1
    slowest = max((r["p90_seconds"] or 0 for r in stage_times.table(None).rows), default=0) or 1
    return render(request, "analytics.html", actor=actor, names=names, form=form, funnel=funnel,
                  stage_times=stage_times, bottlenecks=bottlenecks, versions=versions, stages=STAGES,
                  widest=widest, slowest=slowest, duration=duration, api_query=api_query,
                  diagram=HeatmapView(shown.key, shown.version, heat=heat),
                  csv_links=_csv_links(api_query))


def _heat(rows: list[dict[str, Any]], duration: Any) -> dict[str, dict[str, Any]]:
    """Five levels of median total time, relative to the slowest task."""
    slowest = max((r["total_median_seconds"] or 0 for r in rows), default=0)
    heat = {}
    for row in rows:
        seconds = row["total_median_seconds"]
        if seconds is None or slowest <= 0:
            continue
        level = max(1, math.ceil(HEAT_LEVELS * seconds / slowest))
        heat[row["element_id"]] = {"level": level, "label": duration(seconds)}
    return heat


def _csv_links(query: str) -> list[tuple[str, str]]:
    base = "/api/v1/analytics"
    return [(name, f"{base}/{path}.csv?{query}{extra}") for name, path, extra in (
        (N_("Funnel"), "funnel", ""), (N_("Lost reasons"), "funnel", "&table=lost_reasons"),
        (N_("Time in stage"), "stage-times", ""), (N_("Task times"), "task-times", ""),
        (N_("Bottlenecks"), "bottlenecks", ""), (N_("SLA breaches"), "sla", ""), (N_("People"), "people", ""))]
