"""Incidents across instances: what is stuck, where and why (for the head of sales and admins)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from app.auth.actor import Actor
from app.db.models import Incident, ProcessInstance
from app.errors import Forbidden
from app.services.context import AppContext


@dataclass
class IncidentView:
    incident: Incident
    definition_key: str
    business_key: str | None


def list_incidents(ctx: AppContext, *, actor: Actor, open_only: bool = True, instance_id: str | None = None,
                   definition_key: str | None = None, limit: int = 50,
                   offset: int = 0) -> tuple[list[IncidentView], int]:
    if not actor.sees_all_work:
        raise Forbidden("incidents are for the head of sales and admins")
    query = (select(Incident, ProcessInstance.definition_key, ProcessInstance.business_key)
             .join(ProcessInstance, ProcessInstance.id == Incident.instance_id))
    if open_only:
        query = query.where(Incident.resolved_at.is_(None))
    if instance_id:
        query = query.where(Incident.instance_id == instance_id)
    if definition_key:
        query = query.where(ProcessInstance.definition_key == definition_key)
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.execute(query.order_by(Incident.created_at.desc(), Incident.id).limit(limit).offset(offset))
        return [IncidentView(incident, key, business_key) for incident, key, business_key in rows.all()], total
