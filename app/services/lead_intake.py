"""Taking one checked lead in, inside the caller's transaction: start its deal (and assign the first tasks), or
add it to the deal it duplicates as a note. Shared by bulk imports and the web-form endpoint."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import (
    EventKind,
    Group,
    ProcessDefinition,
    ProcessInstance,
    Task,
    TaskState,
    User,
    membership,
)
from app.services.context import AppContext
from app.services.instances import start_in_session
from app.services.lead_rules import Lead
from app.services.recording import add_event


def business_key_of(lead: Lead) -> str | None:
    company = lead.variables.get("company")
    return str(company)[:255] if company else None


def start_lead(ctx: AppContext, session: Session, definition: ProcessDefinition, lead: Lead, *, actor: Actor,
               event_data: dict[str, Any] | None = None, savepoint: bool = True) -> ProcessInstance:
    """In a savepoint, a lead whose start fails leaves nothing behind and the batch goes on; without (two round
    trips less per lead), the caller must roll back the whole transaction when it fails."""
    if not savepoint:
        return start_in_session(ctx, session, definition, actor=actor, business_key=business_key_of(lead),
                                variables=lead.variables, event_data=event_data)
    with session.begin_nested():
        return start_in_session(ctx, session, definition, actor=actor, business_key=business_key_of(lead),
                                variables=lead.variables, event_data=event_data)


def assign_open_tasks(session: Session, instance: ProcessInstance, assignee: str, *, actor: Actor) -> None:
    now = utcnow()
    for task in session.scalars(select(Task).where(Task.instance_id == instance.id, Task.state == TaskState.OPEN,
                                                   Task.assignee.is_(None))):
        task.assignee = assignee
        task.claimed_at = now
        add_event(session, instance, EventKind.TASK_ASSIGNED, actor=actor, at=now, task_id=task.id,
                  element_id=task.element_id, element_name=task.name, element_type="UserTask",
                  funnel_stage=task.funnel_stage, data={"previous": None, "assignee": assignee})


def add_note(session: Session, instance_id: str, *, actor: Actor, lead: Lead, data: dict[str, Any]) -> None:
    """The duplicate's data goes into the existing deal's history, so nothing the client sent is lost."""
    instance = session.get(ProcessInstance, instance_id)
    if instance is not None:
        add_event(session, instance, EventKind.NOTE_ADDED, actor=actor,
                  data={"lead": lead.variables, **data})


def group_members(session: Session, group: str) -> list[str]:
    """Active users of a group in a stable order (round-robin assignment)."""
    return list(session.scalars(
        select(User.username).join(membership, membership.c.user_id == User.id)
        .join(Group, Group.id == membership.c.group_id)
        .where(Group.id == group, User.is_active.is_(True)).order_by(User.username)))
