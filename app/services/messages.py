"""Messages: correlate a named message to the instance(s) waiting for it, or start an instance through a
message start event; route messages thrown by instances; keep a message for later when asked to.

Matching is done on `message_subscription` rows (kept by recording for waiting instances, and by
deployment for message start events of the latest version of each process): by name, business key and
correlation values keyed by correlation property id. The engine then catches the message
(`runner.deliver_message`) in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.auth.actor import SYSTEM, Actor
from app.db.base import utcnow
from app.db.models import (
    BufferedMessage,
    EventKind,
    InstanceStatus,
    MessageSubscription,
    ProcessDefinition,
    ProcessInstance,
)
from app.engine import runner
from app.errors import Conflict, InvalidInput, NotFound
from app.services import message_access
from app.services.context import AppContext
from app.services.instances import advance, start_in_session
from app.services.recording import add_event
from app.services.variables import check_text, check_variables, refuse_unstorable, unstorable

# Instance A throws to B which throws to C ...: a chain this long is a modelling loop, not a process.
MAX_ROUTING_DEPTH = 20


@dataclass
class Delivery:
    instance_id: str
    element_id: str | None
    started: bool  # True when a message start event started this instance


@dataclass
class CorrelationResult:
    deliveries: list[Delivery] = field(default_factory=list)
    buffered_id: str | None = None


def correlate_message(ctx: AppContext, *, actor: Actor, name: str, business_key: str | None = None,
                      correlation: dict[str, Any] | None = None, variables: dict[str, Any] | None = None,
                      all: bool = False, buffer: bool = False) -> CorrelationResult:
    """Deliver `name` to the waiting instance it correlates to (all of them with `all`), else start an
    instance through a message start event; nobody waiting: NotFound, or buffered when `buffer`."""
    if not name or not name.strip():
        raise InvalidInput("the message needs a name")
    variables = check_variables(variables or {}, max_bytes=ctx.settings.max_variables_bytes)
    check_text(business_key, "business_key")
    correlation = dict(correlation or {})
    refuse_unstorable(unstorable(correlation, "correlation"))
    if buffer:
        message_access.require_may_buffer(actor, name)
    with ctx.db.transaction() as session:
        result = CorrelationResult()
        result.deliveries = correlate_in_session(ctx, session, actor=actor, name=name, business_key=business_key,
                                                 correlation=correlation, variables=variables, deliver_all=all)
        if result.deliveries:
            return result
        if not buffer:
            raise NotFound(_no_receiver(session, name, business_key, correlation,
                                        hint=message_access.trusted_sender(actor)))
        message = BufferedMessage(message_name=name, business_key=business_key, correlation=correlation,
                                  variables=variables, created_at=utcnow(),
                                  expires_at=utcnow() + timedelta(seconds=ctx.settings.message_buffer_seconds))
        session.add(message)
        session.flush()
        result.buffered_id = message.id
        return result


def correlate_in_session(ctx: AppContext, session: Session, *, actor: Actor, name: str, business_key: str | None,
                         correlation: dict[str, Any], variables: dict[str, Any], deliver_all: bool,
                         sender: ProcessInstance | None = None,
                         check_start_permission: bool = True) -> list[Delivery]:
    waiting = _waiting_instances(session, name, business_key, correlation,
                                 exclude=sender.id if sender is not None else None)
    if sender is None:  # from outside: only what the actor may send to (a thrown message is the model's)
        waiting = message_access.permitted_receivers(ctx, session, actor, name, waiting)
    if waiting:
        if len(waiting) > 1 and not deliver_all:
            raise Conflict(f"{len(waiting)} instances wait for message {name!r}"
                           + _criteria(business_key, correlation)
                           + "; narrow it with business_key/correlation, or send all=true to deliver to each")
        return [_deliver(ctx, session, sub, name=name, variables=variables, correlation=correlation,
                         actor=actor, sender=sender) for sub in waiting]
    starts = list(session.scalars(select(MessageSubscription).where(
        MessageSubscription.message_name == name, MessageSubscription.definition_id.is_not(None),
        MessageSubscription.instance_id.is_(None)).order_by(MessageSubscription.created_at)))
    if len(starts) > 1 and not deliver_all:
        raise Conflict(f"{len(starts)} processes start with message {name!r}; send all=true to start each")
    return [_start(ctx, session, sub, name=name, business_key=business_key, variables=variables,
                   correlation=correlation, actor=actor, sender=sender, check_permission=check_start_permission)
            for sub in starts]


def _waiting_instances(session: Session, name: str, business_key: str | None, correlation: dict[str, Any],
                       *, exclude: str | None) -> list[MessageSubscription]:
    """One subscription per waiting instance (an instance may wait for the same message twice)."""
    query = select(MessageSubscription).where(MessageSubscription.message_name == name,
                                              MessageSubscription.instance_id.is_not(None))
    if business_key is not None:
        query = query.where(MessageSubscription.business_key == business_key)
    if exclude is not None:
        query = query.where(MessageSubscription.instance_id != exclude)
    chosen: dict[str, MessageSubscription] = {}
    for sub in session.scalars(query.order_by(MessageSubscription.created_at, MessageSubscription.id)):
        if sub.instance_id not in chosen and correlation_matches(sub.correlation, correlation):
            chosen[sub.instance_id] = sub  # type: ignore[index]
    return list(chosen.values())


def correlation_matches(expected: dict[str, Any], given: dict[str, Any]) -> bool:
    """Every given correlation value must equal what the subscription expects (JSON equality)."""
    return all(key in expected and expected[key] == value for key, value in given.items())


def _deliver(ctx: AppContext, session: Session, sub: MessageSubscription, *, name: str,
             variables: dict[str, Any], correlation: dict[str, Any], actor: Actor,
             sender: ProcessInstance | None) -> Delivery:
    instance = session.get(ProcessInstance, sub.instance_id, with_for_update=True)
    if instance is None or instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
        raise Conflict(f"instance {sub.instance_id} waiting for message {name!r} is no longer running")
    element_id = sub.element_id
    add_event(session, instance, EventKind.MESSAGE_CORRELATED, actor=actor, task_id=sub.task_id,
              element_id=element_id, data=_event_data(name, sub.business_key, correlation, variables, sender))
    advance(ctx, session, instance, runner.deliver_message(name, variables, correlation), actor=actor)
    return Delivery(instance.id, element_id, started=False)


def _start(ctx: AppContext, session: Session, sub: MessageSubscription, *, name: str, business_key: str | None,
           variables: dict[str, Any], correlation: dict[str, Any], actor: Actor, sender: ProcessInstance | None,
           check_permission: bool) -> Delivery:
    definition = session.get(ProcessDefinition, sub.definition_id)
    if definition is None:
        raise NotFound(f"process definition {sub.definition_id} not found")
    if check_permission:
        message_access.require_may_start_by_message(ctx, session, actor, name, definition)
    instance = start_in_session(ctx, session, definition, actor=actor, business_key=business_key,
                                variables=variables, start_event=sub.element_id, correlations=correlation,
                                event_data={"message": name},
                                trigger=(EventKind.MESSAGE_CORRELATED,
                                         _event_data(name, business_key, correlation, variables, sender)))
    return Delivery(instance.id, sub.element_id, started=True)


def _event_data(name: str, business_key: str | None, correlation: dict[str, Any], variables: dict[str, Any],
                sender: ProcessInstance | None) -> dict[str, Any]:
    data: dict[str, Any] = {"name": name, "business_key": business_key, "correlation": correlation,
                            "variables": variables}
    if sender is not None:
        data["from_instance"] = sender.id
    return data


def _criteria(business_key: str | None, correlation: dict[str, Any]) -> str:
    parts = []
    if business_key is not None:
        parts.append(f"business key {business_key!r}")
    if correlation:
        parts.append(f"correlation {correlation}")
    return (" with " + " and ".join(parts)) if parts else ""


def _no_receiver(session: Session, name: str, business_key: str | None, correlation: dict[str, Any],
                 *, hint: bool) -> str:
    """Why nobody got it; the count of other waiting instances only for senders who may send to any."""
    others = session.scalars(select(MessageSubscription.instance_id).where(
        MessageSubscription.message_name == name, MessageSubscription.instance_id.is_not(None)).limit(100)).all()
    text = (f"no process instance waits for message {name!r}{_criteria(business_key, correlation)}, "
            f"and no deployed process starts with it")
    if others and hint:
        text += (f" ({len(set(others))} instance(s) wait for {name!r} with other business keys or correlation "
                 f"values)")
    return text + "; send buffer=true to keep the message until a receiver appears"


# --- what happens after every engine step ----------------------------------------------------------------


def after_step(ctx: AppContext, session: Session, instance: ProcessInstance, thrown: list[runner.ThrownMessage],
               *, actor: Actor) -> None:
    """Route the messages `instance` threw, then give it any buffered message it now waits for."""
    depth = int(session.info.get("message_depth", 0))
    if depth >= MAX_ROUTING_DEPTH:
        for message in thrown:
            add_event(session, instance, EventKind.MESSAGE_THROWN, actor=actor,
                      data={"name": message.name, "delivered_to": [],
                            "note": f"not delivered: more than {MAX_ROUTING_DEPTH} messages in a chain"})
        return
    session.info["message_depth"] = depth + 1
    try:
        for message in thrown:
            _route_thrown(ctx, session, instance, message, actor=actor)
        deliver_buffered(ctx, session, instance, actor=actor)
    finally:
        session.info["message_depth"] = depth


def _route_thrown(ctx: AppContext, session: Session, sender: ProcessInstance, message: runner.ThrownMessage,
                  *, actor: Actor) -> None:
    """A message no task of the sender caught: to every instance waiting for it with the same correlation
    values (or, when the message has none, the sender's business key), else to message start events."""
    correlation = flatten_correlations(message.correlations)
    business_key = None if correlation else sender.business_key
    payload = message.payload if isinstance(message.payload, dict) else {"payload": message.payload}
    deliveries = correlate_in_session(ctx, session, actor=actor, name=message.name, business_key=business_key,
                                      correlation=correlation, variables=payload, deliver_all=True, sender=sender,
                                      check_start_permission=False)
    add_event(session, sender, EventKind.MESSAGE_THROWN, actor=actor,
              data={"name": message.name, "correlation": correlation,
                    "delivered_to": [d.instance_id for d in deliveries if not d.started],
                    "started": [d.instance_id for d in deliveries if d.started]})


def flatten_correlations(correlations: Any) -> dict[str, Any]:
    """SpiffWorkflow's {correlation key: {property id: value}} -> {property id: value}."""
    flat: dict[str, Any] = {}
    for values in (correlations or {}).values():
        if isinstance(values, dict):
            flat.update(values)
    return flat


def deliver_buffered(ctx: AppContext, session: Session, instance: ProcessInstance, *, actor: Actor) -> None:
    if session.scalar(select(BufferedMessage.id).limit(1)) is None:
        return  # the usual case: one cheap query
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
        return
    session.flush()
    subs = list(session.scalars(select(MessageSubscription).where(MessageSubscription.instance_id == instance.id)))
    if not subs:
        return
    for message in _live_buffered(session, {s.message_name for s in subs}):
        for sub in subs:
            if sub.message_name == message.message_name and (
                    message.business_key is None or message.business_key == sub.business_key) and \
                    correlation_matches(sub.correlation, message.correlation):
                session.delete(message)
                _deliver(ctx, session, sub, name=message.message_name, variables=message.variables,
                         correlation=message.correlation, actor=actor, sender=None)
                return  # that step ran after_step again with the new waits


def deliver_buffered_to_starts(ctx: AppContext, session: Session, subs: list[MessageSubscription]) -> None:
    """A newly deployed message start event takes the messages buffered for it."""
    if not subs or session.scalar(select(BufferedMessage.id).limit(1)) is None:
        return
    by_name = {s.message_name: s for s in subs}
    for message in _live_buffered(session, set(by_name)):
        session.delete(message)
        _start(ctx, session, by_name[message.message_name], name=message.message_name,
               business_key=message.business_key, variables=message.variables, correlation=message.correlation,
               actor=SYSTEM, sender=None, check_permission=False)


def _live_buffered(session: Session, names: set[str]) -> list[BufferedMessage]:
    now = utcnow()
    return list(session.scalars(select(BufferedMessage).where(
        BufferedMessage.message_name.in_(names),
        or_(BufferedMessage.expires_at.is_(None), BufferedMessage.expires_at > now),
    ).order_by(BufferedMessage.created_at)))


def purge_expired_buffered(ctx: AppContext) -> int:
    with ctx.db.transaction() as session:
        expired = list(session.scalars(select(BufferedMessage).where(BufferedMessage.expires_at <= utcnow())))
        for message in expired:
            session.delete(message)
        return len(expired)
