"""Models for designers: upload BPMN, see definitions and their versions, view a diagram."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from app.errors import InvalidInput, PayloadTooLarge, Problem
from app.services import deployments
from app.ui.deps import CheckedForm, Context, PageActor
from app.ui.diagram import DiagramView
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX

router = APIRouter(route_class=PageRoute)


@router.get("/models")
def model_list(request: Request, ctx: Context, actor: PageActor) -> Response:
    definitions, _ = deployments.list_definitions(ctx, actor=actor, latest_only=True, limit=500)
    return render(request, "models.html", actor=actor, definitions=definitions, problems=[], upload_error=None)


@router.post("/models")
async def upload(request: Request, ctx: Context, actor: PageActor, form: CheckedForm) -> Response:
    limit = ctx.settings.max_upload_bytes
    files: list[tuple[str, bytes]] = []
    for item in (await request.form()).getlist("files"):
        if isinstance(item, UploadFile) and item.filename:
            data = await item.read(limit + 1)
            if len(data) > limit:
                raise PayloadTooLarge(f"{item.filename} is larger than {limit} bytes")
            files.append((item.filename, data))
    try:
        # Parsing and checking a model takes a while: keep it off the event loop.
        result = await run_in_threadpool(deployments.deploy, ctx, files=files, actor=actor, source="ui")
    except InvalidInput as exc:
        definitions, _ = await run_in_threadpool(deployments.list_definitions, ctx, actor=actor, latest_only=True,
                                                 limit=500)
        return render(request, "models.html", status_code=400, actor=actor, definitions=definitions,
                      upload_error=exc.detail, problems=exc.problems or [Problem(exc.detail)])
    first = result.definitions[0]
    message = (translate(request, "Deployed %(name)s, version %(version)s.", name=first.name, version=first.version)
               if result.created else translate(request, "Nothing new: the same as the latest version."))
    return redirect(request, f"{UI_PREFIX}/models/{first.key}", flash=message)


@router.get("/models/{key}")
def model(request: Request, ctx: Context, actor: PageActor, key: str, version: int | None = None) -> Response:
    versions = deployments.definition_versions(ctx, key=key, actor=actor)
    chosen = next((d for d in versions if d.version == version), versions[0])
    return render(request, "model.html", actor=actor, versions=versions, definition=chosen,
                  diagram=DiagramView(chosen.key, chosen.version))


@router.get("/models/{key}/{version}.bpmn")
def model_xml(ctx: Context, actor: PageActor, key: str, version: int) -> Response:
    definition = deployments.get_definition(ctx, actor=actor, key=key, version=version)
    # A deployed version never changes, so the browser may keep it.
    return Response(definition.xml.encode("utf-8"), media_type="application/xml; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=86400"})
