from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.definitions import DefinitionOut
from app.api.schemas.regulation import Decision, DiffOut, ElementChangeOut, ProcessSettingsIn, ProcessSettingsOut
from app.services import approvals, definition_diff, deployments

router = APIRouter(prefix="/process-definitions", tags=["process definitions"])


@router.get("", response_model=Page[DefinitionOut], summary="List definitions",
            description="The latest version of each process key (all versions with `all_versions=true`).")
def list_definitions(ctx: Context, actor: CurrentActor, limit: Limit = 100, offset: Offset = 0,
                     all_versions: bool = False) -> Page[DefinitionOut]:
    rows, total = deployments.list_definitions(ctx, actor=actor, latest_only=not all_versions, limit=limit,
                                               offset=offset)
    return Page[DefinitionOut](items=[DefinitionOut.model_validate(r) for r in rows], total=total)


@router.get("/{key}", response_model=Page[DefinitionOut], summary="Versions of one process key",
            description="Every deployed version of `key`, newest first, with its state (approved, draft, "
                        "rejected) and who decided it.")
def definition_versions(ctx: Context, actor: CurrentActor, key: str) -> Page[DefinitionOut]:
    rows = deployments.definition_versions(ctx, key=key, actor=actor)
    items = [DefinitionOut.model_validate(r).model_copy(update={"deployed_by": r.deployment.created_by}) for r in rows]
    return Page[DefinitionOut](items=items, total=len(rows))


@router.get("/{key}/xml", summary="BPMN XML of a definition",
            description="The XML as deployed: the latest version, or `version=N`.",
            responses={200: {"content": {"application/xml": {}}}})
def definition_xml(ctx: Context, actor: CurrentActor, key: str, version: int | None = None) -> Response:
    definition = deployments.get_definition(ctx, actor=actor, key=key, version=version)
    return Response(definition.xml.encode("utf-8"), media_type="application/xml; charset=utf-8")


@router.post("/{definition_id}/approve", response_model=DefinitionOut, summary="Approve a draft version",
             description="The head of sales (or an admin) approves a draft: new deals start on it from now on, and "
                         "its timer and message start events replace the older version's. 409 unless it is a draft.")
def approve(ctx: Context, actor: CurrentActor, definition_id: str, body: Decision | None = None) -> DefinitionOut:
    row = approvals.approve(ctx, actor=actor, definition_id=definition_id, comment=body.comment if body else None)
    return DefinitionOut.model_validate(row)


@router.post("/{definition_id}/reject", response_model=DefinitionOut, summary="Reject a draft version",
             description="The draft never starts deals; the approved version stays in force. 409 unless a draft.")
def reject(ctx: Context, actor: CurrentActor, definition_id: str, body: Decision | None = None) -> DefinitionOut:
    row = approvals.reject(ctx, actor=actor, definition_id=definition_id, comment=body.comment if body else None)
    return DefinitionOut.model_validate(row)


@router.get("/{key}/settings", response_model=ProcessSettingsOut, summary="Approval setting of a process key")
def get_settings(ctx: Context, actor: CurrentActor, key: str) -> ProcessSettingsOut:
    return ProcessSettingsOut(key=key, requires_approval=approvals.settings_of(ctx, actor=actor, key=key))


@router.put("/{key}/settings", response_model=ProcessSettingsOut, summary="Change the approval setting (admins)",
            description="`requires_approval`: new versions of this key are drafts until approved (default: on for "
                        "the bundled sales models, off for other keys). Versions already deployed keep their state.")
def put_settings(ctx: Context, actor: CurrentActor, key: str, body: ProcessSettingsIn) -> ProcessSettingsOut:
    value = approvals.set_requires_approval(ctx, actor=actor, key=key, value=body.requires_approval)
    return ProcessSettingsOut(key=key, requires_approval=value)


@router.get("/{key}/diff", response_model=DiffOut, summary="What changed between two versions",
            description="Elements added, removed and changed from version `from` to version `to` (default: the "
                        "newest version against the one before it), matched by element id. A changed element "
                        "names its changed `fields` with the old and new `values`.")
def diff(ctx: Context, actor: CurrentActor, key: str,
         from_version: Annotated[int | None, Query(alias="from", ge=1, le=2**31 - 1)] = None,
         to_version: Annotated[int | None, Query(alias="to", ge=1, le=2**31 - 1)] = None) -> DiffOut:
    old, new, changes = definition_diff.diff_versions(ctx, actor=actor, key=key, from_version=from_version,
                                                      to_version=to_version)
    return DiffOut(key=key, from_version=old.version, to_version=new.version, from_definition_id=old.id,
                   to_definition_id=new.id,
                   added=[ElementChangeOut.model_validate(c) for c in changes.added],
                   removed=[ElementChangeOut.model_validate(c) for c in changes.removed],
                   changed=[ElementChangeOut.model_validate(c) for c in changes.changed])
