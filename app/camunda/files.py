"""Camunda File variables: a task file field's document served at .../variables/{name}/data."""

from __future__ import annotations

from fastapi.responses import StreamingResponse

from app.auth.actor import Actor
from app.services import documents
from app.services.context import AppContext
from app.services.file_types import attachment_headers


def file_response(ctx: AppContext, actor: Actor, instance_id: str, name: str) -> StreamingResponse:
    """A file field's latest document, served like every stored file (attachment, nosniff)."""
    document = documents.file_variable(ctx, actor=actor, instance_id=instance_id, name=name)
    _, chunks = documents.open_document(ctx, actor=actor, document_id=document.id)
    return StreamingResponse(chunks, media_type=document.content_type,
                             headers=attachment_headers(document.name, document.size, document.sha256))
