"""/deployment: list, count, create (Camunda Modeler's deploy), get, delete, resources."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from app.camunda.dates import parse_camunda_date
from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, SortBy, SortOrder, page_size, sort_key
from app.camunda.dto import (
    CountOut,
    DeploymentOut,
    DeploymentWithDefinitionsOut,
    ResourceOut,
    definition_out,
    deployment_out,
)
from app.camunda.uploads import flag, read_deployment
from app.db.models import ProcessDefinition
from app.errors import InvalidInput, NotFound
from app.services import deployments
from app.services.deployments import DeploymentFilter

router = APIRouter(tags=["deployment"])

_SORTS = {"id": "id", "name": "name", "deploymentTime": "created"}


def _date(value: str | None, field: str) -> datetime | None:
    return parse_camunda_date(value, field=field) if value else None


def deployment_filter(
    id: Annotated[str | None, Query()] = None,  # noqa: A002 (Camunda's parameter name)
    name: Annotated[str | None, Query()] = None,
    name_like: Annotated[str | None, Query(alias="nameLike")] = None,
    source: Annotated[str | None, Query()] = None,
    without_source: Annotated[bool, Query(alias="withoutSource")] = False,
    after: Annotated[str | None, Query()] = None,
    before: Annotated[str | None, Query()] = None,
    sort_by: SortBy = None, sort_order: SortOrder = None,
) -> DeploymentFilter:
    sort, descending = sort_key(sort_by, sort_order, _SORTS)
    return DeploymentFilter(deployment_id=id, name=name, name_like=name_like, source=source,
                            without_source=without_source, after=_date(after, "after"),
                            before=_date(before, "before"), sort=sort or "created", descending=descending)


Filter = Annotated[DeploymentFilter, Depends(deployment_filter)]


@router.get("/deployment", response_model=list[DeploymentOut], summary="List deployments",
            description="Camunda Modeler's connection check is `GET /deployment?maxResults=0`.")
def list_deployments(ctx: Context, actor: CurrentActor, flt: Filter, first_result: FirstResult = 0,
                     max_results: MaxResults = None) -> list[DeploymentOut]:
    rows, _total = deployments.list_deployments(ctx, actor=actor, flt=flt, limit=page_size(max_results),
                                                offset=first_result)
    return [deployment_out(d) for d in rows]


@router.get("/deployment/count", response_model=CountOut, summary="Count deployments")
def count_deployments(ctx: Context, actor: CurrentActor, flt: Filter) -> CountOut:
    _rows, total = deployments.list_deployments(ctx, actor=actor, flt=flt, limit=0)
    return CountOut(count=total)


@router.post(
    "/deployment/create", response_model=DeploymentWithDefinitionsOut, summary="Deploy (Camunda Modeler)",
    description="Multipart: `deployment-name`, `deployment-source`, `enable-duplicate-filtering`, and one part per "
                "file. Each process identical to its latest version is not deployed again; "
                "`deployedProcessDefinitions` holds the new versions, or is `null` when nothing was new. `.dmn` "
                "and `.cmmn` files are refused, `.form` files and images are accepted and ignored.",
)
async def create_deployment(request: Request, ctx: Context, actor: CurrentActor) -> DeploymentWithDefinitionsOut:
    upload = await read_deployment(request, ctx.settings)
    if upload.options.get("tenant-id"):
        raise InvalidInput("Voronka has no tenants: leave the tenant id empty")
    result = await run_in_threadpool(deployments.deploy, ctx, files=upload.bpmn, actor=actor,
                                name=upload.options.get("deployment-name") or None,
                                source=upload.options.get("deployment-source") or None)
    filtering = flag(upload.options.get("enable-duplicate-filtering")) or flag(
        upload.options.get("deploy-changed-only"))
    new = [d for d in result.definitions if result.created and d.deployment_id == result.deployment.id]
    shown = new if (new or filtering) else result.definitions
    base = deployment_out(result.deployment)
    return DeploymentWithDefinitionsOut(
        **base.model_dump(),
        deployed_process_definitions={d.id: definition_out(d) for d in shown} or None,
    )


@router.get("/deployment/{deployment_id}", response_model=DeploymentOut, summary="Get a deployment")
def get_deployment(ctx: Context, actor: CurrentActor, deployment_id: str) -> DeploymentOut:
    deployment, _definitions = deployments.get_deployment(ctx, actor=actor, deployment_id=deployment_id)
    return deployment_out(deployment)


@router.delete("/deployment/{deployment_id}", status_code=204, summary="Delete a deployment",
               description="Refused (409) while instances of its definitions exist, unless `cascade=true`, which "
                           "deletes them and their history too (admins).")
def delete_deployment(ctx: Context, actor: CurrentActor, deployment_id: str, cascade: bool = False) -> Response:
    deployments.delete_deployment(ctx, actor=actor, deployment_id=deployment_id, cascade=cascade)
    return Response(status_code=204)


@router.get("/deployment/{deployment_id}/resources", response_model=list[ResourceOut],
            summary="The files of a deployment")
def list_resources(ctx: Context, actor: CurrentActor, deployment_id: str) -> list[ResourceOut]:
    _deployment, definitions = deployments.get_deployment(ctx, actor=actor, deployment_id=deployment_id)
    return [ResourceOut(id=d.id, name=d.filename, deployment_id=d.deployment_id) for d in definitions]


@router.get("/deployment/{deployment_id}/resources/{resource_id}", response_model=ResourceOut,
            summary="One file of a deployment")
def get_resource(ctx: Context, actor: CurrentActor, deployment_id: str, resource_id: str) -> ResourceOut:
    definition = _resource(ctx, actor, deployment_id, resource_id)
    return ResourceOut(id=definition.id, name=definition.filename, deployment_id=definition.deployment_id)


@router.get("/deployment/{deployment_id}/resources/{resource_id}/data", summary="The bytes of a file",
            responses={200: {"content": {"application/octet-stream": {}}}})
def get_resource_data(ctx: Context, actor: CurrentActor, deployment_id: str, resource_id: str) -> Response:
    definition = _resource(ctx, actor, deployment_id, resource_id)
    return Response(definition.xml.encode("utf-8"), media_type="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(definition.filename)}"})


def _resource(ctx: Context, actor: CurrentActor, deployment_id: str, resource_id: str) -> ProcessDefinition:
    _deployment, definitions = deployments.get_deployment(ctx, actor=actor, deployment_id=deployment_id)
    for definition in definitions:
        if definition.id == resource_id:
            return definition
    raise NotFound(f"deployment {deployment_id} has no resource {resource_id}")
