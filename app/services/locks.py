"""The one lock order of the house: a process instance's row first, then its task and job rows.

Requests (task actions, messages, external-task completions) and the worker (timers) all follow it, so two of
them touching one instance queue on its row instead of deadlocking on PostgreSQL. SQLite has one writer at a
time anyway (BEGIN IMMEDIATE); FOR UPDATE is a no-op there.
"""

from __future__ import annotations

from sqlalchemy import Select
from sqlalchemy.orm import Session

from app.db.models import Job, ProcessInstance


def lock_job_after_instance(session: Session, query: Select[tuple[Job]]) -> Job | None:
    """The job `query` selects, locked after its instance (the job row is re-read once both are held)."""
    job = session.scalar(query)
    if job is None:
        return None
    if job.instance_id is not None:
        session.get(ProcessInstance, job.instance_id, with_for_update=True)
    return session.scalar(query.with_for_update().execution_options(populate_existing=True))
