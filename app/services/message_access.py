"""Who may deliver a message from outside (the API, the Camunda dialect): the rule of security.md.

- Admins and `external_worker` accounts (integrations) may send any message.
- When the receiving model's catch events declare `senderGroups` for the message name, members of those groups
  may send it, and nobody else.
- Otherwise only users who may read the receiving instance (for a message start event: who may start the
  process).
A waiting instance the sender may not read is left out as if it did not wait (its existence is not theirs to
know); one they may read but not send to is a 403. Messages thrown by instances are routed without this check:
the model sends them, not a person.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import EXTERNAL_WORKER, Actor
from app.auth.permissions import require_may_start, visible_instances_clause
from app.db.models import MessageSubscription, ProcessDefinition, ProcessInstance
from app.errors import Forbidden
from app.services.context import AppContext


def trusted_sender(actor: Actor) -> bool:
    return actor.is_admin or EXTERNAL_WORKER in actor.groups


def permitted_receivers(ctx: AppContext, session: Session, actor: Actor, name: str,
                        waiting: list[MessageSubscription]) -> list[MessageSubscription]:
    """The waiting subscriptions `actor` may deliver `name` to; 403 when they may read one but not send to it."""
    if trusted_sender(actor) or not waiting:
        return waiting
    readable = set(session.scalars(select(ProcessInstance.id).where(
        ProcessInstance.id.in_([sub.instance_id for sub in waiting]), visible_instances_clause(actor))))
    permitted = []
    for sub in waiting:
        instance = session.get(ProcessInstance, sub.instance_id)
        senders = _senders(ctx, session, instance.definition_id if instance else None, name)
        if (actor.groups & senders) if senders else sub.instance_id in readable:
            permitted.append(sub)
        elif sub.instance_id in readable:
            raise Forbidden(_refusal(name, senders))
    return permitted


def require_may_start_by_message(ctx: AppContext, session: Session, actor: Actor, name: str,
                                 definition: ProcessDefinition) -> None:
    senders = _senders(ctx, session, definition.id, name)
    if senders and not trusted_sender(actor) and not actor.groups & senders:
        raise Forbidden(_refusal(name, senders))
    if EXTERNAL_WORKER not in actor.groups:
        require_may_start(actor, definition)


def require_may_buffer(actor: Actor, name: str) -> None:
    """A buffered message has no receiver yet to check against, so only trusted senders may leave one."""
    if not trusted_sender(actor):
        raise Forbidden(f"keeping message {name!r} for a later receiver (buffer=true) requires the admin or "
                        f"{EXTERNAL_WORKER} role")


def _senders(ctx: AppContext, session: Session, definition_id: str | None, name: str) -> frozenset[str]:
    if definition_id is None:
        return frozenset()
    return ctx.runtimes.get(session, definition_id).message_senders.get(name, frozenset())


def _refusal(name: str, senders: frozenset[str]) -> str:
    if senders:
        return f"message {name!r} may only be sent by the groups {', '.join(sorted(senders))} (and admins)"
    return f"you may not send message {name!r} to this process instance"
