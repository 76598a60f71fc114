"""Per request: the X-Request-ID (accepted from the caller or made up, always returned), the access log line
(method, route template, status, duration, user) and the HTTP metrics."""

from __future__ import annotations

import inspect
import logging
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.observability import metrics
from app.observability.context import (
    REQUEST_ID_HEADER,
    RequestInfo,
    request_id_from,
    reset_current_request,
    set_current_request,
)

access_log = logging.getLogger("voronka.access")
UNMATCHED = "<unmatched>"  # 404s and the like: never the raw path (unbounded label values)


class RequestObservability:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        raw_id = headers.get(REQUEST_ID_HEADER.lower().encode())
        info = RequestInfo(request_id=request_id_from(raw_id.decode("latin-1") if raw_id else None),
                           method=scope["method"], path=scope["path"])
        root_path = scope.get("root_path", "")
        status, answered = 500, False
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status, answered = message["status"], True
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, info.request_id)
            await send(message)

        token = set_current_request(info)
        metrics.HTTP_IN_PROGRESS.inc()
        app = scope.get("app")
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            if not answered:  # nothing sent yet: answer here, inside the request's context (id header, log id)
                await _answer_unexpected(app, scope, receive, send_with_id, exc)
            raise  # Starlette's outer error middleware sees the answer is out and only re-raises
        finally:
            metrics.HTTP_IN_PROGRESS.dec()
            duration = time.perf_counter() - started
            route = info.route = route_template(scope, root_path)
            metrics.HTTP_REQUESTS.labels(info.method, route, str(status)).inc()
            metrics.HTTP_LATENCY.labels(info.method, route, str(status)).observe(duration)
            access_log.info("%s %s %d %.1f ms", info.method, info.path, status, duration * 1000,
                            extra={"method": info.method, "path": info.path, "status": status,
                                   "duration_ms": round(duration * 1000, 1), "route": route,
                                   "user": info.user, "client": _client(scope)})
            reset_current_request(token)


async def _answer_unexpected(app: object, scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
    """The application's own handler for unexpected errors (problem details, logged), which Starlette would
    otherwise call outside this middleware: without the request id in its log line and its answer."""
    handlers = getattr(app, "exception_handlers", {}) or {}
    handler = handlers.get(Exception) or handlers.get(500)
    if handler is None:
        return
    response = handler(Request(scope, receive), exc)
    if inspect.isawaitable(response):
        response = await response
    await response(scope, receive, send)


def route_template(scope: Scope, outer_root_path: str) -> str:
    """`/api/v1/tasks/{task_id}/complete`, also inside mounted sub-applications (the Camunda dialect): the path
    with each path parameter's segment put back as its name (routers' own path attributes leave out prefixes)."""
    if not scope.get("endpoint"):
        mounted = scope.get("root_path", "")[len(outer_root_path):]
        return f"{mounted}/{{path}}" if mounted and scope.get("route") is not None else UNMATCHED
    names = {str(value): name for name, value in (scope.get("path_params") or {}).items()}
    return "/".join(f"{{{names[part]}}}" if part in names else part for part in scope["path"].split("/"))


def _client(scope: Scope) -> str | None:
    client = scope.get("client")
    return client[0] if client else None
