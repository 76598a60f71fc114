"""Health of the server's dependencies (today: the database), for /health and the load balancer."""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.errors import Unavailable
from app.services.context import AppContext


@dataclass
class Check:
    status: str  # "ok" or "down"
    latency_ms: float
    detail: str | None = None

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"status": self.status, "latency_ms": round(self.latency_ms, 1)}
        if self.detail:
            body["detail"] = self.detail
        return body


def check_database(ctx: AppContext) -> Check:
    """One round trip in a read-only unit of work: on SQLite it takes no write lock, so a long write never
    makes the server look dead."""
    started = time.perf_counter()
    try:
        with ctx.db.read() as session:
            session.execute(text("SELECT 1"))
    except Unavailable as exc:
        return Check("down", _ms(started), exc.detail + _cause(exc))
    except SQLAlchemyError as exc:
        return Check("down", _ms(started), _first_line(exc))
    return Check("ok", _ms(started))


def check_all(ctx: AppContext) -> dict[str, Check]:
    return {"database": check_database(ctx)}


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return f" ({_first_line(cause)})" if cause is not None else ""


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]
