"""The task page: the model's form, the deal's context, claim / release / complete, the diagram."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.auth.actor import Actor
from app.auth.permissions import may_work_task
from app.db.base import utcnow
from app.db.models import EventKind, TaskState
from app.errors import ValidationFailed
from app.services import documents, instances, tasks
from app.services.context import AppContext
from app.ui.deps import CheckedForm, Context, FormFiles, PageActor
from app.ui.diagram import instance_diagram
from app.ui.forms import field_errors, field_views, parse_submission
from app.ui.funnel import STAGES
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX, safe_next
from app.ui.vocabulary import vocabularies

router = APIRouter(route_class=PageRoute)
# Variables the deal's header shows first when a model uses them (the shipped sales models do).
CLIENT_FIELDS = ("company", "contact", "contact_phone", "contact_email", "segment", "source")


def task_page(request: Request, ctx: AppContext, actor: Actor, task_id: str, *, submitted: dict[str, Any] | None = None,
              errors: dict[str, str] | None = None, general_errors: list[str] | None = None,
              status_code: int = 200) -> Response:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    task = detail.task
    view = instances.get_instance(ctx, actor=actor, instance_id=task.instance_id)
    history = instances.instance_history(ctx, actor=actor, instance_id=task.instance_id)
    values = {**detail.data, **(submitted or {})}
    steps = [e for e in history if e.kind == EventKind.TASK_COMPLETED]
    words = vocabularies.get(ctx, actor, view.instance.definition_id)
    attached = [d for d in documents.list_documents(ctx, actor=actor, instance_id=task.instance_id)
                if d.task_id == task.id]
    return render(
        request, "task.html", status_code=status_code, actor=actor, task=task, instance=view.instance,
        fields=field_views(task.form, values, errors), general_errors=general_errors or [],
        can_work=task.state == TaskState.OPEN and may_work_task(actor, task),
        client=[(name, detail.data[name]) for name in CLIENT_FIELDS if detail.data.get(name) not in (None, "")],
        variables=sorted((k, v) for k, v in detail.data.items() if k not in CLIENT_FIELDS),
        words=words, steps=steps, attached=attached, stages=STAGES, now=utcnow(),
        diagram=instance_diagram(view.instance.definition_key, view.definition_version, history=history,
                                 open_tasks=view.open_tasks, incidents=view.incidents, selected=task.element_id),
    )


@router.get("/tasks/{task_id}")
def show_task(request: Request, ctx: Context, actor: PageActor, task_id: str) -> Response:
    return task_page(request, ctx, actor, task_id)


@router.post("/tasks/{task_id}/claim")
def claim(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, task_id: str) -> Response:
    task = tasks.claim_task(ctx, actor=actor, task_id=task_id)
    return redirect(request, safe_next(form.get("next"), f"{UI_PREFIX}/tasks/{task_id}"),
                    flash=translate(request, "You took “%(name)s”.", name=task.name))


@router.post("/tasks/{task_id}/release")
def release(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, task_id: str) -> Response:
    task = tasks.unclaim_task(ctx, actor=actor, task_id=task_id)
    return redirect(request, safe_next(form.get("next"), f"{UI_PREFIX}/tasks/{task_id}"),
                    flash=translate(request, "“%(name)s” is back with the group.", name=task.name))


@router.post("/tasks/{task_id}/complete")
def complete(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, files: FormFiles,
             task_id: str) -> Response:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    variables, shown = parse_submission(detail.task.form, form)
    for name in documents.file_fields(detail.task.form):  # attached first: they stay if the form is refused
        for upload in files.get(name, []):
            documents.upload_document(ctx, actor=actor, instance_id=detail.task.instance_id, source=upload.file,
                                      filename=upload.filename, task_id=task_id, field=name)
    try:
        task = tasks.complete_task(ctx, actor=actor, task_id=task_id, variables=variables)
    except ValidationFailed as exc:
        by_field, general = field_errors(exc)
        return task_page(request, ctx, actor, task_id, submitted=shown, errors=by_field, general_errors=general,
                         status_code=422)
    return redirect(request, f"{UI_PREFIX}/inbox",
                    flash=translate(request, "Done: “%(name)s”.", name=task.name))
