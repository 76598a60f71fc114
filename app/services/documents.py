"""Documents on deals and tasks: upload, list, download, soft delete, and the values of task file fields.

Who may do what: whoever may read the deal downloads its documents and attaches documents to the deal itself;
only whoever may work an open task attaches to it; the uploader or the head of sales deletes (kept in history).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.permissions import may_work_task, require_task_readable
from app.db.base import utcnow
from app.db.models import Document, EventKind, ProcessInstance, Task, TaskState
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from app.services.context import AppContext
from app.services.file_types import safe_name, sniff
from app.services.instances import readable_instance
from app.services.recording import add_event
from app.storage import SpooledUpload, spool_dir

FILE_TYPE = "file"


class UnsupportedType(InvalidInput):
    title = "Unsupported file type"


@dataclass
class DocumentView:
    document: Document
    deal_name: str | None = None


def upload_document(ctx: AppContext, *, actor: Actor, instance_id: str, source: BinaryIO,
                    filename: str | None, task_id: str | None = None, field: str | None = None) -> Document:
    """Store the bytes (content-addressed) and the metadata; the type is sniffed, never taken from the name."""
    settings = ctx.settings
    spooled = SpooledUpload(source, limit=settings.max_document_bytes, spool_dir=spool_dir(settings))
    try:
        if spooled.size == 0:
            raise InvalidInput("the file is empty", problems=[Problem("empty file", field="file")])
        content_type = sniff(spooled.head, spooled.path)
        if content_type not in settings.document_types:
            raise UnsupportedType(f"files of type {content_type} are not accepted; allowed: "
                                  f"{', '.join(settings.document_types)}", problems=[Problem(content_type,
                                                                                             field="file")])
        with ctx.db.transaction() as session:
            instance = readable_instance(session, actor, instance_id)
            task = _upload_target(session, actor, instance, task_id, field)
            document = Document(
                instance_id=instance.id, task_id=task.id if task else None, task_name=task.name if task else None,
                field=field, funnel_stage=(task.funnel_stage if task else None) or instance.funnel_stage,
                name=safe_name(filename), size=spooled.size, content_type=content_type, sha256=spooled.sha256,
                uploaded_by=actor.username, uploaded_at=utcnow())
            session.add(document)
            session.flush()
            add_event(session, instance, EventKind.DOCUMENT_ADDED, actor=actor, task_id=document.task_id,
                      element_id=task.element_id if task else None, element_name=document.task_name,
                      funnel_stage=document.funnel_stage, data=_ref(document) | {"field": field})
            ctx.blobs.put_file(spooled.path, spooled.sha256)  # before the commit: no row without its bytes
            return document
    finally:
        spooled.discard()


def _upload_target(session: Session, actor: Actor, instance: ProcessInstance, task_id: str | None,
                   field: str | None) -> Task | None:
    if task_id is None:
        if field is not None:
            raise InvalidInput("a file field belongs to a task: send task_id too", problems=[
                Problem("field without task_id", field="field")])
        return None
    task = require_task_readable(actor, session.get(Task, task_id), task_id)
    if task.instance_id != instance.id:
        raise NotFound(f"task {task_id} not found in process instance {instance.id}")
    if task.state != TaskState.OPEN:
        raise Conflict(f"task {task_id} is already {task.state}")
    if not may_work_task(actor, task):
        raise Forbidden(f"only who may work task {task_id} may attach files to it")
    if field is not None and field not in file_fields(task.form):
        raise InvalidInput(f"task {task.name!r} has no file field {field!r}; its file fields: "
                           f"{', '.join(file_fields(task.form)) or '(none)'}", problems=[Problem("no such file field",
                                                                                                 field="field")])
    return task


def list_documents(ctx: AppContext, *, actor: Actor, instance_id: str,
                   include_deleted: bool = False) -> list[Document]:
    with ctx.db.read() as session:
        readable_instance(session, actor, instance_id)
        query = select(Document).where(Document.instance_id == instance_id)
        if not include_deleted:
            query = query.where(Document.deleted_at.is_(None))
        return list(session.scalars(query.order_by(Document.uploaded_at, Document.id)))


def get_document(ctx: AppContext, *, actor: Actor, document_id: str) -> Document:
    """The metadata of a document the actor may read (404 otherwise, deleted ones too)."""
    with ctx.db.read() as session:
        return _readable(session, actor, document_id)


def open_document(ctx: AppContext, *, actor: Actor, document_id: str) -> tuple[Document, Iterator[bytes]]:
    document = get_document(ctx, actor=actor, document_id=document_id)
    return document, ctx.blobs.open(document.sha256)


def delete_document(ctx: AppContext, *, actor: Actor, document_id: str) -> Document:
    with ctx.db.transaction() as session:
        document = _readable(session, actor, document_id)
        if not (actor.sees_all_work or document.uploaded_by == actor.username):
            raise Forbidden("only who uploaded a document or the head of sales may delete it")
        document.deleted_at = utcnow()
        document.deleted_by = actor.username
        instance = session.get(ProcessInstance, document.instance_id)
        assert instance is not None
        add_event(session, instance, EventKind.DOCUMENT_DELETED, actor=actor, task_id=document.task_id,
                  element_name=document.task_name, data=_ref(document))
        return document


def _readable(session: Session, actor: Actor, document_id: str) -> Document:
    document = session.get(Document, document_id)
    if document is None or document.deleted_at is not None:
        raise NotFound(f"document {document_id} not found")
    try:
        readable_instance(session, actor, document.instance_id)
    except NotFound:
        raise NotFound(f"document {document_id} not found") from None
    return document


def file_fields(form: list[dict[str, Any]] | None) -> list[str]:
    return [f["id"] for f in form or [] if (f.get("type") or "").lower() == FILE_TYPE and f.get("id")]


def file_field_values(session: Session, task: Task) -> dict[str, list[dict[str, Any]]]:
    """A completed task's file fields take the documents attached to them (whatever the client sent): a list
    of references, so several files per field."""
    fields = file_fields(task.form)
    if not fields:
        return {}
    values: dict[str, list[dict[str, Any]]] = {name: [] for name in fields}
    for document in session.scalars(select(Document).where(Document.task_id == task.id,
                                                           Document.deleted_at.is_(None))
                                    .order_by(Document.uploaded_at, Document.id)):
        if document.field in values:
            values[document.field].append(_ref(document))
    return {name: refs for name, refs in values.items() if refs}


def with_file_fields(session: Session, task: Task, variables: dict[str, Any]) -> dict[str, Any]:
    """The submitted variables with the task's file fields set from its attachments."""
    names = set(file_fields(task.form))
    if not names:
        return variables
    return {k: v for k, v in variables.items() if k not in names} | file_field_values(session, task)


def is_file_value(value: Any) -> bool:
    """A variable holding document references (what a file field stores)."""
    return (isinstance(value, list) and bool(value)
            and all(isinstance(v, dict) and {"document_id", "sha256"} <= v.keys() for v in value))


def file_variable(ctx: AppContext, *, actor: Actor, instance_id: str, name: str) -> Document:
    """The latest document a file variable of a readable instance refers to (Camunda's File variables)."""
    with ctx.db.read() as session:
        instance = readable_instance(session, actor, instance_id)
        value = (instance.variables or {}).get(name)
        if not is_file_value(value):
            raise NotFound(f"variable {name!r} of process instance {instance_id} is not a file")
        return _readable(session, actor, value[-1]["document_id"])


def _ref(document: Document) -> dict[str, Any]:
    return {"document_id": document.id, "name": document.name, "size": document.size,
            "content_type": document.content_type, "sha256": document.sha256}
