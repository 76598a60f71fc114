from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.decisions import DecisionOut, DecisionResultOut, EvaluateDecision
from app.engine.data import json_safe
from app.services import decisions

router = APIRouter(prefix="/decisions", tags=["decisions"])


@router.get("", response_model=Page[DecisionOut], summary="List DMN decisions",
            description="Decision tables deployed from .dmn files: the latest version of each key, or every "
                        "version with `all_versions=true`.")
def list_decisions(ctx: Context, actor: CurrentActor, key: str | None = None, all_versions: bool = False,
                   limit: Limit = 50, offset: Offset = 0) -> Page[DecisionOut]:
    rows, total = decisions.list_decisions(ctx, actor=actor, key=key, latest_only=not all_versions, limit=limit,
                                           offset=offset)
    return Page[DecisionOut](items=[DecisionOut.model_validate(r) for r in rows], total=total)


@router.get("/{key}", response_model=DecisionOut, summary="The latest version of a decision")
def get_decision(ctx: Context, actor: CurrentActor, key: str) -> DecisionOut:
    return DecisionOut.model_validate(decisions.get_decision(ctx, actor=actor, key=key))


@router.post("/{key}/evaluate", response_model=DecisionResultOut, summary="Evaluate a decision",
             description="Evaluate the latest version (or `version`) over `variables`, outside any instance: "
                         "the inputs seen, the rules that matched and the results.")
def evaluate_decision(ctx: Context, actor: CurrentActor, key: str, body: EvaluateDecision) -> DecisionResultOut:
    row, evaluation = decisions.evaluate(ctx, actor=actor, key=key, version=body.version, variables=body.variables)
    summary = json_safe(evaluation.summary())
    return DecisionResultOut(decision_id=row.id, key=row.key, version=row.version, inputs=summary["inputs"],
                             matched_rules=summary["matched_rules"], results=summary["results"])
