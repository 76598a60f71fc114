"""The one lock order of the house: a process instance's row first, then its task and job rows.

Requests (task actions, messages, external-task completions) and the worker (timers) all follow it, so two of
them touching one instance queue on its row instead of deadlocking on PostgreSQL. SQLite has one writer at a
time anyway (BEGIN IMMEDIATE); FOR UPDATE is a no-op there.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Select, text
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


def lock_names(session: Session, scope: str, names: list[str]) -> None:
    """PostgreSQL: transaction-scoped advisory locks on names (taken in sorted order, so two callers never
    deadlock), serializing check-then-write sequences that have no row to lock. SQLite has one writer."""
    if session.get_bind().dialect.name != "postgresql" or not names:
        return
    ids = sorted({zlib.crc32(f"{scope}\x1f{name}".encode()) for name in names})
    session.execute(text("SELECT pg_advisory_xact_lock(:namespace, k) "
                         "FROM (SELECT unnest(CAST(:ids AS int[])) AS k ORDER BY 1) AS keys"),
                    {"namespace": 0x766F726B, "ids": [i - 2**31 for i in ids]})
