"""GET /health: is this server and each dependency working? No auth: load balancers and orchestrators ask."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app.api.deps import Context
from app.db.failures import RETRY_AFTER_SECONDS
from app.services.health import check_all

router = APIRouter(tags=["health"])


@router.get("/health", summary="Liveness and dependency check (no auth)",
            description="200 `{\"status\": \"ok\", \"checks\": {\"database\": {\"status\": \"ok\", ...}}}` when "
                        "every dependency answers; 503 with `Retry-After` and the failing dependency's `detail` "
                        "otherwise. On SQLite a long write lock does not make it fail.")
def health(ctx: Context) -> JSONResponse:
    checks = check_all(ctx)
    healthy = all(check.status == "ok" for check in checks.values())
    body = {"status": "ok" if healthy else "unavailable",
            "checks": {name: check.as_dict() for name, check in checks.items()}}
    headers = None if healthy else {"Retry-After": str(RETRY_AFTER_SECONDS)}
    return JSONResponse(body, status_code=200 if healthy else 503, headers=headers)
