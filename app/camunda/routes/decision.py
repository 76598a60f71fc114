"""/decision-definition: deployed DMN decisions, their XML, and evaluation (Camunda 7's shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import Field

from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, page_size
from app.camunda.dto import CamundaModel, CountOut
from app.camunda.variables import decode_variables, encode_variables
from app.db.models import DecisionDefinition
from app.engine.data import json_safe
from app.services import decisions

router = APIRouter(tags=["decision definition"])


class EvaluateIn(CamundaModel):
    variables: dict[str, Any] | None = Field(default=None, description="Typed values, as for a process start.")


def decision_out(row: DecisionDefinition) -> dict[str, Any]:
    return {"id": row.id, "key": row.key, "category": None, "name": row.name, "version": row.version,
            "resource": row.filename, "deploymentId": row.deployment_id, "decisionRequirementsDefinitionId": None,
            "decisionRequirementsDefinitionKey": None, "tenantId": None, "historyTimeToLive": None,
            "versionTag": None}


@router.get("/decision-definition", summary="Decision definitions")
def list_decisions(ctx: Context, actor: CurrentActor, key: str | None = None,
                   latest: Annotated[bool, Query(alias="latestVersion")] = False,
                   first_result: FirstResult = 0, max_results: MaxResults = None) -> list[dict[str, Any]]:
    rows, _ = decisions.list_decisions(ctx, actor=actor, key=key, latest_only=latest,
                                       limit=page_size(max_results), offset=first_result)
    return [decision_out(r) for r in rows]


@router.get("/decision-definition/count", response_model=CountOut, summary="Count decision definitions")
def count_decisions(ctx: Context, actor: CurrentActor, key: str | None = None,
                    latest: Annotated[bool, Query(alias="latestVersion")] = False) -> CountOut:
    _, total = decisions.list_decisions(ctx, actor=actor, key=key, latest_only=latest, limit=0)
    return CountOut(count=total)


@router.get("/decision-definition/key/{key}", summary="The latest version of a decision")
def by_key(ctx: Context, actor: CurrentActor, key: str) -> dict[str, Any]:
    return decision_out(decisions.get_decision(ctx, actor=actor, key=key))


@router.get("/decision-definition/{decision_id}", summary="A decision definition by id")
def by_id(ctx: Context, actor: CurrentActor, decision_id: str) -> dict[str, Any]:
    return decision_out(decisions.get_decision(ctx, actor=actor, decision_id=decision_id))


@router.get("/decision-definition/key/{key}/xml", summary="DMN XML of the latest version")
def xml_by_key(ctx: Context, actor: CurrentActor, key: str) -> dict[str, Any]:
    row = decisions.get_decision(ctx, actor=actor, key=key)
    return {"id": row.id, "dmnXml": row.xml}


@router.post("/decision-definition/key/{key}/evaluate", summary="Evaluate the latest version",
             description="The result list: one object per matched rule, output name -> typed value.")
def evaluate_by_key(ctx: Context, actor: CurrentActor, key: str, body: EvaluateIn) -> list[dict[str, Any]]:
    _, evaluation = decisions.evaluate(ctx, actor=actor, key=key, variables=decode_variables(body.variables))
    return [encode_variables(json_safe(result)) for result in evaluation.results]


@router.post("/decision-definition/{decision_id}/evaluate", summary="Evaluate a decision version by id")
def evaluate_by_id(ctx: Context, actor: CurrentActor, decision_id: str, body: EvaluateIn) -> list[dict[str, Any]]:
    _, evaluation = decisions.evaluate(ctx, actor=actor, decision_id=decision_id,
                                       variables=decode_variables(body.variables))
    return [encode_variables(json_safe(result)) for result in evaluation.results]
