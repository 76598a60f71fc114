"""Documents: attach to a deal or a task's file field, list a deal's, download, delete (soft)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Response, UploadFile
from fastapi.responses import StreamingResponse

from app.api.deps import Context, CurrentActor
from app.api.schemas.common import Page
from app.api.schemas.documents import DocumentOut
from app.services import documents
from app.services.file_types import attachment_headers

router = APIRouter(tags=["documents"])


@router.post("/process-instances/{instance_id}/documents", status_code=201, response_model=DocumentOut,
             summary="Attach a document",
             description="Multipart `file`; with `task_id` (and `field`, a file field of its form) it belongs to "
                         "that open task and only who may work the task may attach it; without, to the deal, "
                         "for anyone who may read it. The type is sniffed from the content and must be one of "
                         "`VORONKA_DOCUMENT_TYPES`; over `VORONKA_MAX_DOCUMENT_BYTES` is a 413.")
def upload(ctx: Context, actor: CurrentActor, instance_id: str, file: Annotated[UploadFile, File()],
           task_id: Annotated[str | None, Form()] = None,
           field: Annotated[str | None, Form()] = None) -> DocumentOut:
    document = documents.upload_document(ctx, actor=actor, instance_id=instance_id, source=file.file,
                                         filename=file.filename, task_id=task_id or None, field=field or None)
    return DocumentOut.model_validate(document)


@router.get("/process-instances/{instance_id}/documents", response_model=Page[DocumentOut],
            summary="A deal's documents",
            description="Oldest first, with their task and funnel stage; `include_deleted` shows the deleted "
                        "ones too (who deleted them and when).")
def list_documents(ctx: Context, actor: CurrentActor, instance_id: str,
                   include_deleted: bool = False) -> Page[DocumentOut]:
    items = documents.list_documents(ctx, actor=actor, instance_id=instance_id, include_deleted=include_deleted)
    return Page[DocumentOut](items=[DocumentOut.model_validate(d) for d in items], total=len(items))


@router.get("/documents/{document_id}", summary="Download a document",
            response_class=StreamingResponse,
            responses={200: {"content": {"application/octet-stream": {}}, "description": "The original bytes."}},
            description="Always `Content-Disposition: attachment`, with `nosniff` and a sandboxing CSP, so an "
                        "uploaded HTML page is never rendered or run by the browser.")
def download(ctx: Context, actor: CurrentActor, document_id: str) -> StreamingResponse:
    document, chunks = documents.open_document(ctx, actor=actor, document_id=document_id)
    return StreamingResponse(chunks, media_type=document.content_type,
                             headers=attachment_headers(document.name, document.size, document.sha256))


@router.delete("/documents/{document_id}", status_code=204, summary="Delete a document",
               description="The uploader or the head of sales; the document stays in the deal's history.")
def delete(ctx: Context, actor: CurrentActor, document_id: str) -> Response:
    documents.delete_document(ctx, actor=actor, document_id=document_id)
    return Response(status_code=204)
