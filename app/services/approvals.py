"""Approval of regulation changes: a new version of a process that requires approval is a draft until the head
of sales approves it; deals keep starting on the newest approved version meanwhile."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.permissions import require_admin
from app.db.base import utcnow
from app.db.models import DefinitionState, ProcessDefinition, ProcessSetting
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.services.context import AppContext

# The sales models shipped in bpmn/: their changes need approval unless an admin turns it off.
BUNDLED_KEYS = frozenset({"sales_deal", "vip_service"})
MAX_COMMENT = 2000


def requires_approval(session: Session, key: str) -> bool:
    setting = session.get(ProcessSetting, key)
    return setting.requires_approval if setting is not None else key in BUNDLED_KEYS


def state_for_new_version(session: Session, key: str) -> DefinitionState:
    """A draft when the key requires approval and there is an approved version to keep running; the first
    version of a key is approved at once (there is nothing else to start deals on)."""
    if requires_approval(session, key) and approved_definition(session, key) is not None:
        return DefinitionState.DRAFT
    return DefinitionState.APPROVED


def approved_definition(session: Session, key: str) -> ProcessDefinition | None:
    """The version new deals of `key` start on: the newest approved one."""
    return session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key,
                                        ProcessDefinition.state == DefinitionState.APPROVED)
        .order_by(ProcessDefinition.version.desc()).limit(1))


def require_may_decide(actor: Actor) -> None:
    if not actor.sees_all_work:
        raise Forbidden("approving or rejecting a regulation change requires the head of sales or admin role")


def approve(ctx: AppContext, *, actor: Actor, definition_id: str, comment: str | None = None) -> ProcessDefinition:
    """The draft becomes the version new deals start on; its timer and message start events take over."""
    require_may_decide(actor)
    with ctx.db.transaction() as session:
        definition = _draft(session, definition_id, verb="approve")
        _decide(definition, DefinitionState.APPROVED, actor=actor, comment=comment)
        newest_approved = approved_definition(session, definition.key)
        session.flush()
        if newest_approved is None or newest_approved.version <= definition.version:
            from app.services.start_events import register_start_events

            register_start_events(ctx, session, definition)
        return definition


def reject(ctx: AppContext, *, actor: Actor, definition_id: str, comment: str | None = None) -> ProcessDefinition:
    """The draft never starts deals; the approved version stays in force."""
    require_may_decide(actor)
    with ctx.db.transaction() as session:
        definition = _draft(session, definition_id, verb="reject")
        _decide(definition, DefinitionState.REJECTED, actor=actor, comment=comment)
        return definition


def _draft(session: Session, definition_id: str, *, verb: str) -> ProcessDefinition:
    definition = session.get(ProcessDefinition, definition_id)
    if definition is None:
        raise NotFound(f"process definition {definition_id} not found")
    if definition.state != DefinitionState.DRAFT:
        raise Conflict(f"cannot {verb} version {definition.version} of {definition.key!r}: it is "
                       f"{definition.state}, only a draft awaits a decision")
    return definition


def _decide(definition: ProcessDefinition, state: DefinitionState, *, actor: Actor, comment: str | None) -> None:
    if comment is not None and len(comment) > MAX_COMMENT:
        raise InvalidInput(f"comment is {len(comment)} characters; at most {MAX_COMMENT}")
    definition.state = state
    definition.decided_by = actor.username
    definition.decided_at = utcnow()
    definition.decision_comment = comment or None


def settings_of(ctx: AppContext, *, actor: Actor, key: str) -> bool:
    with ctx.db.read() as session:
        _require_key(session, key)
        return requires_approval(session, key)


def set_requires_approval(ctx: AppContext, *, actor: Actor, key: str, value: bool) -> bool:
    require_admin(actor)
    with ctx.db.transaction() as session:
        _require_key(session, key)
        setting = session.get(ProcessSetting, key)
        if setting is None:
            setting = ProcessSetting(key=key, requires_approval=value)
            session.add(setting)
        setting.requires_approval = value
        setting.updated_by = actor.username
        setting.updated_at = utcnow()
        return value


def _require_key(session: Session, key: str) -> None:
    if session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == key).limit(1)) is None:
        raise NotFound(f"no process definition with key {key!r}")


def pending_drafts(ctx: AppContext, *, actor: Actor) -> list[ProcessDefinition]:
    """Drafts awaiting a decision, for the head of sales' inbox (empty for everyone else)."""
    if not actor.sees_all_work:
        return []
    with ctx.db.read() as session:
        return list(session.scalars(select(ProcessDefinition)
                                    .where(ProcessDefinition.state == DefinitionState.DRAFT)
                                    .order_by(ProcessDefinition.created_at)))
