"""External service tasks: workers outside the server fetch and lock them by topic, then complete them,
report a failure (retries, retry timeout), throw a BPMN error, extend or give up the lock.

The shapes follow Camunda 7's external task API one to one, so its REST dialect is a translation: ids are the
job ids, durations are milliseconds, `retries` is what the worker says is left. An external task is a `job`
row (kind external) kept by recording while its service task is READY; it disappears when the task is
completed or cancelled (an interrupting boundary event, a terminated instance), which answers a late
completion with 404.

Locks: fetch-and-lock takes free tasks (never locked, or lock expired) with `FOR UPDATE SKIP LOCKED` on
PostgreSQL plus a guarded `UPDATE ... WHERE lock is free` on both databases, so two workers fetching at once
never get the same task. Everything else a worker does needs its worker id to hold an unexpired lock.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.auth.actor import EXTERNAL_WORKER, Actor
from app.db.base import utcnow
from app.db.models import EventKind, InstanceStatus, Job, JobKind, JobState, ProcessInstance
from app.engine import runner
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, UncaughtBpmnError
from app.services.context import AppContext
from app.services.instances import advance
from app.services.jobs import MAX_ERROR_CHARS, fail_job, resolve_job_incidents
from app.services.locks import lock_job_after_instance
from app.services.recording import add_event
from app.services.variables import check_variables

# Members of this group (and admins) may act as external task workers.
EXTERNAL_WORKER_GROUP = EXTERNAL_WORKER
MAX_LOCK_MS = 7 * 24 * 3600 * 1000
MAX_TASKS = 500


@dataclass
class TopicRequest:
    topic: str
    lock_duration_ms: int
    variables: list[str] | None = None  # None: every variable; []: none
    business_key: str | None = None
    definition_key: str | None = None


@dataclass
class ExternalTaskView:
    id: str
    topic: str
    worker_id: str | None
    lock_expires_at: datetime | None
    instance_id: str
    definition_id: str
    definition_key: str
    business_key: str | None
    element_id: str
    task_id: str | None
    retries: int | None
    error_message: str | None
    priority: int
    created_at: datetime
    state: str
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass
class BpmnErrorResult:
    caught: bool
    incident_id: str | None = None


def require_worker(actor: Actor) -> None:
    if not (actor.is_admin or EXTERNAL_WORKER_GROUP in actor.groups):
        raise Forbidden(f"external tasks are for workers: the {EXTERNAL_WORKER_GROUP!r} group or admins")


def fetch_and_lock(ctx: AppContext, *, actor: Actor, worker_id: str, topics: list[TopicRequest], max_tasks: int,
                   async_response_timeout_ms: int = 0) -> list[ExternalTaskView]:
    """Lock up to `max_tasks` free tasks of the given topics for `worker_id`. With a response timeout the
    call waits (long polling) until a task is free or the time is up."""
    require_worker(actor)
    _check_fetch(worker_id, topics, max_tasks)
    locked = _fetch_once(ctx, worker_id=worker_id, topics=topics, max_tasks=max_tasks)
    for pause in _poll_pauses(async_response_timeout_ms):
        if locked:
            break
        time.sleep(pause)
        locked = _fetch_once(ctx, worker_id=worker_id, topics=topics, max_tasks=max_tasks)
    return locked


async def fetch_and_lock_waiting(ctx: AppContext, *, actor: Actor, worker_id: str, topics: list[TopicRequest],
                                 max_tasks: int, async_response_timeout_ms: int = 0) -> list[ExternalTaskView]:
    """`fetch_and_lock` for the HTTP routes: a long poll waits on the event loop, not in a server thread, so
    many idle workers polling at once do not exhaust the thread pool."""
    require_worker(actor)
    _check_fetch(worker_id, topics, max_tasks)
    fetch = functools.partial(_fetch_once, ctx, worker_id=worker_id, topics=topics, max_tasks=max_tasks)
    locked = await anyio.to_thread.run_sync(fetch)
    for pause in _poll_pauses(async_response_timeout_ms):
        if locked:
            break
        await anyio.sleep(pause)
        locked = await anyio.to_thread.run_sync(fetch)
    return locked


def _poll_pauses(timeout_ms: int) -> Iterator[float]:
    """The waits between polls of a long poll: 50 ms doubling up to 1 s, until the timeout is spent."""
    deadline = time.monotonic() + max(timeout_ms, 0) / 1000
    pause = 0.05
    while (remaining := deadline - time.monotonic()) > 0:
        yield min(pause, remaining)
        pause = min(pause * 2, 1.0)


def _check_fetch(worker_id: str, topics: list[TopicRequest], max_tasks: int) -> None:
    if not worker_id or not worker_id.strip():
        raise InvalidInput("worker_id is required")
    if not topics:
        raise InvalidInput("give at least one topic")
    if not 1 <= max_tasks <= MAX_TASKS:
        raise InvalidInput(f"max_tasks must be between 1 and {MAX_TASKS}")
    for topic in topics:
        _check_duration(topic.lock_duration_ms, f"lock_duration of topic {topic.topic!r}")


def _check_duration(ms: int, what: str) -> None:
    if not 0 < ms <= MAX_LOCK_MS:
        raise InvalidInput(f"{what} must be between 1 and {MAX_LOCK_MS} milliseconds")


def _free(now: datetime):  # type: ignore[no-untyped-def]
    return and_(Job.state != JobState.FAILED, Job.due_at <= now,
                or_(Job.lock_owner.is_(None), Job.lock_expires_at.is_(None), Job.lock_expires_at <= now))


def _fetch_once(ctx: AppContext, *, worker_id: str, topics: list[TopicRequest],
                max_tasks: int) -> list[ExternalTaskView]:
    now = utcnow()
    by_topic = {t.topic: t for t in topics}
    topic_clauses = []
    for topic in topics:
        clause = [Job.topic == topic.topic]
        if topic.business_key is not None:
            clause.append(ProcessInstance.business_key == topic.business_key)
        if topic.definition_key is not None:
            clause.append(ProcessInstance.definition_key == topic.definition_key)
        topic_clauses.append(and_(*clause))
    with ctx.db.transaction() as session:
        query = (select(Job, ProcessInstance).join(ProcessInstance, ProcessInstance.id == Job.instance_id)
                 .where(Job.kind == JobKind.EXTERNAL, _free(now), or_(*topic_clauses))
                 .order_by(Job.priority.desc(), Job.created_at, Job.id).limit(max_tasks))
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True, of=Job)
        views: list[ExternalTaskView] = []
        for job, instance in session.execute(query).all():
            topic = by_topic[job.topic or ""]
            expires = now + timedelta(milliseconds=topic.lock_duration_ms)
            taken = session.execute(update(Job).where(Job.id == job.id, _free(now))
                                    .values(state=JobState.LOCKED, lock_owner=worker_id, lock_expires_at=expires)
                                    .execution_options(synchronize_session=False))
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                continue  # another worker took it between our read and our update
            for name, value in (("state", JobState.LOCKED), ("lock_owner", worker_id), ("lock_expires_at", expires)):
                set_committed_value(job, name, value)  # what the UPDATE wrote, without another SELECT
            views.append(_view(job, instance, variables=_select(instance.variables, topic.variables)))
        return views


def _select(variables: dict[str, Any], names: list[str] | None) -> dict[str, Any]:
    if names is None:
        return dict(variables)
    return {n: variables[n] for n in names if n in variables}


def _view(job: Job, instance: ProcessInstance, *, variables: dict[str, Any] | None = None) -> ExternalTaskView:
    return ExternalTaskView(
        id=job.id, topic=job.topic or "", worker_id=job.lock_owner, lock_expires_at=job.lock_expires_at,
        instance_id=instance.id,
        definition_id=instance.definition_id, definition_key=instance.definition_key,
        business_key=instance.business_key, element_id=job.element_id, task_id=job.task_id,
        retries=job.retries, error_message=job.error_message, priority=job.priority, created_at=job.created_at,
        state=job.state, variables=variables if variables is not None else {},
    )


def _held_job(session: Session, task_id: str, worker_id: str, now: datetime) -> Job:
    """The job, locked (after its instance: locks.py) and checked to be held by `worker_id` with a lock that
    has not expired."""
    job = lock_job_after_instance(session, select(Job).where(Job.id == task_id, Job.kind == JobKind.EXTERNAL))
    if job is None:
        raise NotFound(f"external task {task_id} not found: it was completed, its activity was cancelled, "
                       f"or it never existed")
    if job.state == JobState.FAILED:
        raise Conflict(f"external task {task_id} has failed and has an incident; set its retries to run it again")
    if job.lock_owner is None:
        raise Conflict(f"external task {task_id} is not locked; fetch and lock it first")
    if job.lock_owner != worker_id:
        raise Conflict(f"external task {task_id} is locked by worker {job.lock_owner!r}, not {worker_id!r}")
    if job.lock_expires_at is None or job.lock_expires_at <= now:
        raise Conflict(f"the lock of worker {worker_id!r} on external task {task_id} expired at "
                       f"{job.lock_expires_at.isoformat() if job.lock_expires_at else '?'}; fetch and lock it again")
    return job


def _instance(session: Session, job: Job) -> ProcessInstance:
    instance = session.get(ProcessInstance, job.instance_id, with_for_update=True) if job.instance_id else None
    if instance is None or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
        raise Conflict(f"the instance of external task {job.id} is not running")
    return instance


def complete(ctx: AppContext, *, actor: Actor, task_id: str, worker_id: str,
             variables: dict[str, Any] | None = None) -> None:
    """The worker finished: its variables go into the instance, which runs on."""
    require_worker(actor)
    variables = check_variables(variables or {}, max_bytes=ctx.settings.max_variables_bytes)
    now = utcnow()
    with ctx.db.transaction() as session:
        job = _held_job(session, task_id, worker_id, now)
        instance = _instance(session, job)
        add_event(session, instance, EventKind.EXTERNAL_TASK_COMPLETED, actor=actor, at=now, task_id=job.task_id,
                  element_id=job.element_id, element_type="ServiceTask",
                  data={"worker_id": worker_id, "topic": job.topic, "variables": variables})
        advance(ctx, session, instance, runner.complete_external_task(job.task_id or "", variables), actor=actor)


def handle_failure(ctx: AppContext, *, actor: Actor, task_id: str, worker_id: str, error_message: str | None,
                   error_details: str | None = None, retries: int | None = None,
                   retry_timeout_ms: int = 0) -> None:
    """The worker could not do it. `retries` left > 0: the task is fetchable again after `retry_timeout_ms`;
    0: the job fails and the instance shows an incident (it keeps its place). Without `retries`: one fewer
    than before (the first failure counts from the server's default)."""
    require_worker(actor)
    if retry_timeout_ms < 0:
        raise InvalidInput("retry_timeout must not be negative")
    now = utcnow()
    with ctx.db.transaction() as session:
        job = _held_job(session, task_id, worker_id, now)
        instance = _instance(session, job)
        if retries is None:
            retries = (job.retries if job.retries is not None else ctx.settings.job_retries) - 1
        retries = max(retries, 0)
        message = (error_message or "external task failed")[:MAX_ERROR_CHARS]
        job.error_message = message
        job.error_details = error_details[:MAX_ERROR_CHARS * 4] if error_details else None
        job.retries = retries
        job.lock_owner = job.lock_expires_at = None
        add_event(session, instance, EventKind.EXTERNAL_TASK_FAILED, actor=actor, at=now, task_id=job.task_id,
                  element_id=job.element_id, element_type="ServiceTask",
                  data={"worker_id": worker_id, "topic": job.topic, "error_message": message, "retries": retries,
                        "retry_timeout_ms": retry_timeout_ms})
        if retries > 0:
            job.state = JobState.READY
            job.due_at = now + timedelta(milliseconds=retry_timeout_ms)
        else:
            fail_job(session, job, message, actor=actor, at=now, kind="failed_external_task")


def handle_bpmn_error(ctx: AppContext, *, actor: Actor, task_id: str, worker_id: str, error_code: str,
                      error_message: str | None = None, variables: dict[str, Any] | None = None) -> BpmnErrorResult:
    """A business error: a boundary error event with this code (or none) on the task or an enclosing
    sub-process takes over; if none does, the task stays and the instance shows an incident."""
    require_worker(actor)
    if not error_code:
        raise InvalidInput("error_code is required")
    variables = check_variables(variables or {}, max_bytes=ctx.settings.max_variables_bytes)
    now = utcnow()
    with ctx.db.transaction() as session:
        job = _held_job(session, task_id, worker_id, now)
        instance = _instance(session, job)
        data = {"worker_id": worker_id, "topic": job.topic, "error_code": error_code,
                "error_message": error_message, "variables": variables}
        try:
            advance(ctx, session, instance,
                    runner.throw_bpmn_error(job.task_id or "", error_code, error_message, variables), actor=actor)
        except UncaughtBpmnError as exc:  # nothing was changed by the engine
            add_event(session, instance, EventKind.EXTERNAL_TASK_BPMN_ERROR, actor=actor, at=now,
                      task_id=job.task_id, element_id=job.element_id, element_type="ServiceTask",
                      data={**data, "caught": False})
            job.error_message = exc.detail[:MAX_ERROR_CHARS]
            incident = fail_job(session, job, exc.detail, actor=actor, at=now, kind="bpmn_error")
            session.flush()
            return BpmnErrorResult(caught=False, incident_id=incident.id if incident else None)
        add_event(session, instance, EventKind.EXTERNAL_TASK_BPMN_ERROR, actor=actor, at=now, task_id=job.task_id,
                  element_id=job.element_id, element_type="ServiceTask", data={**data, "caught": True})
        return BpmnErrorResult(caught=True)


def extend_lock(ctx: AppContext, *, actor: Actor, task_id: str, worker_id: str, new_duration_ms: int) -> datetime:
    """The worker needs longer: the lock now ends `new_duration_ms` from now."""
    require_worker(actor)
    _check_duration(new_duration_ms, "new_duration")
    now = utcnow()
    with ctx.db.transaction() as session:
        job = _held_job(session, task_id, worker_id, now)
        job.lock_expires_at = now + timedelta(milliseconds=new_duration_ms)
        return job.lock_expires_at


def unlock(ctx: AppContext, *, actor: Actor, task_id: str) -> None:
    """Give the task back: any worker may fetch it at once."""
    require_worker(actor)
    with ctx.db.transaction() as session:
        job = _job(session, task_id)
        if job.state == JobState.LOCKED:
            job.state = JobState.READY
        job.lock_owner = job.lock_expires_at = None


def set_retries(ctx: AppContext, *, actor: Actor, task_id: str, retries: int) -> None:
    """Admins and workers: retries > 0 on a failed task resolves its incident and makes it fetchable;
    0 fails it (incident)."""
    require_worker(actor)
    if retries < 0:
        raise InvalidInput("retries must not be negative")
    now = utcnow()
    with ctx.db.transaction() as session:
        job = _job(session, task_id)
        if retries == 0:
            if job.state != JobState.FAILED:
                fail_job(session, job, job.error_message or "retries set to 0", actor=actor, at=now,
                         kind="failed_external_task")
            return
        job.retries = retries
        if job.state == JobState.FAILED:
            job.state = JobState.READY
            job.due_at = now
            resolve_job_incidents(session, job, actor=actor, at=now)


def _job(session: Session, task_id: str) -> Job:
    job = session.scalar(select(Job).where(Job.id == task_id, Job.kind == JobKind.EXTERNAL).with_for_update())
    if job is None:
        raise NotFound(f"external task {task_id} not found")
    return job


def get_external_task(ctx: AppContext, *, actor: Actor, task_id: str) -> ExternalTaskView:
    require_worker(actor)
    with ctx.db.transaction() as session:
        job = session.get(Job, task_id)
        if job is None or job.kind != JobKind.EXTERNAL or job.instance_id is None:
            raise NotFound(f"external task {task_id} not found")
        instance = session.get(ProcessInstance, job.instance_id)
        assert instance is not None
        return _view(job, instance)


def error_details(ctx: AppContext, *, actor: Actor, task_id: str) -> str | None:
    require_worker(actor)
    with ctx.db.transaction() as session:
        job = session.get(Job, task_id)
        if job is None or job.kind != JobKind.EXTERNAL:
            raise NotFound(f"external task {task_id} not found")
        return job.error_details


def list_external_tasks(ctx: AppContext, *, actor: Actor, topic: str | None = None, worker_id: str | None = None,
                        locked: bool | None = None, instance_id: str | None = None, business_key: str | None = None,
                        with_retries_left: bool | None = None, limit: int = 50,
                        offset: int = 0) -> tuple[list[ExternalTaskView], int]:
    require_worker(actor)
    now = utcnow()
    query = (select(Job, ProcessInstance).join(ProcessInstance, ProcessInstance.id == Job.instance_id)
             .where(Job.kind == JobKind.EXTERNAL))
    if topic is not None:
        query = query.where(Job.topic == topic)
    if worker_id is not None:
        query = query.where(Job.lock_owner == worker_id)
    if locked is True:
        query = query.where(Job.lock_owner.is_not(None), Job.lock_expires_at > now)
    elif locked is False:
        query = query.where(or_(Job.lock_owner.is_(None), Job.lock_expires_at <= now))
    if instance_id is not None:
        query = query.where(Job.instance_id == instance_id)
    if business_key is not None:
        query = query.where(ProcessInstance.business_key == business_key)
    if with_retries_left is True:
        query = query.where(Job.state != JobState.FAILED)
    elif with_retries_left is False:
        query = query.where(Job.state == JobState.FAILED)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(query.order_by(Job.created_at, Job.id).limit(limit).offset(offset)).all()
        return [_view(job, instance) for job, instance in rows], total
