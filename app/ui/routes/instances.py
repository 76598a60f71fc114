"""Deals (process instances): the list with status, current step and stage; one deal with its diagram,
variables, history timeline and incidents."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.db.models import InstanceStatus
from app.services import catalog, documents, instances
from app.ui.deps import CheckedForm, Context, FormFiles, PageActor
from app.ui.diagram import instance_diagram
from app.ui.funnel import EVENTS, STAGES, STATUSES
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX, safe_next
from app.ui.vocabulary import vocabularies

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 50


@router.get("/deals")
def deal_list(request: Request, ctx: Context, actor: PageActor) -> Response:
    params = request.query_params
    status = params.get("status", "")
    status = status if status in set(InstanceStatus) else ""
    process = params.get("process", "")[:255]
    q = params.get("q", "")[:100]
    page_text = params.get("page", "1")
    page = int(page_text) if page_text.isdigit() and 0 < int(page_text) < 10_000 else 1
    views, total = instances.list_instances(ctx, actor=actor, status=status or None, definition_key=process or None,
                                            search=q.strip() or None, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render(request, "deals.html", actor=actor, views=views, total=total, page=page, page_size=PAGE_SIZE,
                  params={"status": status, "process": process, "q": q},
                  names=catalog.process_names(ctx, actor=actor), statuses=STATUSES, stages=STAGES)


@router.get("/deals/{instance_id}")
def deal(request: Request, ctx: Context, actor: PageActor, instance_id: str) -> Response:
    view = instances.get_instance(ctx, actor=actor, instance_id=instance_id)
    history = instances.instance_history(ctx, actor=actor, instance_id=instance_id)
    instance = view.instance
    attached = documents.list_documents(ctx, actor=actor, instance_id=instance_id)
    return render(request, "deal.html", actor=actor, view=view, instance=instance, history=history,
                  documents=attached,
                  may_delete=lambda d: actor.sees_all_work or d.uploaded_by == actor.username,
                  words=vocabularies.get(ctx, actor, instance.definition_id),
                  variables=sorted(instance.variables.items()), statuses=STATUSES, stages=STAGES, events=EVENTS,
                  diagram=instance_diagram(instance.definition_key, view.definition_version, history=history,
                                           open_tasks=view.open_tasks, incidents=view.incidents))


@router.post("/deals/{instance_id}/documents")
def attach_to_deal(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, files: FormFiles,
                   instance_id: str) -> Response:
    for upload in files.get("file", []):
        documents.upload_document(ctx, actor=actor, instance_id=instance_id, source=upload.file,
                                  filename=upload.filename)
    return redirect(request, f"{UI_PREFIX}/deals/{instance_id}#documents",
                    flash=translate(request, "Attached: %(count)s.", count=len(files.get("file", []))))


@router.post("/documents/{document_id}/delete")
def delete_document(request: Request, ctx: Context, actor: PageActor, form: CheckedForm,
                    document_id: str) -> Response:
    document = documents.delete_document(ctx, actor=actor, document_id=document_id)
    return redirect(request, safe_next(form.get("next"), f"{UI_PREFIX}/deals/{document.instance_id}#documents"),
                    flash=translate(request, "Deleted: “%(name)s”.", name=document.name))
