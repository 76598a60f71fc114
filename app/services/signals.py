"""Signals: broadcast to every instance waiting for the signal and to every process that starts with it.

Unlike a message, a signal has no correlation and no single receiver. A signal thrown inside an instance and
caught there stays there (SpiffWorkflow catches it first); one nothing in the instance catches goes to all others.
Waits and signal start events are message subscriptions named `signal:<name>` (runner.SIGNAL_PREFIX).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import EventKind, InstanceStatus, MessageSubscription, ProcessDefinition, ProcessInstance
from app.engine import runner
from app.errors import Forbidden, InvalidInput
from app.services.context import AppContext
from app.services.instances import advance, start_in_session
from app.services.message_access import trusted_sender
from app.services.recording import add_event


@dataclass
class Delivery:
    instance_id: str
    element_id: str
    started: bool  # a signal start event started this instance


def broadcast(ctx: AppContext, *, actor: Actor, name: str, variables: dict[str, Any] | None = None) -> list[Delivery]:
    """From outside (REST): admins and integration workers only, since a broadcast reaches everyone's deals."""
    if not name or not name.strip():
        raise InvalidInput("name the signal")
    if not trusted_sender(actor):
        raise Forbidden("throwing a signal reaches every waiting instance: it requires the admin or "
                        "external_worker role")
    with ctx.db.transaction() as session:
        return broadcast_in_session(ctx, session, actor=actor, name=name, variables=variables or {})


def broadcast_in_session(ctx: AppContext, session: Session, *, actor: Actor, name: str, variables: dict[str, Any],
                         sender: ProcessInstance | None = None) -> list[Delivery]:
    key = runner.SIGNAL_PREFIX + name
    subscriptions = list(session.scalars(select(MessageSubscription).where(MessageSubscription.message_name == key)
                                         .order_by(MessageSubscription.created_at, MessageSubscription.id)))
    deliveries: list[Delivery] = []
    reached: set[str] = set()
    for sub in subscriptions:
        if sub.instance_id is None or sub.instance_id in reached or (sender and sub.instance_id == sender.id):
            continue
        reached.add(sub.instance_id)
        instance = session.get(ProcessInstance, sub.instance_id, with_for_update=True)
        if instance is None or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
            continue
        add_event(session, instance, EventKind.MESSAGE_CORRELATED, actor=actor, task_id=sub.task_id,
                  element_id=sub.element_id, data=_data(name, variables, sender))
        advance(ctx, session, instance, runner.deliver_signal(name, variables), actor=actor)
        deliveries.append(Delivery(instance.id, sub.element_id, started=False))
    for sub in subscriptions:
        if sub.instance_id is not None or sub.definition_id is None:
            continue
        definition = session.get(ProcessDefinition, sub.definition_id)
        if definition is None:
            continue
        started = start_in_session(ctx, session, definition, actor=actor, business_key=None, variables=variables,
                                   start_event=sub.element_id, event_data={"signal": name},
                                   trigger=(EventKind.MESSAGE_CORRELATED, _data(name, variables, sender)))
        deliveries.append(Delivery(started.id, sub.element_id, started=True))
    return deliveries


def _data(name: str, variables: dict[str, Any], sender: ProcessInstance | None) -> dict[str, Any]:
    data: dict[str, Any] = {"signal": name, "variables": variables}
    if sender is not None:
        data["from_instance"] = sender.id
    return data
