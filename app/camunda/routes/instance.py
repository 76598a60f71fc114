"""/process-instance: the running instances (list, count, get, delete) and their variables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, csv, page_size
from app.camunda.dto import CountOut, InstanceQueryIn, ProcessInstanceOut, instance_out
from app.camunda.files import file_response
from app.camunda.variables import encode_value, encode_variables
from app.db.models import InstanceStatus
from app.errors import NotFound
from app.services import instances
from app.services.context import AppContext

router = APIRouter(tags=["process-instance"])

# Camunda's runtime query shows instances that have not ended; an incident does not end one.
_RUNTIME = [InstanceStatus.RUNNING, InstanceStatus.FAILED]


def query_from_params(
    process_instance_ids: Annotated[str | None, Query(alias="processInstanceIds")] = None,
    business_key: Annotated[str | None, Query(alias="businessKey")] = None,
    business_key_like: Annotated[str | None, Query(alias="businessKeyLike")] = None,
    process_definition_id: Annotated[str | None, Query(alias="processDefinitionId")] = None,
    process_definition_key: Annotated[str | None, Query(alias="processDefinitionKey")] = None,
    active: bool | None = None, suspended: bool | None = None,
    with_incident: Annotated[bool | None, Query(alias="withIncident")] = None,
) -> InstanceQueryIn:
    return InstanceQueryIn(process_instance_ids=csv(process_instance_ids), business_key=business_key,
                           business_key_like=business_key_like, process_definition_id=process_definition_id,
                           process_definition_key=process_definition_key, active=active, suspended=suspended,
                           with_incident=with_incident)


ParamQuery = Annotated[InstanceQueryIn, Depends(query_from_params)]


def _list(ctx: AppContext, actor: CurrentActor, query: InstanceQueryIn, limit: int, offset: int
          ) -> tuple[list[ProcessInstanceOut], int]:
    statuses = [InstanceStatus.FAILED] if query.with_incident else list(_RUNTIME)
    if query.suspended:
        statuses = []  # nothing is ever suspended here
    views, total = instances.list_instances(
        ctx, actor=actor, instance_ids=query.process_instance_ids, business_key=query.business_key,
        business_key_like=query.business_key_like, definition_id=query.process_definition_id,
        definition_key=query.process_definition_key, statuses=statuses, limit=limit, offset=offset)
    return [instance_out(v.instance) for v in views], total


@router.get("/process-instance", response_model=list[ProcessInstanceOut], summary="List running instances")
def list_instances(ctx: Context, actor: CurrentActor, query: ParamQuery, first_result: FirstResult = 0,
                   max_results: MaxResults = None) -> list[ProcessInstanceOut]:
    return _list(ctx, actor, query, page_size(max_results), first_result)[0]


@router.post("/process-instance", response_model=list[ProcessInstanceOut], summary="Query running instances")
def query_instances(ctx: Context, actor: CurrentActor, body: InstanceQueryIn, first_result: FirstResult = 0,
                    max_results: MaxResults = None) -> list[ProcessInstanceOut]:
    return _list(ctx, actor, body, page_size(max_results), first_result)[0]


@router.get("/process-instance/count", response_model=CountOut, summary="Count running instances")
def count_instances(ctx: Context, actor: CurrentActor, query: ParamQuery) -> CountOut:
    return CountOut(count=_list(ctx, actor, query, 0, 0)[1])


@router.post("/process-instance/count", response_model=CountOut, summary="Count running instances (query body)")
def count_instances_post(ctx: Context, actor: CurrentActor, body: InstanceQueryIn) -> CountOut:
    return CountOut(count=_list(ctx, actor, body, 0, 0)[1])


def _running(ctx: AppContext, actor: CurrentActor, instance_id: str) -> instances.InstanceView:
    view = instances.get_instance(ctx, actor=actor, instance_id=instance_id)
    if view.instance.status not in _RUNTIME:
        raise NotFound(f"Process instance with id {instance_id} does not exist (it has ended; see "
                       "history/process-instance)")
    return view


@router.get("/process-instance/{instance_id}", response_model=ProcessInstanceOut, summary="Get a running instance")
def get_instance(ctx: Context, actor: CurrentActor, instance_id: str) -> ProcessInstanceOut:
    return instance_out(_running(ctx, actor, instance_id).instance)


@router.delete("/process-instance/{instance_id}", status_code=204, summary="Cancel a running instance",
               description="Terminates the instance; its history stays (Camunda deletes the runtime instance).")
def delete_instance(ctx: Context, actor: CurrentActor, instance_id: str,
                    delete_reason: Annotated[str | None, Query(alias="deleteReason")] = None) -> Response:
    _running(ctx, actor, instance_id)
    instances.terminate_instance(ctx, actor=actor, instance_id=instance_id, reason=delete_reason)
    return Response(status_code=204)


@router.get("/process-instance/{instance_id}/variables", summary="The variables of an instance")
def get_variables(ctx: Context, actor: CurrentActor, instance_id: str,
                  variable_names: Annotated[str | None, Query(alias="variableNames")] = None
                  ) -> dict[str, dict[str, Any]]:
    names = csv(variable_names)
    view = instances.get_instance(ctx, actor=actor, instance_id=instance_id)
    return encode_variables(view.instance.variables, set(names) if names is not None else None)


@router.get("/process-instance/{instance_id}/variables/{name}", summary="One variable of an instance")
def get_variable(ctx: Context, actor: CurrentActor, instance_id: str, name: str) -> dict[str, Any]:
    view = instances.get_instance(ctx, actor=actor, instance_id=instance_id)
    if name not in view.instance.variables:
        raise NotFound(f"process instance variable with name {name} does not exist")
    return encode_value(view.instance.variables[name])


@router.get("/process-instance/{instance_id}/variables/{name}/data", summary="The bytes of a File variable",
            response_class=StreamingResponse)
def get_variable_data(ctx: Context, actor: CurrentActor, instance_id: str, name: str) -> StreamingResponse:
    return file_response(ctx, actor, instance_id, name)

