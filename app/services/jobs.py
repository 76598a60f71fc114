"""Jobs the server runs on its own: claim due timer jobs, fire one exactly once, retries, incidents.

The worker (app/worker) calls these; each function owns one short transaction. Exactly once: a job is
claimed (lock owner + expiry) in one transaction and fired in another that re-reads the job row under a
row lock and does nothing when the job is gone or another worker holds it; the firing, the engine state,
the history and the job's removal (or its next due time) commit together.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import and_, func, inspect, or_, select, update
from sqlalchemy.orm import Session

from app.auth.actor import SYSTEM, Actor
from app.auth.permissions import require_admin
from app.db.base import utcnow
from app.db.models import (
    EventKind,
    Incident,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    ProcessDefinition,
    ProcessInstance,
)
from app.engine import runner
from app.errors import Conflict, InvalidInput, NotFound
from app.services.context import AppContext
from app.services.locks import lock_job_after_instance
from app.services.recording import add_event, has_open_incidents

TIMER_KINDS = (JobKind.TIMER, JobKind.START_TIMER)
MAX_ERROR_CHARS = 4000

Outcome = Literal["fired", "skipped"]


@dataclass(frozen=True)
class ClaimedJob:
    id: str
    kind: str
    due_at: datetime | None


def _claimable(now: datetime):  # type: ignore[no-untyped-def]
    """Ready, or locked by a worker whose lock has expired (it died or hung): recovery is just re-claiming."""
    return or_(Job.state == JobState.READY, and_(Job.state == JobState.LOCKED, Job.lock_expires_at < now))


def claim_due_jobs(ctx: AppContext, *, owner: str, limit: int, now: datetime | None = None) -> list[ClaimedJob]:
    """Lock up to `limit` due timer jobs for `owner`. PostgreSQL: rows other workers are claiming right now
    are skipped (FOR UPDATE SKIP LOCKED); SQLite: the transaction holds the database's one write lock."""
    now = now or utcnow()
    with ctx.db.transaction() as session:
        query = (select(Job.id, Job.kind, Job.due_at)
                 .where(Job.kind.in_(TIMER_KINDS), Job.due_at <= now, _claimable(now))
                 .order_by(Job.due_at).limit(limit))
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        rows = session.execute(query).all()
        if not rows:
            return []
        expires = now + timedelta(seconds=ctx.settings.job_lock_seconds)
        session.execute(update(Job).where(Job.id.in_([r.id for r in rows]))
                        .values(state=JobState.LOCKED, lock_owner=owner, lock_expires_at=expires))
        return [ClaimedJob(r.id, r.kind, r.due_at) for r in rows]


def next_due_at(ctx: AppContext) -> datetime | None:
    """When the worker next has something to do: the nearest due timer, or the nearest expiring lock."""
    with ctx.db.transaction() as session:
        due = session.scalar(select(func.min(Job.due_at)).where(Job.kind.in_(TIMER_KINDS),
                                                                Job.state == JobState.READY))
        expiry = session.scalar(select(func.min(Job.lock_expires_at)).where(Job.kind.in_(TIMER_KINDS),
                                                                            Job.state == JobState.LOCKED))
    times = [t for t in (due, expiry) if t is not None]
    return min(times) if times else None


def fire_timer_job(ctx: AppContext, *, job_id: str, owner: str) -> Outcome:
    """Fire one claimed timer job in one transaction; "skipped" when it is gone or no longer ours."""
    with ctx.db.transaction() as session:
        job = lock_job_after_instance(session, select(Job).where(Job.id == job_id))
        if job is None or job.state != JobState.LOCKED or job.lock_owner != owner:
            return "skipped"
        if job.kind == JobKind.START_TIMER:
            _fire_start_timer(ctx, session, job, owner=owner)
            return "fired"
        instance = (session.get(ProcessInstance, job.instance_id, with_for_update=True)
                    if job.instance_id else None)
        if instance is None or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
            session.delete(job)  # the instance ended; its timers went with it
            return "skipped"
        _fire_instance_timers(ctx, session, instance, job, owner=owner)
        return "fired"


def _fire_instance_timers(ctx: AppContext, session: Session, instance: ProcessInstance, job: Job, *,
                          owner: str) -> None:
    """refresh_timers fires every due timer of the instance; recording writes one timer_fired for each and
    removes (or moves) their jobs, so another worker holding one of them finds it gone."""
    from app.services.instances import advance  # instances imports this module for retries

    due_at = job.due_at
    session.info["worker_id"] = owner
    try:
        advance(ctx, session, instance, runner.fire_due_timers(), actor=SYSTEM)
    finally:
        session.info.pop("worker_id", None)
    session.flush()
    if job in session and not inspect(job).deleted and job.due_at == due_at:
        # Not fired although due by our clock (cannot happen with one clock): give it back.
        job.state = JobState.READY
        job.lock_owner = job.lock_expires_at = None


def _fire_start_timer(ctx: AppContext, session: Session, job: Job, *, owner: str) -> None:
    from app.services.instances import start_in_session

    now = utcnow()
    definition = session.get(ProcessDefinition, job.definition_id) if job.definition_id else None
    if definition is None:
        session.delete(job)
        return
    fired = {"job_id": job.id, "due_at": job.due_at.isoformat() if job.due_at else None, "worker": owner,
             "lag_ms": round((now - job.due_at).total_seconds() * 1000, 1) if job.due_at else None}
    start_in_session(ctx, session, definition, actor=SYSTEM, business_key=None, variables={},
                     start_event=job.element_id, trigger=(EventKind.TIMER_FIRED, fired))
    schedule = job.schedule or {}
    cycles = int(schedule.get("cycles", 0))
    if cycles == 0 or job.due_at is None:
        session.delete(job)
        return
    interval = timedelta(seconds=float(schedule["seconds"]))
    following = job.due_at + interval
    if following <= now and interval.total_seconds() > 0:  # missed firings (server was down): skip to the grid
        missed = (now - job.due_at) // interval
        following = job.due_at + interval * (missed + 1)
    job.due_at = following
    job.schedule = {**schedule, "cycles": cycles - 1 if cycles > 0 else -1}
    job.state = JobState.READY
    job.lock_owner = job.lock_expires_at = None
    job.retries = None


def release_jobs(ctx: AppContext, *, job_ids: list[str], owner: str) -> int:
    """Give claimed jobs back unhandled (shutdown, or a lost race with a request): claimable at once."""
    if not job_ids:
        return 0
    with ctx.db.transaction() as session:
        result = session.execute(update(Job).where(Job.id.in_(job_ids), Job.lock_owner == owner,
                                                   Job.state == JobState.LOCKED)
                                 .values(state=JobState.READY, lock_owner=None, lock_expires_at=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def record_job_error(ctx: AppContext, *, job_id: str, owner: str, error: str,
                     details: str | None = None) -> Job | None:
    """A job failed unexpectedly: retry later with a growing delay; out of retries -> incident."""
    now = utcnow()
    with ctx.db.transaction() as session:
        job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None or job.lock_owner != owner:
            return None
        left = (job.retries if job.retries is not None else ctx.settings.job_retries) - 1
        job.retries = max(left, 0)
        job.error_message = error[:MAX_ERROR_CHARS]
        job.error_details = details[:MAX_ERROR_CHARS * 4] if details else None
        job.lock_owner = job.lock_expires_at = None
        if left > 0:
            attempt = ctx.settings.job_retries - left
            delay = ctx.settings.job_retry_seconds * (2 ** max(attempt - 1, 0))
            job.state = JobState.READY
            job.due_at = now + timedelta(seconds=delay * random.uniform(1.0, 1.2))
        else:
            fail_job(session, job, f"{job.kind} job failed {ctx.settings.job_retries} times: {error}",
                     actor=SYSTEM, at=now)
        return job


def fail_job(session: Session, job: Job, message: str, *, actor: Actor, at: datetime,
             kind: str = "failed_job") -> Incident | None:
    """The job stops; its instance keeps its place and shows an incident until someone retries."""
    job.state = JobState.FAILED
    job.lock_owner = job.lock_expires_at = None
    job.retries = 0
    if job.instance_id is None:
        return None
    instance = session.get(ProcessInstance, job.instance_id)
    if instance is None:
        return None
    incident = Incident(instance_id=instance.id, element_id=job.element_id, job_id=job.id, kind=kind,
                        message=message[:MAX_ERROR_CHARS], created_at=at)
    session.add(incident)
    if instance.status == InstanceStatus.RUNNING:
        instance.status = InstanceStatus.FAILED
    add_event(session, instance, EventKind.INCIDENT_CREATED, actor=actor, at=at, task_id=job.task_id,
              element_id=job.element_id, data={"message": incident.message, "job_id": job.id, "kind": kind})
    return incident


def reset_job_for_retry(session: Session, job_id: str, *, retries: int) -> Job | None:
    job = session.get(Job, job_id)
    if job is None:
        return None
    job.state = JobState.READY
    job.retries = retries
    job.lock_owner = job.lock_expires_at = None
    job.due_at = utcnow() if job.kind != JobKind.TIMER or job.due_at is None else min(job.due_at, utcnow())
    return job


def retry_job(ctx: AppContext, *, actor: Actor, job_id: str, retries: int = 1) -> Job:
    """Admins: run a failed job again (its incident is resolved; the instance runs on when none is left)."""
    require_admin(actor)
    if retries < 1:
        raise InvalidInput("retries must be at least 1")
    now = utcnow()
    with ctx.db.transaction() as session:
        job = session.scalar(select(Job).where(Job.id == job_id).with_for_update())
        if job is None:
            raise NotFound(f"job {job_id} not found")
        if job.state != JobState.FAILED:
            raise Conflict(f"job {job_id} has not failed (state {job.state}); nothing to retry")
        reset_job_for_retry(session, job_id, retries=retries)
        resolve_job_incidents(session, job, actor=actor, at=now)
        return job


def resolve_job_incidents(session: Session, job: Job, *, actor: Actor, at: datetime) -> None:
    if job.instance_id is None:
        return
    instance = session.get(ProcessInstance, job.instance_id)
    if instance is None:
        return
    for incident in session.scalars(select(Incident).where(Incident.job_id == job.id,
                                                           Incident.resolved_at.is_(None))):
        incident.resolved_at = at
        add_event(session, instance, EventKind.INCIDENT_RESOLVED, actor=actor, at=at,
                  element_id=incident.element_id, data={"incident_id": incident.id, "job_id": job.id})
    if instance.status == InstanceStatus.FAILED and not has_open_incidents(session, instance):
        instance.status = InstanceStatus.RUNNING


def get_job(ctx: AppContext, *, actor: Actor, job_id: str) -> Job:
    require_admin(actor)
    with ctx.db.transaction() as session:
        job = session.get(Job, job_id)
        if job is None:
            raise NotFound(f"job {job_id} not found")
        return job


def list_jobs(ctx: AppContext, *, actor: Actor, kind: str | None = None, state: str | None = None,
              instance_id: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[Job], int]:
    require_admin(actor)
    if kind is not None and kind not in set(JobKind):
        raise InvalidInput(f"kind must be one of {', '.join(JobKind)}")
    if state is not None and state not in set(JobState):
        raise InvalidInput(f"state must be one of {', '.join(JobState)}")
    query = select(Job)
    if kind:
        query = query.where(Job.kind == kind)
    if state:
        query = query.where(Job.state == state)
    if instance_id:
        query = query.where(Job.instance_id == instance_id)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(Job.due_at, Job.id).limit(limit).offset(offset)).all()
        return list(rows), total


def release_expired_locks(ctx: AppContext, *, now: datetime | None = None) -> int:
    """Recovery: timer jobs whose worker died are put back to ready (claiming would take them anyway; this
    makes the state honest for people reading the jobs table). External tasks keep their expired lock so a
    late completion can be told why it is refused."""
    now = now or utcnow()
    with ctx.db.transaction() as session:
        result = session.execute(update(Job).where(Job.kind.in_(TIMER_KINDS), Job.state == JobState.LOCKED,
                                                   Job.lock_expires_at < now)
                                 .values(state=JobState.READY, lock_owner=None, lock_expires_at=None))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]
