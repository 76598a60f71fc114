from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.jobs import IncidentListOut
from app.services import incidents
from app.services.incidents import IncidentView

router = APIRouter(prefix="/incidents", tags=["incidents"])


def incident_out(view: IncidentView) -> IncidentListOut:
    i = view.incident
    return IncidentListOut(id=i.id, instance_id=i.instance_id, definition_key=view.definition_key,
                           business_key=view.business_key, element_id=i.element_id, job_id=i.job_id, kind=i.kind,
                           message=i.message, created_at=i.created_at, resolved_at=i.resolved_at)


@router.get("", response_model=Page[IncidentListOut], summary="List incidents (head of sales, admins)",
            description="Where instances are stuck and why, newest first; `open=false` includes resolved ones.")
def list_incidents(ctx: Context, actor: CurrentActor, open: bool = True, instance_id: str | None = None,
                   definition_key: str | None = None, limit: Limit = 50,
                   offset: Offset = 0) -> Page[IncidentListOut]:
    views, total = incidents.list_incidents(ctx, actor=actor, open_only=open, instance_id=instance_id,
                                            definition_key=definition_key, limit=limit, offset=offset)
    return Page[IncidentListOut](items=[incident_out(v) for v in views], total=total)
