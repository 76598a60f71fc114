"""Domain errors -> RFC 9457 problem details, registered once for /api/v1 (and anything not Camunda)."""

from __future__ import annotations

import logging

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
    RateLimited,
    Unavailable,
    ValidationFailed,
    VoronkaError,
)

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"

STATUS = [
    (PayloadTooLarge, 413),
    (ValidationFailed, 422),
    (InvalidModel, 400),
    (InvalidInput, 400),
    (ExpressionFailed, 400),
    (NotFound, 404),
    (Conflict, 409),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (RateLimited, 429),
    (Unavailable, 503),
]


def status_of(error: VoronkaError) -> int:
    for cls, status in STATUS:
        if isinstance(error, cls):
            return status
    return 400


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank",
            errors: list[dict] | None = None, headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict = {"type": type_, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(error: VoronkaError) -> JSONResponse:
    status = status_of(error)
    headers = {"WWW-Authenticate": 'Basic realm="voronka", Bearer'} if status == 401 else None
    if isinstance(error, RateLimited | Unavailable):
        headers = {"Retry-After": str(error.retry_after)}
    return problem(status, error.title, error.detail, errors=[p.as_dict() for p in error.problems] or None,
                   headers=headers)


def register(app: FastAPI) -> None:
    @app.exception_handler(VoronkaError)
    async def _domain(_request: Request, exc: VoronkaError) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for err in exc.errors():
            location = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",))
            errors.append({"field": location, "message": err.get("msg", "invalid")})
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "invalid request"
        return problem(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail) if exc.status_code < 500 else "Server error",
                       str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        outage = unavailable(exc)  # the database failed outside a unit of work (a direct connection)
        if outage is not None:
            log.warning("database unavailable: %s", exc)
            return problem_for(outage)
        log.exception("unhandled error")
        return problem(500, "Server error", "an unexpected error occurred; it has been logged")
