from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.definitions import DefinitionOut
from app.services import deployments

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])


@router.get("", response_model=Page[DefinitionOut], summary="List definitions",
            description="The latest version of each process key (all versions with `all_versions=true`).")
def list_definitions(ctx: Context, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
                     all_versions: bool = False) -> Page[DefinitionOut]:
    rows, total = deployments.list_definitions(ctx, actor=actor, latest_only=not all_versions, limit=limit,
                                               offset=offset)
    return Page[DefinitionOut](items=[DefinitionOut.model_validate(r) for r in rows], total=total)


@router.get("/{key}", response_model=Page[DefinitionOut], summary="Versions of one process key",
            description="Every deployed version of `key`, newest first.")
def definition_versions(ctx: Context, actor: CurrentActor, key: str) -> Page[DefinitionOut]:
    rows = deployments.definition_versions(ctx, key=key, actor=actor)
    return Page[DefinitionOut](items=[DefinitionOut.model_validate(r) for r in rows], total=len(rows))


@router.get("/{key}/xml", summary="BPMN XML of a definition",
            description="The XML as deployed: the latest version, or `version=N`.",
            responses={200: {"content": {"application/xml": {}}}})
def definition_xml(ctx: Context, actor: CurrentActor, key: str, version: int | None = None) -> Response:
    definition = deployments.get_definition(ctx, actor=actor, key=key, version=version)
    return Response(definition.xml.encode("utf-8"), media_type="application/xml; charset=utf-8")
