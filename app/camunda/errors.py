"""Domain errors -> Camunda's error bodies `{"type": "...Exception", "message": "..."}`, registered once on the
/engine-rest sub-application (the native API keeps its problem details).

Status codes follow Camunda where it is consistent (400 for bad input and parse errors, 401, 403, 404) and plain
HTTP where Camunda answers 500 for a state conflict: we say 409 there, with Camunda's exception type.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.db.failures import unavailable
from app.errors import (
    Conflict,
    ExpressionFailed,
    Forbidden,
    InvalidInput,
    InvalidModel,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    Unavailable,
    VoronkaError,
)

log = logging.getLogger(__name__)

# The prefix Camunda Modeler looks for to show a message as a diagram parse error.
PARSE_ERROR_PREFIX = "ENGINE-09005 Could not parse BPMN process."
WWW_AUTHENTICATE = 'Basic realm="voronka", Bearer realm="voronka"'

_TYPES: list[tuple[type[VoronkaError], int, str]] = [
    (InvalidModel, 400, "ParseException"),
    (PayloadTooLarge, 413, "InvalidRequestException"),
    (InvalidInput, 400, "InvalidRequestException"),
    (ExpressionFailed, 400, "ProcessEngineException"),
    (NotFound, 404, "InvalidRequestException"),
    (Conflict, 409, "ProcessEngineException"),
    (NotAuthenticated, 401, "AuthenticationException"),
    (Forbidden, 403, "AuthorizationException"),
    (Unavailable, 503, "ProcessEngineException"),
]


def camunda_error(status: int, type_: str, message: str, *, headers: dict[str, str] | None = None,
                  **extra: Any) -> JSONResponse:
    return JSONResponse({"type": type_, "message": message, **extra}, status_code=status, headers=headers)


def parse_error_message(error: InvalidModel) -> str:
    """Camunda's parse error text: the prefix, then one `* message | element | resource | line` per problem."""
    lines = []
    for problem in error.problems or []:
        parts = [problem.message]
        if problem.element_id:
            parts.append(f"element {problem.element_id}")
        if problem.file:
            parts.append(f"resource {problem.file}")
        if problem.line:
            parts.append(f"line {problem.line}")
        lines.append("* " + " | ".join(parts))
    if not lines:
        lines.append(f"* {error.detail}")
    return f"{PARSE_ERROR_PREFIX} Errors: \n" + "\n".join(lines) + "\n"


def _parse_details(error: InvalidModel) -> dict[str, Any]:
    """Camunda's `details`: per resource, the errors with line and element ids."""
    details: dict[str, Any] = {}
    for problem in error.problems or []:
        entry = details.setdefault(problem.file or "unknown", {"errors": [], "warnings": []})
        entry["errors"].append({
            "message": problem.message, "line": problem.line or 0, "column": 0,
            "mainElementId": problem.element_id, "elementIds": [problem.element_id] if problem.element_id else [],
        })
    return details


def response_for(error: VoronkaError) -> JSONResponse:
    status, type_ = 400, "ProcessEngineException"
    for cls, code, name in _TYPES:
        if isinstance(error, cls):
            status, type_ = code, name
            break
    if isinstance(error, InvalidModel):
        return camunda_error(400, type_, parse_error_message(error), details=_parse_details(error))
    if isinstance(error, Conflict) and "changed by another request" in error.detail:
        type_ = "OptimisticLockingException"
    headers = {"WWW-Authenticate": WWW_AUTHENTICATE} if status == 401 else None
    if isinstance(error, Unavailable):
        headers = {"Retry-After": str(error.retry_after)}
    return camunda_error(status, type_, error.detail, headers=headers)


def register(app: FastAPI) -> None:
    @app.exception_handler(VoronkaError)
    async def _domain(_request: Request, exc: VoronkaError) -> JSONResponse:
        return response_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        reasons = []
        for err in exc.errors():
            location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path"))
            reasons.append(f"{location}: {err.get('msg', 'invalid')}" if location else err.get("msg", "invalid"))
        return camunda_error(400, "InvalidRequestException", "; ".join(reasons) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = "InvalidRequestException" if exc.status_code < 500 else "RestException"
        return camunda_error(exc.status_code, type_, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        outage = unavailable(exc)  # the database failed outside a unit of work (a direct connection)
        if outage is not None:
            log.warning("database unavailable: %s", exc)
            return response_for(outage)
        log.exception("unhandled error in the Camunda dialect")
        return camunda_error(500, "ProcessEngineException", "an unexpected error occurred; it has been logged")
