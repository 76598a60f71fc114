from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.errors import status_of
from app.api.schemas.common import Page
from app.api.schemas.instances import (
    BatchItemError,
    BatchStart,
    BatchStartOut,
    BatchStartResult,
    HistoryEventOut,
    IncidentOut,
    InstanceOut,
    StartInstance,
    Terminate,
)
from app.api.schemas.tasks import TaskOut
from app.services import bulk_start, instances
from app.services.instances import InstanceView

router = APIRouter(prefix="/process-instances", tags=["process instances"])


def instance_out(view: InstanceView) -> InstanceOut:
    i = view.instance
    return InstanceOut(
        id=i.id, definition_id=i.definition_id, definition_key=i.definition_key,
        definition_version=view.definition_version, business_key=i.business_key, status=i.status,
        funnel_stage=i.funnel_stage, outcome=i.outcome, started_by=i.started_by, started_at=i.started_at,
        ended_at=i.ended_at, variables=i.variables,
        tasks=[TaskOut.model_validate(t) for t in view.open_tasks],
        incidents=[IncidentOut.model_validate(x) for x in view.incidents],
    )


@router.post("", status_code=201, response_model=InstanceOut, summary="Start an instance",
             description="Start the latest version of `definition_key` (or exactly `definition_id`) with JSON "
                         "variables and an optional business key; the engine runs until the instance waits.")
def start_instance(ctx: Context, actor: CurrentActor, body: StartInstance) -> InstanceOut:
    view = instances.start_instance(ctx, actor=actor, definition_key=body.definition_key,
                                    definition_id=body.definition_id, business_key=body.business_key,
                                    variables=body.variables)
    return instance_out(view)


@router.post("/batch", response_model=BatchStartOut, summary="Start many instances",
             description="Up to 1,000 starts of one process in one call, each with its business key and "
                         "variables (a lead import). Every item gets a result in request order: `started`, "
                         "`existing` (with `unique_business_key`) or `failed` with problem details; a failing "
                         "item never stops the others. Items commit in chunks of 100: after a timeout, repeat "
                         "the call with `unique_business_key` and nothing starts twice.")
def start_batch(ctx: Context, actor: CurrentActor, body: BatchStart) -> BatchStartOut:
    results = bulk_start.start_many(
        ctx, actor=actor, definition_key=body.definition_key, definition_id=body.definition_id,
        unique_business_key=body.unique_business_key,
        items=[bulk_start.StartItem(item.business_key, item.variables) for item in body.items])
    out = [BatchStartResult(index=r.index, business_key=r.business_key, status=r.status,
                            instance_id=r.instance_id, instance_status=r.instance_status,
                            error=None if r.error is None else BatchItemError(
                                status=status_of(r.error), title=r.error.title, detail=r.error.detail,
                                errors=[p.as_dict() for p in r.error.problems]))
           for r in results]
    return BatchStartOut(items=out, **{s: sum(r.status == s for r in results)
                                       for s in ("started", "existing", "failed")})


@router.get("", response_model=Page[InstanceOut], summary="List instances",
            description="Instances you may see, newest first, filtered by definition key, business key, "
                        "status or start time.")
def list_instances(ctx: Context, actor: CurrentActor, definition_key: str | None = None,
                   business_key: str | None = None, status: str | None = None,
                   started_after: datetime | None = None, started_before: datetime | None = None,
                   limit: Limit = 50, offset: Offset = 0) -> Page[InstanceOut]:
    views, total = instances.list_instances(ctx, actor=actor, definition_key=definition_key,
                                            business_key=business_key, status=status,
                                            started_after=started_after, started_before=started_before,
                                            limit=limit, offset=offset)
    return Page[InstanceOut](items=[instance_out(v) for v in views], total=total)


@router.get("/{instance_id}", response_model=InstanceOut, summary="Get an instance")
def get_instance(ctx: Context, actor: CurrentActor, instance_id: str) -> InstanceOut:
    return instance_out(instances.get_instance(ctx, actor=actor, instance_id=instance_id))


@router.get("/{instance_id}/history", response_model=Page[HistoryEventOut], summary="Instance history",
            description="Every start, task event, gateway decision, timer, message and end, oldest first.")
def instance_history(ctx: Context, actor: CurrentActor, instance_id: str) -> Page[HistoryEventOut]:
    events = instances.instance_history(ctx, actor=actor, instance_id=instance_id)
    return Page[HistoryEventOut](items=[HistoryEventOut.model_validate(e) for e in events], total=len(events))


@router.post("/{instance_id}/terminate", response_model=InstanceOut, summary="Terminate an instance")
def terminate_instance(ctx: Context, actor: CurrentActor, instance_id: str,
                       body: Terminate | None = None) -> InstanceOut:
    view = instances.terminate_instance(ctx, actor=actor, instance_id=instance_id,
                                        reason=body.reason if body else None)
    return instance_out(view)


@router.post("/{instance_id}/retry", response_model=InstanceOut, summary="Retry after an incident",
             description="Admins: run the failed step again once its cause is fixed.")
def retry_instance(ctx: Context, actor: CurrentActor, instance_id: str) -> InstanceOut:
    return instance_out(instances.retry_instance(ctx, actor=actor, instance_id=instance_id))



