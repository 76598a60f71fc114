"""Camunda 8 (Zeebe REST) targets of Camunda Modeler: `GET /v2/topology` and `POST /v2/deployments`.

These live on the main application, so their errors are problem details, which is what Camunda 8 answers too.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from app.api.deps import Context, CurrentActor
from app.camunda.uploads import read_deployment
from app.errors import InvalidInput
from app.services import deployments

# The Camunda 8 release whose REST shapes these two endpoints follow.
ZEEBE_VERSION = "8.7.0"
DEFAULT_TENANT = "<default>"

router = APIRouter(prefix="/v2", tags=["camunda 8"])


@router.get("/topology", summary="Cluster topology (Camunda 8): one broker, one partition")
def topology(request: Request, _actor: CurrentActor) -> dict[str, Any]:
    host = request.url.hostname or "localhost"
    port = request.url.port or (443 if request.url.scheme == "https" else 80)
    return {
        "brokers": [{"nodeId": 0, "host": host, "port": port, "version": ZEEBE_VERSION,
                     "partitions": [{"partitionId": 1, "role": "leader", "health": "healthy"}]}],
        "clusterSize": 1, "partitionsCount": 1, "replicationFactor": 1, "gatewayVersion": ZEEBE_VERSION,
        "lastCompletedChangeId": "-1",
    }


@router.post("/deployments", summary="Deploy resources (Camunda 8)",
             description="Multipart with one or more parts named `resources` (and optionally `tenantId`). "
                         "Each process identical to its latest version keeps that version, as in Zeebe.")
async def create_deployment(request: Request, ctx: Context, actor: CurrentActor) -> dict[str, Any]:
    upload = await read_deployment(request, ctx.settings)
    tenant = upload.options.get("tenantId")
    if tenant and tenant != DEFAULT_TENANT:
        raise InvalidInput("Voronka has no tenants: leave the tenant id empty")
    result = await run_in_threadpool(deployments.deploy, ctx, files=upload.bpmn, actor=actor, name=upload.bpmn[0][0],
                                source="Camunda 8 REST")
    return {
        "deploymentKey": result.deployment.id,
        "tenantId": DEFAULT_TENANT,
        "deployments": [{"processDefinition": {
            "processDefinitionId": d.key, "processDefinitionVersion": d.version, "resourceName": d.filename,
            "tenantId": DEFAULT_TENANT, "processDefinitionKey": d.id,
        }} for d in result.definitions],
    }
