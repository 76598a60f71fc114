"""Duplicate leads: every deal started with lead data leaves its normalised keys (phone, e-mail, INN, company);
a new lead matching a running deal, or one ended within the window, is a duplicate of it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.db.base import utcnow
from app.db.models import InstanceStatus, LeadKey, ProcessDefinition, ProcessInstance
from app.services.lead_rules import lead_keys

KIND_ORDER = ("inn", "phone", "email", "company")  # the strongest evidence is named first


def record_keys(session: Session, instance: ProcessInstance, definition: ProcessDefinition,
                variables: dict[str, Any]) -> None:
    """Called for every start: a start form with lead fields indexes the deal for later duplicate checks."""
    for kind, value in lead_keys(definition.start_form or [], variables):
        session.add(LeadKey(kind=kind, value=value, instance_id=instance.id, definition_key=instance.definition_key))


def find_matches(session: Session, *, definition_key: str, keys: Iterable[tuple[str, str]],
                 window_days: int) -> dict[tuple[str, str], str]:
    """(kind, value) -> the id of a deal of this process holding it (running, or ended within the window)."""
    wanted = set(keys)
    if not wanted:
        return {}
    since = utcnow() - timedelta(days=window_days)
    live = or_(ProcessInstance.status.in_([InstanceStatus.RUNNING, InstanceStatus.FAILED]),
               ProcessInstance.ended_at >= since)
    query = (select(LeadKey.kind, LeadKey.value, LeadKey.instance_id)
             .join(ProcessInstance, ProcessInstance.id == LeadKey.instance_id)
             .where(LeadKey.definition_key == definition_key,
                    or_(*[and_(LeadKey.kind == kind, LeadKey.value.in_(sorted(v for k, v in wanted if k == kind)))
                          for kind in {k for k, _ in wanted}]),
                    live)
             .order_by(ProcessInstance.started_at))
    found: dict[tuple[str, str], str] = {}
    for kind, value, instance_id in session.execute(query):
        found.setdefault((kind, value), instance_id)
    return found


def first_match(keys: list[tuple[str, str]], matches: dict[tuple[str, str], str]) -> tuple[str, str] | None:
    """(matched kind, deal id) by the strongest key, or None."""
    for kind in KIND_ORDER:
        for key in keys:
            if key[0] == kind and key in matches:
                return kind, matches[key]
    return None
