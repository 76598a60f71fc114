"""/message: correlate a message to waiting instances or a message start event."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from app.camunda.deps import Context, CurrentActor
from app.camunda.dto import CamundaModel
from app.camunda.errors import camunda_error
from app.camunda.variables import decode_variables, encode_variables
from app.errors import Conflict, InvalidInput, NotFound
from app.services import instances, messages, signals

router = APIRouter(tags=["message"])


class CorrelateIn(CamundaModel):
    message_name: str
    business_key: str | None = None
    process_instance_id: str | None = None
    tenant_id: str | None = None
    correlation_keys: dict[str, Any] | None = None
    local_correlation_keys: dict[str, Any] | None = None
    process_variables: dict[str, Any] | None = None
    process_variables_local: dict[str, Any] | None = None
    all: bool = False
    result_enabled: bool = False
    variables_in_result_enabled: bool = False


@router.post("/message", summary="Correlate a message",
             description="To the instance waiting for it (by business key and correlation keys, which match the "
                         "model's correlation properties), or a message start event. 204, or 200 with results "
                         "when `resultEnabled`.")
def correlate(ctx: Context, actor: CurrentActor, body: CorrelateIn) -> Response:
    for field, value in (("processInstanceId", body.process_instance_id), ("tenantId", body.tenant_id),
                         ("localCorrelationKeys", body.local_correlation_keys),
                         ("processVariablesLocal", body.process_variables_local)):
        if value:
            raise InvalidInput(f"{field} is not supported here; correlate by businessKey and correlationKeys")
    try:
        result = messages.correlate_message(
            ctx, actor=actor, name=body.message_name, business_key=body.business_key,
            correlation=decode_variables(body.correlation_keys, where="correlationKeys"),
            variables=decode_variables(body.process_variables, where="processVariables"), all=body.all)
    except (NotFound, Conflict) as exc:
        if isinstance(exc, Conflict) and "all=true" not in exc.detail:
            raise
        # Camunda answers both "nobody waits" and "more than one waits" with this 400.
        return camunda_error(400, "MismatchingMessageCorrelationException",
                             f"Cannot correlate message '{body.message_name}': {exc.detail}")
    if not body.result_enabled:
        return Response(status_code=204)
    results = []
    for delivery in result.deliveries:
        view = instances.get_instance(ctx, actor=actor, instance_id=delivery.instance_id)
        i = view.instance
        process_instance = {"links": [], "id": i.id, "definitionId": i.definition_id, "businessKey": i.business_key,
                            "caseInstanceId": None, "ended": i.ended_at is not None, "suspended": False,
                            "tenantId": None}
        entry: dict[str, Any] = {
            "resultType": "ProcessDefinition" if delivery.started else "Execution",
            "processInstance": process_instance if delivery.started else None,
            "execution": None if delivery.started else {"id": i.id, "processInstanceId": i.id,
                                                        "ended": i.ended_at is not None, "tenantId": None},
        }
        if body.variables_in_result_enabled:
            entry["variables"] = encode_variables(i.variables)
        results.append(entry)
    return JSONResponse(results)


class SignalIn(CamundaModel):
    name: str
    execution_id: str | None = None
    variables: dict[str, Any] | None = None
    tenant_id: str | None = None
    without_tenant_id: bool | None = None


@router.post("/signal", status_code=204, summary="Throw a signal",
             description="Broadcast to every instance waiting for the signal and every process starting with it "
                         "(admins and integration workers); `variables` go to each. No receiver is not an error.")
def throw_signal(ctx: Context, actor: CurrentActor, body: SignalIn) -> Response:
    if body.execution_id or body.tenant_id:
        raise InvalidInput("executionId and tenantId are not supported: a signal goes to every waiting instance")
    signals.broadcast(ctx, actor=actor, name=body.name, variables=decode_variables(body.variables))
    return Response(status_code=204)
