"""Count business events from what commits wrote: history rows (starts, completions, timers fired with their
lag, incidents, ends) and sign-in failures. One listener on every ORM session, so each entry point (API,
Camunda dialect, pages, worker, messages) is counted alike and a rolled-back attempt never is."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from app.db.models import EventKind, HistoryEvent, LoginFailure
from app.observability import metrics

_PENDING = "voronka_facts"
_ENDED = {EventKind.INSTANCE_COMPLETED: "completed", EventKind.INSTANCE_TERMINATED: "terminated",
          EventKind.INSTANCE_FAILED: "failed"}
_installed = False


def install() -> None:
    """Idempotent: every process calls it once at start-up (server, worker)."""
    global _installed
    if _installed:
        return
    _installed = True
    event.listen(Session, "after_flush", _collect)
    event.listen(Session, "after_commit", _count)
    event.listen(Session, "after_soft_rollback", _forget)


def _collect(session: Session, _flush_context: Any) -> None:
    facts = [obj for obj in session.new if isinstance(obj, HistoryEvent | LoginFailure)]
    if facts:
        session.info.setdefault(_PENDING, []).extend(facts)


def _forget(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


def _count(session: Session) -> None:
    for fact in session.info.pop(_PENDING, ()):
        if isinstance(fact, LoginFailure):
            metrics.LOGIN_FAILURES.inc()
        elif fact.kind == EventKind.INSTANCE_STARTED:
            metrics.INSTANCE_STARTS.inc()
        elif fact.kind == EventKind.TASK_COMPLETED:
            metrics.TASK_COMPLETIONS.inc()
        elif fact.kind == EventKind.TIMER_FIRED:
            metrics.TIMERS_FIRED.inc()
            lag_ms = (fact.data or {}).get("lag_ms")
            if isinstance(lag_ms, int | float):
                metrics.TIMER_LAG.observe(max(lag_ms, 0) / 1000)
        elif fact.kind == EventKind.INCIDENT_CREATED:
            metrics.INCIDENTS_CREATED.inc()
        elif fact.kind in _ENDED:
            metrics.INSTANCES_ENDED.labels(_ENDED[fact.kind]).inc()
