"""Process instances: start, read, list, terminate, retry after an incident."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.permissions import may_read_task, require_may_start, visible_instances_clause
from app.db.base import utcnow
from app.db.models import (
    DefinitionState,
    EventKind,
    HistoryEvent,
    Incident,
    InstanceStatus,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskState,
)
from app.engine import runner
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.observability.metrics import engine_step
from app.services.context import AppContext
from app.services.deployments import find_definition
from app.services.lead_dedupe import record_keys
from app.services.recording import add_event, record_step
from app.services.variables import check_text, check_variables, validate_form


@dataclass
class InstanceView:
    instance: ProcessInstance
    definition_version: int
    open_tasks: list[Task]
    incidents: list[Incident]


def start_instance(ctx: AppContext, *, actor: Actor, definition_key: str | None = None,
                   definition_id: str | None = None, business_key: str | None = None,
                   variables: dict[str, Any] | None = None, submit_start_form: bool = False) -> InstanceView:
    """`submit_start_form`: the variables are the definition's start form as filled in by a person, so they are
    checked against it (required fields, types, ranges) like a task's form."""
    variables = check_variables(variables or {}, max_bytes=ctx.settings.max_variables_bytes)
    check_text(business_key, "business_key")
    with ctx.db.transaction() as session:
        definition = find_definition(session, definition_id=definition_id, key=definition_key)
        require_may_start(actor, definition)
        if submit_start_form:
            variables = validate_form(definition.start_form, variables)
        instance = start_in_session(ctx, session, definition, actor=actor, business_key=business_key,
                                    variables=variables)
        return _view(session, instance, actor)


def start_in_session(ctx: AppContext, session: Session, definition: ProcessDefinition, *, actor: Actor,
                     business_key: str | None, variables: dict[str, Any], start_event: str | None = None,
                     correlations: dict[str, Any] | None = None, event_data: dict[str, Any] | None = None,
                     trigger: tuple[EventKind, dict[str, Any]] | None = None) -> ProcessInstance:
    """Start inside the caller's transaction. `start_event` fires that start event (timer and message start
    events); without it a process lacking a none start event fires its only start event."""
    if definition.state != DefinitionState.APPROVED:
        raise Conflict(f"version {definition.version} of {definition.key!r} is {definition.state}: deals start "
                       "on approved versions only (the head of sales approves a draft)")
    runtime = ctx.runtimes.get(session, definition.id)
    if start_event is None:
        start_event = runner.manual_start_event(runtime)
    with engine_step():
        step = runner.start(runtime, variables, max_steps=ctx.settings.max_engine_steps, start_event=start_event,
                            correlations=correlations)
    now = utcnow()
    instance = ProcessInstance(
        definition_id=definition.id, definition_key=definition.key, business_key=business_key,
        status=InstanceStatus.RUNNING, state={}, variables={}, started_by=actor.username, started_at=now,
        updated_at=now,
    )
    session.add(instance)
    session.flush()
    record_keys(session, instance, definition, variables)  # for duplicate-lead checks (services.lead_dedupe)
    add_event(session, instance, EventKind.INSTANCE_STARTED, actor=actor, at=now,
              element_id=start_event,
              data={"variables": variables, "business_key": business_key, "version": definition.version,
                    **(event_data or {})})
    if trigger is not None:  # what started it (a timer firing, a message) comes before what it caused
        add_event(session, instance, trigger[0], actor=actor, at=now, element_id=start_event, data=trigger[1])
    thrown = record_step(session, instance, step, actor=actor, limits=ctx.limits)
    _after_step(ctx, session, instance, thrown, actor=actor)
    return instance


def advance(ctx: AppContext, session: Session, instance: ProcessInstance, command: runner.Command, *,
            actor: Actor) -> list[runner.ThrownMessage]:
    """Run a command on a stored instance and record the outcome (the caller owns the transaction)."""
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
        raise Conflict(f"instance {instance.id} is {instance.status}")
    runtime = ctx.runtimes.get(session, instance.definition_id)
    with engine_step():
        step = runner.apply(runtime, instance.state, command, max_steps=ctx.settings.max_engine_steps)
    thrown = record_step(session, instance, step, actor=actor, limits=ctx.limits)
    _after_step(ctx, session, instance, thrown, actor=actor)
    return thrown


def _after_step(ctx: AppContext, session: Session, instance: ProcessInstance,
                thrown: list[runner.ThrownMessage], *, actor: Actor) -> None:
    """Messages move between instances in the same transaction: route what this one threw, and hand it
    any buffered message it now waits for."""
    from app.services import messages  # messages starts and advances instances through this module

    messages.after_step(ctx, session, instance, thrown, actor=actor)


def get_instance(ctx: AppContext, *, actor: Actor, instance_id: str) -> InstanceView:
    with ctx.db.read() as session:
        return _view(session, readable_instance(session, actor, instance_id), actor)


def readable_instance(session: Session, actor: Actor, instance_id: str, *, lock: bool = False) -> ProcessInstance:
    """`lock`: take the instance row first (services/locks.py) before changing it or its tasks."""
    query = select(ProcessInstance).where(ProcessInstance.id == instance_id, visible_instances_clause(actor))
    instance = session.scalar(query.with_for_update(of=ProcessInstance) if lock else query)
    if instance is None:
        raise NotFound(f"process instance {instance_id} not found")
    return instance


def list_instances(ctx: AppContext, *, actor: Actor, definition_key: str | None = None,
                   business_key: str | None = None, status: str | None = None,
                   started_after: datetime | None = None, started_before: datetime | None = None,
                   search: str | None = None, limit: int = 50, offset: int = 0,
                   definition_id: str | None = None,
                   instance_ids: list[str] | None = None, statuses: list[str] | None = None,
                   business_key_like: str | None = None, started_by: str | None = None,
                   oldest_first: bool = False) -> tuple[list[InstanceView], int]:
    for value in [status, *(statuses or [])]:
        if value is not None and value not in set(InstanceStatus):
            raise InvalidInput(f"status must be one of {', '.join(InstanceStatus)}")
    query = select(ProcessInstance).where(visible_instances_clause(actor))
    if definition_id:
        query = query.where(ProcessInstance.definition_id == definition_id)
    if instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(instance_ids))
    if statuses is not None:
        query = query.where(ProcessInstance.status.in_(statuses))
    if business_key_like:
        query = query.where(ProcessInstance.business_key.like(business_key_like))
    if started_by:
        query = query.where(ProcessInstance.started_by == started_by)
    if definition_key:
        query = query.where(ProcessInstance.definition_key == definition_key)
    if business_key:
        query = query.where(ProcessInstance.business_key == business_key)
    if status:
        query = query.where(ProcessInstance.status == status)
    if search:
        query = query.where(func.lower(ProcessInstance.business_key).like(f"%{search.lower()}%"))
    if started_after:
        query = query.where(ProcessInstance.started_at >= started_after)
    if started_before:
        query = query.where(ProcessInstance.started_at < started_before)
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        started = ProcessInstance.started_at.asc() if oldest_first else ProcessInstance.started_at.desc()
        rows = session.scalars(query.order_by(started, ProcessInstance.id).limit(limit).offset(offset)).all()
        return _views(session, list(rows), actor), total


def terminate_instance(ctx: AppContext, *, actor: Actor, instance_id: str,
                       reason: str | None = None) -> InstanceView:
    with ctx.db.transaction() as session:
        instance = readable_instance(session, actor, instance_id, lock=True)
        if not (actor.sees_all_work or instance.started_by == actor.username):
            raise Forbidden("only who started the instance, the head of sales or an admin may terminate it")
        advance(ctx, session, instance, runner.cancel(), actor=actor)
        now = utcnow()
        instance.status = InstanceStatus.TERMINATED
        instance.ended_at = now
        for task in session.scalars(select(Task).where(Task.instance_id == instance.id,
                                                       Task.state == TaskState.OPEN)):
            task.state = TaskState.CANCELLED
            task.completed_at = now
        add_event(session, instance, EventKind.INSTANCE_TERMINATED, actor=actor, at=now,
                  data={"reason": reason} if reason else {})
        return _view(session, instance, actor)


def retry_instance(ctx: AppContext, *, actor: Actor, instance_id: str) -> InstanceView:
    """After the cause of an incident is fixed, run the failed step again."""
    if not actor.is_admin:
        raise Forbidden("retrying an incident requires the admin role")
    from app.services.jobs import reset_job_for_retry

    with ctx.db.transaction() as session:
        instance = readable_instance(session, actor, instance_id, lock=True)
        if instance.status != InstanceStatus.FAILED:
            raise Conflict(f"instance {instance_id} has no open incident (status {instance.status})")
        now = utcnow()
        engine_failure = False
        for incident in instance.incidents:
            if incident.resolved_at is None:
                incident.resolved_at = now
                add_event(session, instance, EventKind.INCIDENT_RESOLVED, actor=actor, at=now,
                          element_id=incident.element_id, data={"incident_id": incident.id})
                if incident.job_id is not None:
                    reset_job_for_retry(session, incident.job_id, retries=1)  # a failed job runs again
                else:
                    engine_failure = True
        if engine_failure:
            advance(ctx, session, instance, runner.retry_failed(), actor=actor)
        elif instance.status == InstanceStatus.FAILED:
            instance.status = InstanceStatus.RUNNING
        return _view(session, instance, actor)


def instance_history(ctx: AppContext, *, actor: Actor, instance_id: str) -> list[HistoryEvent]:
    with ctx.db.transaction() as session:
        readable_instance(session, actor, instance_id)
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.instance_id == instance_id)
                                    .order_by(HistoryEvent.id)))


def _view(session: Session, instance: ProcessInstance, actor: Actor) -> InstanceView:
    return _views(session, [instance], actor)[0]


def _views(session: Session, instances: list[ProcessInstance], actor: Actor) -> list[InstanceView]:
    """Views for a page of instances in three queries, whatever the page size. Open tasks the actor may not
    read are left out: seeing an instance one worked on does not show the next role's task."""
    ids = [i.id for i in instances]
    if not ids:
        return []
    tasks: dict[str, list[Task]] = {i: [] for i in ids}
    for task in session.scalars(select(Task).where(Task.instance_id.in_(ids), Task.state == TaskState.OPEN)
                                .order_by(Task.created_at)):
        if may_read_task(actor, task):
            tasks[task.instance_id].append(task)
    incidents: dict[str, list[Incident]] = {i: [] for i in ids}
    for incident in session.scalars(select(Incident).where(Incident.instance_id.in_(ids),
                                                           Incident.resolved_at.is_(None))):
        incidents[incident.instance_id].append(incident)
    versions = dict(session.execute(
        select(ProcessDefinition.id, ProcessDefinition.version)
        .where(ProcessDefinition.id.in_({i.definition_id for i in instances}))).all())
    return [InstanceView(i, versions[i.definition_id], tasks[i.id], incidents[i.id]) for i in instances]


def definition_ids_of(ctx: AppContext, *, instance_ids: list[str]) -> dict[str, str]:
    """Instance id -> definition id, for tasks and jobs that carry only the instance (no data is read)."""
    if not instance_ids:
        return {}
    with ctx.db.transaction() as session:
        rows = session.execute(select(ProcessInstance.id, ProcessInstance.definition_id)
                               .where(ProcessInstance.id.in_(set(instance_ids)))).all()
        return dict(rows)
