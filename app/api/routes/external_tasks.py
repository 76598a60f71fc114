from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.external_tasks import (
    BpmnErrorIn,
    BpmnErrorOut,
    CompleteIn,
    ErrorDetailsOut,
    ExtendLockIn,
    ExternalTaskOut,
    FailureIn,
    FetchAndLockIn,
    LockOut,
    RetriesIn,
)
from app.services import external_tasks
from app.services.external_tasks import TopicRequest

router = APIRouter(prefix="/external-tasks", tags=["external tasks"])


@router.post("/fetch-and-lock", response_model=list[ExternalTaskOut], summary="Fetch and lock tasks",
             description="Lock up to `max_tasks` free tasks of the topics for `worker_id` (durations in ms). "
                         "With `async_response_timeout` the call waits for a task (long polling).")
async def fetch_and_lock(ctx: Context, actor: CurrentActor, body: FetchAndLockIn) -> list[ExternalTaskOut]:
    topics = [TopicRequest(t.topic, t.lock_duration, t.variables, t.business_key, t.definition_key)
              for t in body.topics]
    locked = await external_tasks.fetch_and_lock_waiting(ctx, actor=actor, worker_id=body.worker_id, topics=topics,
                                                         max_tasks=body.max_tasks,
                                                         async_response_timeout_ms=body.async_response_timeout)
    return [ExternalTaskOut.model_validate(t) for t in locked]


@router.get("", response_model=Page[ExternalTaskOut], summary="List external tasks")
def list_external_tasks(ctx: Context, actor: CurrentActor, topic: str | None = None, worker_id: str | None = None,
                        locked: bool | None = None, instance_id: str | None = None,
                        business_key: str | None = None, with_retries_left: bool | None = None,
                        limit: Limit = 50, offset: Offset = 0) -> Page[ExternalTaskOut]:
    rows, total = external_tasks.list_external_tasks(
        ctx, actor=actor, topic=topic, worker_id=worker_id, locked=locked, instance_id=instance_id,
        business_key=business_key, with_retries_left=with_retries_left, limit=limit, offset=offset)
    return Page[ExternalTaskOut](items=[ExternalTaskOut.model_validate(r) for r in rows], total=total)


@router.get("/{task_id}", response_model=ExternalTaskOut, summary="Get an external task")
def get_external_task(ctx: Context, actor: CurrentActor, task_id: str) -> ExternalTaskOut:
    return ExternalTaskOut.model_validate(external_tasks.get_external_task(ctx, actor=actor, task_id=task_id))


@router.get("/{task_id}/error-details", response_model=ErrorDetailsOut, summary="Error details of the last failure")
def error_details(ctx: Context, actor: CurrentActor, task_id: str) -> ErrorDetailsOut:
    return ErrorDetailsOut(error_details=external_tasks.error_details(ctx, actor=actor, task_id=task_id))


@router.post("/{task_id}/complete", status_code=204, summary="Complete a locked task",
             description="Only the worker holding an unexpired lock may complete: otherwise 409 (or 404 when the "
                         "task is gone).")
def complete(ctx: Context, actor: CurrentActor, task_id: str, body: CompleteIn) -> Response:
    external_tasks.complete(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id, variables=body.variables)
    return Response(status_code=204)


@router.post("/{task_id}/failure", status_code=204, summary="Report a failure",
             description="`retries` left > 0: fetchable again after `retry_timeout` ms; 0: incident.")
def failure(ctx: Context, actor: CurrentActor, task_id: str, body: FailureIn) -> Response:
    external_tasks.handle_failure(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                                  error_message=body.error_message, error_details=body.error_details,
                                  retries=body.retries, retry_timeout_ms=body.retry_timeout)
    return Response(status_code=204)


@router.post("/{task_id}/bpmn-error", response_model=BpmnErrorOut, summary="Throw a BPMN error",
             description="A boundary error event with this code catches it; uncaught, the instance gets an incident.")
def bpmn_error(ctx: Context, actor: CurrentActor, task_id: str, body: BpmnErrorIn) -> BpmnErrorOut:
    result = external_tasks.handle_bpmn_error(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                                              error_code=body.error_code, error_message=body.error_message,
                                              variables=body.variables)
    return BpmnErrorOut.model_validate(result)


@router.post("/{task_id}/extend-lock", response_model=LockOut, summary="Extend the lock")
def extend_lock(ctx: Context, actor: CurrentActor, task_id: str, body: ExtendLockIn) -> LockOut:
    expires = external_tasks.extend_lock(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                                         new_duration_ms=body.new_duration)
    return LockOut(lock_expires_at=expires)


@router.post("/{task_id}/unlock", status_code=204, summary="Release the lock")
def unlock(ctx: Context, actor: CurrentActor, task_id: str) -> Response:
    external_tasks.unlock(ctx, actor=actor, task_id=task_id)
    return Response(status_code=204)


@router.put("/{task_id}/retries", status_code=204, summary="Set retries",
            description="> 0 on a failed task resolves its incident and makes it fetchable; 0 fails it.")
def set_retries(ctx: Context, actor: CurrentActor, task_id: str, body: RetriesIn) -> Response:
    external_tasks.set_retries(ctx, actor=actor, task_id=task_id, retries=body.retries)
    return Response(status_code=204)
