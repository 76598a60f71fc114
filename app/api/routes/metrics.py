"""GET /metrics: Prometheus text format, for admins or a scraper holding VORONKA_METRICS_TOKEN."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, Request, Response

from app.api.deps import Context, authenticate_request
from app.auth.permissions import require_admin
from app.observability import metrics
from app.services.context import AppContext
from app.services.operations import backlog

router = APIRouter(tags=["health"])


def _backlog_gauges(ctx: AppContext) -> dict[str, tuple[str, float]]:
    now = backlog(ctx)
    return {
        "voronka_jobs_due_waiting": ("Timer jobs past their due time, not yet fired.", now.due_jobs_waiting),
        "voronka_jobs_oldest_due_seconds": ("How long the oldest due timer job has been waiting.",
                                            now.oldest_due_seconds),
        "voronka_external_tasks_locked": ("External tasks locked by a worker now.", now.external_tasks_locked),
        "voronka_external_tasks_waiting": ("External tasks waiting for a worker.", now.external_tasks_waiting),
        "voronka_incidents_open": ("Open incidents (instances stuck until someone acts).", now.open_incidents),
    }


@router.get("/metrics", summary="Prometheus metrics (admins, or `Authorization: Bearer <VORONKA_METRICS_TOKEN>`)",
            description="Requests by route template and status with latency histograms, engine step time, "
                        "starts, completions, timers fired and their lag, due jobs waiting, external tasks "
                        "locked, open incidents, database pool use, failed sign-ins. All server processes are "
                        "added up under `serve --workers N`. See docs/operations.md.",
            response_class=Response)
def metrics_endpoint(request: Request, ctx: Context) -> Response:
    token = ctx.settings.metrics_token
    header = request.headers.get("authorization") or ""
    if not (token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode())):
        require_admin(authenticate_request(request, ctx))
    body, content_type = metrics.render(lambda: _backlog_gauges(ctx))
    return Response(body, media_type=content_type)
