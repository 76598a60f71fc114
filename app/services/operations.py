"""What an operator watches that lives in the database, read at scrape time (so every server process and
worker agrees): due timer jobs waiting and how late the oldest is, external tasks locked and waiting, open
incidents. Four counts on indexed columns, in one read-only unit of work."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select

from app.db.base import utcnow
from app.db.models import Incident, Job, JobKind, JobState
from app.services.context import AppContext


@dataclass(frozen=True)
class Backlog:
    due_jobs_waiting: int
    oldest_due_seconds: float
    external_tasks_locked: int
    external_tasks_waiting: int
    open_incidents: int


def backlog(ctx: AppContext) -> Backlog:
    now = utcnow()
    timers = and_(Job.kind.in_([JobKind.TIMER, JobKind.START_TIMER]), Job.state == JobState.READY,
                  Job.due_at <= now)
    held = and_(Job.state == JobState.LOCKED, Job.lock_expires_at > now)
    with ctx.db.read() as session:
        due, oldest = session.execute(select(func.count(), func.min(Job.due_at)).where(timers)).one()
        locked = session.scalar(select(func.count()).where(Job.kind == JobKind.EXTERNAL, held))
        waiting = session.scalar(select(func.count()).where(
            Job.kind == JobKind.EXTERNAL, Job.state != JobState.FAILED,
            or_(Job.state == JobState.READY, Job.lock_expires_at <= now)))
        incidents = session.scalar(select(func.count()).select_from(Incident).where(Incident.resolved_at.is_(None)))
    lag = (now - oldest).total_seconds() if oldest is not None else 0.0
    return Backlog(int(due), max(lag, 0.0), int(locked or 0), int(waiting or 0), int(incidents or 0))
