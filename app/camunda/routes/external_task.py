"""/external-task: fetch-and-lock (long polling), complete, failure, bpmnError, extendLock, unlock, retries,
and the queries. A translation onto `services.external_tasks`, whose shapes follow Camunda's one to one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import PlainTextResponse
from pydantic import Field

from app.camunda.dates import camunda_date
from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, page_size
from app.camunda.dto import CamundaModel, CountOut
from app.camunda.variables import decode_variables, encode_variables, transient_names
from app.errors import InvalidInput
from app.services import external_tasks
from app.services.external_tasks import ExternalTaskView, TopicRequest

router = APIRouter(tags=["external-task"])

# The long-polling wait a worker may ask for; Camunda's clients ask for 30 s or less by default.
MAX_ASYNC_RESPONSE_MS = 300_000


class TopicIn(CamundaModel):
    topic_name: str
    lock_duration: int
    variables: list[str] | None = None
    business_key: str | None = None
    process_definition_key: str | None = None
    process_variables: dict[str, Any] | None = None
    local_variables: bool = False
    include_extension_properties: bool = False


class FetchIn(CamundaModel):
    worker_id: str
    max_tasks: int = 10
    use_priority: bool = False
    async_response_timeout: int | None = Field(default=None, ge=0)
    topics: list[TopicIn]


class CompleteIn(CamundaModel):
    worker_id: str
    variables: dict[str, Any] | None = None
    local_variables: dict[str, Any] | None = None


class FailureIn(CamundaModel):
    worker_id: str
    error_message: str | None = None
    error_details: str | None = None
    retries: int | None = None
    retry_timeout: int = 0


class BpmnErrorIn(CamundaModel):
    worker_id: str
    error_code: str
    error_message: str | None = None
    variables: dict[str, Any] | None = None


class ExtendLockIn(CamundaModel):
    worker_id: str
    new_duration: int


class LockIn(CamundaModel):
    worker_id: str
    lock_duration: int


class RetriesIn(CamundaModel):
    retries: int


def task_out(view: ExternalTaskView, *, locked: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "activityId": view.element_id, "activityInstanceId": view.task_id, "errorMessage": view.error_message,
        "executionId": view.instance_id, "id": view.id, "lockExpirationTime": camunda_date(view.lock_expires_at),
        "createTime": camunda_date(view.created_at), "processDefinitionId": view.definition_id,
        "processDefinitionKey": view.definition_key, "processDefinitionVersionTag": None,
        "processInstanceId": view.instance_id, "tenantId": None, "retries": view.retries, "suspended": False,
        "workerId": view.worker_id, "topicName": view.topic, "priority": view.priority,
        "businessKey": view.business_key,
    }
    if locked:
        out["errorDetails"] = None
        out["variables"] = encode_variables(view.variables)
        out["extensionProperties"] = {}
    return out


def _topic(topic: TopicIn) -> TopicRequest:
    if topic.process_variables:
        raise InvalidInput("fetching by processVariables values is not supported; filter by businessKey or "
                           "processDefinitionKey")
    return TopicRequest(topic=topic.topic_name, lock_duration_ms=topic.lock_duration, variables=topic.variables,
                        business_key=topic.business_key, definition_key=topic.process_definition_key)


@router.post("/external-task/fetchAndLock", summary="Fetch and lock external tasks (long polling)",
             description="With `asyncResponseTimeout` (ms, at most 300000) the request waits until a task is free.")
async def fetch_and_lock(ctx: Context, actor: CurrentActor, body: FetchIn) -> list[dict[str, Any]]:
    timeout = min(body.async_response_timeout or 0, MAX_ASYNC_RESPONSE_MS)
    views = await external_tasks.fetch_and_lock_waiting(
        ctx, actor=actor, worker_id=body.worker_id, topics=[_topic(t) for t in body.topics],
        max_tasks=body.max_tasks, async_response_timeout_ms=timeout)
    return [task_out(v, locked=True) for v in views]


@router.post("/external-task/{task_id}/complete", status_code=204, summary="Complete an external task")
def complete(ctx: Context, actor: CurrentActor, task_id: str, body: CompleteIn) -> Response:
    if body.local_variables:
        raise InvalidInput("localVariables are not supported (there is no activity scope); send variables")
    external_tasks.complete(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                            variables=decode_variables(body.variables), transient=transient_names(body.variables))
    return Response(status_code=204)


@router.post("/external-task/{task_id}/failure", status_code=204, summary="Report a failure")
def failure(ctx: Context, actor: CurrentActor, task_id: str, body: FailureIn) -> Response:
    external_tasks.handle_failure(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                                  error_message=body.error_message, error_details=body.error_details,
                                  retries=body.retries, retry_timeout_ms=body.retry_timeout)
    return Response(status_code=204)


@router.post("/external-task/{task_id}/bpmnError", status_code=204, summary="Throw a BPMN error")
def bpmn_error(ctx: Context, actor: CurrentActor, task_id: str, body: BpmnErrorIn) -> Response:
    external_tasks.handle_bpmn_error(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                                     error_code=body.error_code, error_message=body.error_message,
                                     variables=decode_variables(body.variables))
    return Response(status_code=204)


@router.post("/external-task/{task_id}/extendLock", status_code=204, summary="Extend the lock")
def extend_lock(ctx: Context, actor: CurrentActor, task_id: str, body: ExtendLockIn) -> Response:
    external_tasks.extend_lock(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id,
                               new_duration_ms=body.new_duration)
    return Response(status_code=204)


@router.post("/external-task/{task_id}/lock", status_code=204, summary="Lock one task by id",
             description="Camunda 7.21+: lock this task for `workerId` for `lockDuration` ms (the JavaScript "
                         "client's `lock()`); another worker's live lock is refused.")
def lock(ctx: Context, actor: CurrentActor, task_id: str, body: LockIn) -> Response:
    external_tasks.lock(ctx, actor=actor, task_id=task_id, worker_id=body.worker_id, duration_ms=body.lock_duration)
    return Response(status_code=204)


@router.post("/external-task/{task_id}/unlock", status_code=204, summary="Give the task back")
def unlock(ctx: Context, actor: CurrentActor, task_id: str) -> Response:
    external_tasks.unlock(ctx, actor=actor, task_id=task_id)
    return Response(status_code=204)


@router.put("/external-task/{task_id}/retries", status_code=204, summary="Set the retries")
def set_retries(ctx: Context, actor: CurrentActor, task_id: str, body: RetriesIn) -> Response:
    external_tasks.set_retries(ctx, actor=actor, task_id=task_id, retries=body.retries)
    return Response(status_code=204)


class ExternalTaskQuery:
    def __init__(
        self,
        topic_name: Annotated[str | None, Query(alias="topicName")] = None,
        worker_id: Annotated[str | None, Query(alias="workerId")] = None,
        locked: bool = False,
        not_locked: Annotated[bool, Query(alias="notLocked")] = False,
        process_instance_id: Annotated[str | None, Query(alias="processInstanceId")] = None,
        with_retries_left: Annotated[bool, Query(alias="withRetriesLeft")] = False,
        no_retries_left: Annotated[bool, Query(alias="noRetriesLeft")] = False,
    ) -> None:
        self.kwargs: dict[str, Any] = dict(
            topic=topic_name, worker_id=worker_id, instance_id=process_instance_id,
            locked=True if locked else (False if not_locked else None),
            with_retries_left=True if with_retries_left else (False if no_retries_left else None))


Filter = Annotated[ExternalTaskQuery, Depends()]


@router.get("/external-task", summary="List external tasks")
def list_tasks(ctx: Context, actor: CurrentActor, query: Filter, first_result: FirstResult = 0,
               max_results: MaxResults = None) -> list[dict[str, Any]]:
    views, _total = external_tasks.list_external_tasks(ctx, actor=actor, limit=page_size(max_results),
                                                       offset=first_result, **query.kwargs)
    return [task_out(v) for v in views]


@router.get("/external-task/count", response_model=CountOut, summary="Count external tasks")
def count_tasks(ctx: Context, actor: CurrentActor, query: Filter) -> CountOut:
    _views, total = external_tasks.list_external_tasks(ctx, actor=actor, limit=0, **query.kwargs)
    return CountOut(count=total)


@router.get("/external-task/{task_id}", summary="Get an external task")
def get_task(ctx: Context, actor: CurrentActor, task_id: str) -> dict[str, Any]:
    return task_out(external_tasks.get_external_task(ctx, actor=actor, task_id=task_id))


@router.get("/external-task/{task_id}/errorDetails", response_class=PlainTextResponse,
            summary="The error details of the last failure")
def get_error_details(ctx: Context, actor: CurrentActor, task_id: str) -> str:
    return external_tasks.error_details(ctx, actor=actor, task_id=task_id) or ""


