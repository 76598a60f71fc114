"""/process-definition: list, count, get by id or key, xml, start, form variables, submit-form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from app.camunda.deps import (
    Context,
    CurrentActor,
    FirstResult,
    MaxResults,
    SortBy,
    SortOrder,
    csv,
    page_size,
    self_link,
    sort_key,
)
from app.camunda.dto import (
    CountOut,
    ProcessDefinitionOut,
    ProcessInstanceOut,
    StartInstanceIn,
    SubmitFormIn,
    XmlOut,
    definition_out,
    instance_out,
)
from app.camunda.variables import decode_variables, encode_variables, form_variables, transient_names
from app.db.models import ProcessDefinition
from app.services import deployments, instances
from app.services.context import AppContext

router = APIRouter(tags=["process-definition"])

_SORTS = {"key": "key", "name": "name", "version": "version", "id": "id", "deploymentId": "deployment"}


class DefinitionQuery:
    """The Camunda query parameters we honour; the others are ignored (see docs/camunda.md)."""

    def __init__(
        self,
        process_definition_id: Annotated[str | None, Query(alias="processDefinitionId")] = None,
        process_definition_id_in: Annotated[str | None, Query(alias="processDefinitionIdIn")] = None,
        key: str | None = None,
        keys_in: Annotated[str | None, Query(alias="keysIn")] = None,
        key_like: Annotated[str | None, Query(alias="keyLike")] = None,
        name: str | None = None,
        name_like: Annotated[str | None, Query(alias="nameLike")] = None,
        deployment_id: Annotated[str | None, Query(alias="deploymentId")] = None,
        version: int | None = None,
        latest_version: Annotated[bool, Query(alias="latestVersion")] = False,
        sort_by: SortBy = None, sort_order: SortOrder = None,
    ) -> None:
        ids = csv(process_definition_id_in)
        if process_definition_id:
            ids = [i for i in (ids or [process_definition_id]) if i == process_definition_id]
        sort, descending = sort_key(sort_by, sort_order, _SORTS)
        self.kwargs = dict(latest_only=latest_version, key=key, keys=csv(keys_in), key_like=key_like, name=name,
                           name_like=name_like, deployment_id=deployment_id, version=version, definition_ids=ids,
                           sort=sort, descending=descending)


Filter = Annotated[DefinitionQuery, Depends()]


@router.get("/process-definition", response_model=list[ProcessDefinitionOut], summary="List definitions")
def list_definitions(ctx: Context, actor: CurrentActor, query: Filter, first_result: FirstResult = 0,
                     max_results: MaxResults = None) -> list[ProcessDefinitionOut]:
    rows, _total = deployments.list_definitions(ctx, actor=actor, limit=page_size(max_results),
                                                offset=first_result, **query.kwargs)
    return [definition_out(d) for d in rows]


@router.get("/process-definition/count", response_model=CountOut, summary="Count definitions")
def count_definitions(ctx: Context, actor: CurrentActor, query: Filter) -> CountOut:
    _rows, total = deployments.list_definitions(ctx, actor=actor, limit=0, **query.kwargs)
    return CountOut(count=total)


def _by_id(ctx: AppContext, actor: CurrentActor, definition_id: str) -> ProcessDefinition:
    return deployments.get_definition(ctx, actor=actor, definition_id=definition_id)


def _by_key(ctx: AppContext, actor: CurrentActor, key: str) -> ProcessDefinition:
    return deployments.get_definition(ctx, actor=actor, key=key)


@router.get("/process-definition/key/{key}", response_model=ProcessDefinitionOut,
            summary="The latest version of a key")
def get_by_key(ctx: Context, actor: CurrentActor, key: str) -> ProcessDefinitionOut:
    return definition_out(_by_key(ctx, actor, key))


@router.get("/process-definition/{definition_id}", response_model=ProcessDefinitionOut,
            summary="A definition by id")
def get_by_id(ctx: Context, actor: CurrentActor, definition_id: str) -> ProcessDefinitionOut:
    return definition_out(_by_id(ctx, actor, definition_id))


@router.get("/process-definition/key/{key}/xml", response_model=XmlOut, summary="BPMN XML of the latest version")
def xml_by_key(ctx: Context, actor: CurrentActor, key: str) -> XmlOut:
    definition = _by_key(ctx, actor, key)
    return XmlOut(id=definition.id, bpmn20Xml=definition.xml)


@router.get("/process-definition/{definition_id}/xml", response_model=XmlOut, summary="BPMN XML by id")
def xml_by_id(ctx: Context, actor: CurrentActor, definition_id: str) -> XmlOut:
    definition = _by_id(ctx, actor, definition_id)
    return XmlOut(id=definition.id, bpmn20Xml=definition.xml)


def _start(ctx: AppContext, request: Request, actor: CurrentActor, definition: ProcessDefinition,
           body: StartInstanceIn | SubmitFormIn, *, with_variables: bool) -> ProcessInstanceOut:
    view = instances.start_instance(ctx, actor=actor, definition_id=definition.id, business_key=body.business_key,
                                    variables=decode_variables(body.variables),
                                    transient=transient_names(body.variables))
    out = instance_out(view.instance, encode_variables(view.instance.variables) if with_variables else None)
    out.links = [self_link(request, f"/process-instance/{out.id}")]
    return out


@router.post("/process-definition/key/{key}/start", response_model=ProcessInstanceOut,
             response_model_exclude_none=False, summary="Start the latest version of a key")
def start_by_key(ctx: Context, request: Request, actor: CurrentActor, key: str,
                 body: StartInstanceIn | None = None) -> ProcessInstanceOut:
    body = body or StartInstanceIn()
    return _start(ctx, request, actor, _by_key(ctx, actor, key), body, with_variables=body.with_variables_in_return)


@router.post("/process-definition/{definition_id}/start", response_model=ProcessInstanceOut,
             summary="Start a definition (Camunda Modeler's start)")
def start_by_id(ctx: Context, request: Request, actor: CurrentActor, definition_id: str,
                body: StartInstanceIn | None = None) -> ProcessInstanceOut:
    body = body or StartInstanceIn()
    return _start(ctx, request, actor, _by_id(ctx, actor, definition_id), body,
                  with_variables=body.with_variables_in_return)


@router.post("/process-definition/key/{key}/submit-form", response_model=ProcessInstanceOut,
             summary="Start the latest version of a key with its start form's values")
def submit_form_by_key(ctx: Context, request: Request, actor: CurrentActor, key: str,
                       body: SubmitFormIn | None = None) -> ProcessInstanceOut:
    return _start(ctx, request, actor, _by_key(ctx, actor, key), body or SubmitFormIn(), with_variables=False)


@router.post("/process-definition/{definition_id}/submit-form", response_model=ProcessInstanceOut,
             summary="Start a definition with its start form's values")
def submit_form_by_id(ctx: Context, request: Request, actor: CurrentActor, definition_id: str,
                      body: SubmitFormIn | None = None) -> ProcessInstanceOut:
    return _start(ctx, request, actor, _by_id(ctx, actor, definition_id), body or SubmitFormIn(),
                  with_variables=False)


VariableNames = Annotated[str | None, Query(alias="variableNames")]


@router.get("/process-definition/key/{key}/form-variables", summary="The start form's fields and defaults")
def form_variables_by_key(ctx: Context, actor: CurrentActor, key: str,
                          variable_names: VariableNames = None) -> dict[str, dict]:
    definition = _by_key(ctx, actor, key)
    return form_variables(definition.start_form or [], {}, _names(variable_names))


@router.get("/process-definition/{definition_id}/form-variables", summary="The start form's fields and defaults")
def form_variables_by_id(ctx: Context, actor: CurrentActor, definition_id: str,
                         variable_names: VariableNames = None) -> dict[str, dict]:
    definition = _by_id(ctx, actor, definition_id)
    return form_variables(definition.start_form or [], {}, _names(variable_names))


def _names(value: str | None) -> set[str] | None:
    names = csv(value)
    return set(names) if names is not None else None
