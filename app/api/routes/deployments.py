from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from starlette.concurrency import run_in_threadpool

from app.api.deps import Context, CurrentActor
from app.api.schemas.definitions import DefinitionOut, DeploymentOut
from app.errors import PayloadTooLarge, Problem
from app.services import deployments

router = APIRouter(prefix="/deployments", tags=["deployments"])


async def read_uploads(uploads: list[UploadFile], limit: int) -> list[tuple[str, bytes]]:
    """Read each file, stopping at the limit instead of buffering an arbitrarily large body."""
    files = []
    for upload in uploads:
        name = upload.filename or "upload.bpmn"
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise PayloadTooLarge(f"{name} is larger than the limit of {limit} bytes",
                                  problems=[Problem("file too large", file=name)])
        files.append((name, data))
    return files


@router.post(
    "", status_code=201, response_model=DeploymentOut,
    summary="Deploy BPMN files",
    description="Upload one or more `.bpmn` files (multipart field `files`). Each executable process becomes a "
                "new version of its key; an identical re-upload creates nothing and answers 200 with the "
                "existing definitions. Bad files get a problem response naming file, line and element.",
    responses={200: {"description": "Nothing new: identical to the latest versions"}},
)
async def create_deployment(
    ctx: Context, actor: CurrentActor, response: Response,
    files: Annotated[list[UploadFile], File(description="BPMN 2.0 files")],
    name: Annotated[str | None, Form(max_length=255)] = None,
) -> DeploymentOut:
    uploaded = await read_uploads(files, ctx.settings.max_upload_bytes)
    # Parsing and checking models takes a while: keep it off the event loop.
    result = await run_in_threadpool(deployments.deploy, ctx, files=uploaded, actor=actor, name=name, source="api")
    if not result.created:
        response.status_code = 200
    return DeploymentOut(
        id=result.deployment.id, name=result.deployment.name, source=result.deployment.source,
        created_at=result.deployment.created_at, created=result.created,
        definitions=[DefinitionOut.model_validate(d) for d in result.definitions],
    )
