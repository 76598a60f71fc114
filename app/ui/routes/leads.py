"""Lead import pages: upload a table, check the preview and the column mapping, watch the progress bar."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from app.auth.permissions import may_start
from app.db.models import LeadImport
from app.services import deployments, lead_imports
from app.services.lead_imports import ASSIGNMENT, ON_DUPLICATE, require_may_import
from app.ui.deps import CheckedForm, Context, FormFiles, PageActor
from app.ui.i18n import N_
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX

router = APIRouter(route_class=PageRoute)
IMPORT_STATES = {"queued": N_("waiting for the worker"), "running": N_("importing"), "completed": N_("import finished"),
                 "cancelled": N_("cancelled"), "failed": N_("failed")}


def _startable(ctx: Any, actor: Any) -> list[Any]:
    definitions, _ = deployments.list_definitions(ctx, actor=actor, latest_only=True, limit=500)
    return [d for d in definitions if may_start(actor, d) and lead_imports.lead_form(d)]


@router.get("/leads")
def import_page(request: Request, ctx: Context, actor: PageActor) -> Response:
    require_may_import(actor)
    return render(request, "leads.html", actor=actor, definitions=_startable(ctx, actor),
                  imports=lead_imports.list_imports(ctx, actor=actor), states=IMPORT_STATES)


@router.post("/leads/preview")
def preview(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, files: FormFiles) -> Response:
    uploads = files.get("file") or []
    definition_key = form.get("definition_key", "")
    if not uploads:
        return redirect(request, f"{UI_PREFIX}/leads", flash=translate(request, "Choose a file to import."))
    found = lead_imports.preview_import(ctx, actor=actor, definition_key=definition_key, source=uploads[0].file,
                                        filename=uploads[0].filename, keep=True)
    source_field = next((f for f in found.fields if f["id"] == "source"), None)
    return render(request, "leads_preview.html", actor=actor, preview=found, definition_key=definition_key,
                  file_name=uploads[0].filename, source_field=source_field, on_duplicate=ON_DUPLICATE,
                  assignment=ASSIGNMENT)


@router.post("/leads/imports")
def run(request: Request, ctx: Context, actor: PageActor, form: CheckedForm) -> Response:
    mapping = {key.removeprefix("map:"): value for key, value in form.items() if key.startswith("map:")}
    job = lead_imports.create_import_from_preview(
        ctx, actor=actor, file_token=form.get("file_token", ""), definition_key=form.get("definition_key", ""),
        mapping=mapping, on_duplicate=form.get("on_duplicate", "skip"),
        assignment=form.get("assignment", "importer"), group=form.get("group", "hunter") or "hunter",
        lead_source=form.get("source") or None)
    return redirect(request, f"{UI_PREFIX}/leads/imports/{job.id}",
                    flash=translate(request, "The import has started."))


@router.get("/leads/imports/{import_id}")
def progress_page(request: Request, ctx: Context, actor: PageActor, import_id: str) -> Response:
    found = lead_imports.get_progress(ctx, actor=actor, import_id=import_id)
    return render(request, "leads_progress.html", actor=actor, job=found.job, progress=_progress(found),
                  states=IMPORT_STATES)


@router.get("/leads/imports/{import_id}/progress.json")
def progress_json(request: Request, ctx: Context, actor: PageActor, import_id: str) -> JSONResponse:
    return JSONResponse(_progress(lead_imports.get_progress(ctx, actor=actor, import_id=import_id)))


@router.post("/leads/imports/{import_id}/cancel")
def cancel(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, import_id: str) -> Response:
    lead_imports.cancel_import(ctx, actor=actor, import_id=import_id)
    return redirect(request, f"{UI_PREFIX}/leads/imports/{import_id}",
                    flash=translate(request, "The import is cancelled."))


def _progress(found: lead_imports.Progress) -> dict[str, Any]:
    job: LeadImport = found.job
    percent = 100 if job.total == 0 else int(job.done * 100 / job.total)
    return {"state": job.state, "total": job.total, "done": job.done, "imported": job.imported,
            "duplicates": job.duplicates, "failed": job.failed, "percent": percent, "rate": found.rate,
            "eta_seconds": found.eta_seconds, "final": job.state not in ("queued", "running")}
