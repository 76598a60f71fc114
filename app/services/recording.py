"""Write what one engine step produced: instance row, task projection, jobs, subscriptions, history.

Every use case that advances an instance ends here, inside its one transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import (
    CandidateKind,
    EventKind,
    HistoryEvent,
    Incident,
    InstanceStatus,
    Job,
    JobKind,
    JobState,
    MessageSubscription,
    ProcessInstance,
    Task,
    TaskCandidate,
    TaskState,
)
from app.engine.assignment import resolve_assignment
from app.engine.runner import Failure, OpenTask, Step, ThrownMessage
from app.errors import ExpressionFailed
from app.services.deal_tracking import capture_deal_fields, reached_service_stages, track_stages


def record_step(session: Session, instance: ProcessInstance, step: Step, *, actor: Actor,
                limits: Any) -> list[ThrownMessage]:
    """Apply `step` to the database; returns the messages the instance threw, for the caller to route."""
    now = utcnow()
    stage_before = instance.funnel_stage
    instance.state = step.state
    instance.variables = step.data
    instance.updated_at = now
    capture_deal_fields(instance, step.data)
    jobs = list(session.scalars(select(Job).where(Job.instance_id == instance.id)))
    _record_timer_firings(session, instance, step, jobs, actor=actor, at=now)
    _record_finished_elements(session, instance, step, actor=actor, at=now)
    failure = step.failure
    failure = _sync_tasks(session, instance, step, actor=actor, at=now, limits=limits) or failure
    reached = reached_service_stages(session, instance, step, jobs)
    if reached:
        instance.funnel_stage = reached[-1]
    _sync_jobs(session, instance, step, jobs)
    _sync_subscriptions(session, instance, step)
    if failure is not None:
        instance.status = InstanceStatus.FAILED
        session.add(Incident(instance_id=instance.id, element_id=failure.element_id, kind="failure",
                             message=failure.message, created_at=now))
        add_event(session, instance, EventKind.INCIDENT_CREATED, actor=actor, at=now,
                  element_id=failure.element_id, data={"message": failure.message})
    elif step.completed:
        instance.status = InstanceStatus.COMPLETED
        instance.ended_at = now
        instance.outcome = step.end_properties.get("outcome") or instance.outcome
        add_event(session, instance, EventKind.INSTANCE_COMPLETED, actor=actor, at=now,
                  data={"outcome": instance.outcome} if instance.outcome else {})
    elif instance.status == InstanceStatus.FAILED and not has_open_incidents(session, instance):
        instance.status = InstanceStatus.RUNNING
    passed = [e.properties.get("funnel_stage") for e in step.finished_elements if e.element_type != "UserTask"]
    track_stages(session, instance, stage_before, [*passed, *reached, instance.funnel_stage], at=now,
                 ended=instance.status == InstanceStatus.COMPLETED)
    return step.thrown


def has_open_incidents(session: Session, instance: ProcessInstance) -> bool:
    """Unresolved incidents other than those pending in this session (a job out of retries keeps its own)."""
    session.flush()
    return session.scalar(select(Incident.id).where(Incident.instance_id == instance.id,
                                                    Incident.resolved_at.is_(None)).limit(1)) is not None


def add_event(session: Session, instance: ProcessInstance, kind: EventKind, *, actor: Actor | None,
              at: datetime | None = None, task_id: str | None = None, element_id: str | None = None,
              element_name: str | None = None, element_type: str | None = None,
              funnel_stage: str | None = None, data: dict[str, Any] | None = None) -> None:
    session.add(HistoryEvent(
        instance_id=instance.id, definition_id=instance.definition_id, task_id=task_id, kind=kind,
        element_id=element_id, element_name=element_name, element_type=element_type, funnel_stage=funnel_stage,
        actor=actor.username if actor else None, at=at or utcnow(), data=data or {},
    ))


def _record_finished_elements(session: Session, instance: ProcessInstance, step: Step, *, actor: Actor,
                              at: datetime) -> None:
    for element in step.finished_elements:
        if element.element_type == "UserTask":
            # Recorded as task_completed by the task service, with its actor and data. Its stage was the
            # deal's when the task opened; a side task (an escalation) finishing late must not move it back.
            continue
        stage = element.properties.get("funnel_stage")
        if stage:
            instance.funnel_stage = stage
        kind = EventKind.GATEWAY_TAKEN if element.taken else EventKind.ELEMENT_COMPLETED
        add_event(session, instance, kind, actor=actor, at=at, task_id=element.task_id,
                  element_id=element.element_id, element_name=element.element_name,
                  element_type=element.element_type, funnel_stage=stage,
                  data={"taken": element.taken} if element.taken else
                  {"decision": element.decision} if element.decision else {})


def _sync_tasks(session: Session, instance: ProcessInstance, step: Step, *, actor: Actor, at: datetime,
                limits: Any) -> Failure | None:
    """Open rows for new user tasks, cancel rows whose task the engine no longer waits on."""
    failure = None
    open_rows = {t.id: t for t in session.scalars(
        select(Task).where(Task.instance_id == instance.id, Task.state == TaskState.OPEN))}
    live = {t.id for t in step.user_tasks}
    for task_id, row in open_rows.items():
        if task_id not in live:
            row.state = TaskState.CANCELLED
            row.completed_at = at
            add_event(session, instance, EventKind.TASK_CANCELLED, actor=actor, at=at, task_id=row.id,
                      element_id=row.element_id, element_name=row.name, element_type="UserTask")
    for open_task in step.user_tasks:
        if open_task.id in open_rows:
            continue
        try:
            row = _new_task_row(instance, open_task, at=at, limits=limits)
        except ExpressionFailed as exc:
            failure = Failure(open_task.element_id, exc.detail)
            row = _new_task_row(instance, open_task, at=at, limits=None)
        session.add(row)
        if row.funnel_stage:
            instance.funnel_stage = row.funnel_stage
        add_event(session, instance, EventKind.TASK_CREATED, actor=actor, at=at, task_id=row.id,
                  element_id=row.element_id, element_name=row.name, element_type="UserTask",
                  funnel_stage=row.funnel_stage,
                  data={"candidate_groups": row.candidate_groups, "assignee": row.assignee})
    return failure


def _new_task_row(instance: ProcessInstance, task: OpenTask, *, at: datetime, limits: Any) -> Task:
    ext = task.extensions
    assignment = resolve_assignment(ext, task.data, limits=limits, now=at) if limits else None
    properties = dict(ext.get("properties") or {})
    row = Task(
        id=task.id, instance_id=instance.id, definition_key=instance.definition_key,
        business_key=instance.business_key, element_id=task.element_id, name=task.name, lane=task.lane,
        documentation=task.documentation or ext.get("documentation"),
        assignee=assignment.assignee if assignment else None,
        form=list(ext.get("form_fields") or []), properties=properties,
        funnel_stage=properties.get("funnel_stage"), work_kind=properties.get("work_kind"),
        due_at=assignment.due_at if assignment else None,
        priority=assignment.priority if assignment else 50,
        state=TaskState.OPEN, created_at=at,
        claimed_at=at if assignment and assignment.assignee else None,
    )
    groups = assignment.candidate_groups if assignment else []
    users = assignment.candidate_users if assignment else []
    row.candidates = [TaskCandidate(kind=CandidateKind.GROUP, name=g) for g in dict.fromkeys(groups)] + [
        TaskCandidate(kind=CandidateKind.USER, name=u) for u in dict.fromkeys(users)]
    return row


def _record_timer_firings(session: Session, instance: ProcessInstance, step: Step, jobs: list[Job], *,
                          actor: Actor, at: datetime) -> None:
    """One timer_fired per timer that fired in this step, whoever ran it: the worker, any request (the engine
    fires due timers before every step), or the step that reached a timer already due (a past date). A cycle
    that fired moved on to its next due time instead of completing."""
    by_task = {j.task_id: j for j in jobs if j.kind == JobKind.TIMER}
    next_due = {t.task_id: t.due_at for t in step.timers}
    worker = session.info.get("worker_id")
    fired: list[tuple[str, str, Job | None]] = [(e.task_id, e.element_id, by_task.get(e.task_id))
                                                for e in step.finished_elements if e.timer]
    fired += [(task_id, job.element_id, job) for task_id, job in by_task.items()
              if task_id in next_due and job.due_at is not None and next_due[task_id] != job.due_at
              and job.due_at <= at]
    for task_id, element_id, job in fired:
        data: dict[str, Any] = {"job_id": None, "due_at": None, "worker": None, "lag_ms": None}
        if job is not None and job.due_at is not None:
            data = {"job_id": job.id, "due_at": job.due_at.isoformat(), "worker": worker,
                    "lag_ms": round((at - job.due_at).total_seconds() * 1000, 1)}
        add_event(session, instance, EventKind.TIMER_FIRED, actor=actor, at=at, task_id=task_id,
                  element_id=element_id, data=data)


def _sync_jobs(session: Session, instance: ProcessInstance, step: Step, jobs: list[Job]) -> None:
    existing = {(j.kind, j.task_id): j for j in jobs}
    wanted: dict[tuple[str, str], Job] = {}
    for timer in step.timers:
        wanted[(JobKind.TIMER, timer.task_id)] = Job(
            kind=JobKind.TIMER, instance_id=instance.id, task_id=timer.task_id, element_id=timer.element_id,
            due_at=timer.due_at, state=JobState.READY)
    for ext in step.external_tasks:
        wanted[(JobKind.EXTERNAL, ext.task_id)] = Job(
            kind=JobKind.EXTERNAL, instance_id=instance.id, task_id=ext.task_id, element_id=ext.element_id,
            topic=ext.topic, due_at=utcnow(), state=JobState.READY)
    for key, job in existing.items():
        if key not in wanted:
            session.delete(job)
        elif job.kind == JobKind.TIMER and job.due_at != wanted[key].due_at:
            job.due_at = wanted[key].due_at  # a cycle timer moved on to its next firing
            job.state = JobState.READY
            job.lock_owner = job.lock_expires_at = None
            job.retries = None
    for key, job in wanted.items():
        if key not in existing:
            session.add(job)


def _sync_subscriptions(session: Session, instance: ProcessInstance, step: Step) -> None:
    existing = {(s.task_id, s.message_name): s for s in session.scalars(
        select(MessageSubscription).where(MessageSubscription.instance_id == instance.id))}
    wanted = {(w.task_id, w.message_name): w for w in step.message_waits}
    for key, sub in existing.items():
        if key not in wanted:
            session.delete(sub)
        elif sub.correlation != wanted[key].correlation:
            sub.correlation = wanted[key].correlation  # the data a retrieval expression reads has changed
    for key, wait in wanted.items():
        if key not in existing:
            session.add(MessageSubscription(
                message_name=wait.message_name, instance_id=instance.id, business_key=instance.business_key,
                task_id=wait.task_id, element_id=wait.element_id, correlation=wait.correlation))
