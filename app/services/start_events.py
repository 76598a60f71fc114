"""Start events that are not started by hand: timer start jobs and message start subscriptions.

Registered at deploy for the new version of a process; like Camunda, the newest version replaces the start
timers and message start subscriptions of the older versions of the same key.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import Job, JobKind, JobState, MessageSubscription, ProcessDefinition
from app.engine import runner
from app.errors import ExpressionFailed, InvalidModel, Problem
from app.services.context import AppContext


def register_start_events(ctx: AppContext, session: Session, definition: ProcessDefinition) -> None:
    runtime = ctx.runtimes.get(session, definition.id)
    try:
        triggers = runner.start_triggers(runtime, now=utcnow())
    except ExpressionFailed as exc:
        raise InvalidModel(f"{definition.filename}: {exc.detail}",
                           problems=[Problem(exc.detail, file=definition.filename, element_id=exc.element_id)]) from exc
    older = select(ProcessDefinition.id).where(ProcessDefinition.key == definition.key,
                                               ProcessDefinition.id != definition.id)
    session.execute(delete(Job).where(Job.kind == JobKind.START_TIMER, Job.definition_id.in_(older)))
    session.execute(delete(MessageSubscription).where(MessageSubscription.instance_id.is_(None),
                                                      MessageSubscription.definition_id.in_(older)))
    subscriptions: list[MessageSubscription] = []
    for trigger in triggers:
        if trigger.kind == "timer" and trigger.due_at is not None:
            session.add(Job(kind=JobKind.START_TIMER, state=JobState.READY, definition_id=definition.id,
                            element_id=trigger.element_id, due_at=trigger.due_at, schedule=trigger.schedule))
        elif trigger.kind == "message" and trigger.message_name:
            subscription = MessageSubscription(message_name=trigger.message_name, definition_id=definition.id,
                                               element_id=trigger.element_id, correlation={})
            session.add(subscription)
            subscriptions.append(subscription)
    session.flush()
    from app.services.messages import deliver_buffered_to_starts

    deliver_buffered_to_starts(ctx, session, subscriptions)
