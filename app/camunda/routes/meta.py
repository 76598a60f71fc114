"""/version and /engine: what Camunda Modeler and clients ask before anything else."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from app.camunda.deps import CurrentActor
from app.camunda.dto import VersionOut

# The Camunda 7 release whose REST API this dialect follows (see docs/camunda.md for what differs).
CAMUNDA_VERSION = "7.23.0"

router = APIRouter(tags=["engine"])


@router.get("/version", response_model=VersionOut, summary="The Camunda REST API version spoken here")
def version(_actor: CurrentActor) -> VersionOut:
    return VersionOut(version=CAMUNDA_VERSION)


@router.get("/engine", summary="The process engines (one: `default`)")
def engines(_actor: CurrentActor) -> list[dict[str, Any]]:
    return [{"name": "default"}]
