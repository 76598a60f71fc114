"""Regulation changes in the browser: the diff of two versions on both diagrams and in words, approval by the
head of sales, and the migration of running deals with a progress bar (admins)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from app.errors import InvalidInput
from app.services import approvals, definition_diff, deployments, migrations
from app.ui.deps import CheckedForm, Context, PageActor
from app.ui.diagram import DiagramView
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX

router = APIRouter(route_class=PageRoute)


def _marks(**kinds: list[str]) -> str:
    return json.dumps(kinds)


@router.get("/models/{key}/diff")
def diff_page(request: Request, ctx: Context, actor: PageActor, key: str, to: int | None = None,
              source: int | None = None) -> Response:
    old, new, changes = definition_diff.diff_versions(ctx, actor=actor, key=key, from_version=source,
                                                      to_version=to)
    changed = [c.element_id for c in changes.changed]
    return render(request, "regulation_diff.html", actor=actor, old=old, new=new, changes=changes,
                  old_diagram=DiagramView(key, old.version), new_diagram=DiagramView(key, new.version),
                  old_marks=_marks(failed=[c.element_id for c in changes.removed], active=changed),
                  new_marks=_marks(completed=[c.element_id for c in changes.added], active=changed),
                  versions=deployments.definition_versions(ctx, key=key, actor=actor))


@router.post("/models/{key}/versions/{definition_id}/decision")
def decide(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, key: str,
           definition_id: str) -> Response:
    comment = form.get("comment", "").strip() or None
    if form.get("decision") == "approve":
        row = approvals.approve(ctx, actor=actor, definition_id=definition_id, comment=comment)
        message = translate(request, "Version %(version)s approved: new deals start on it.", version=row.version)
    elif form.get("decision") == "reject":
        row = approvals.reject(ctx, actor=actor, definition_id=definition_id, comment=comment)
        message = translate(request, "Version %(version)s rejected.", version=row.version)
    else:
        raise InvalidInput(translate(request, "Choose approve or reject."))
    return redirect(request, f"{UI_PREFIX}/models/{key}/diff?to={row.version}", flash=message)


@router.get("/migrations/new")
def migration_form(request: Request, ctx: Context, actor: PageActor, source: str, target: str) -> Response:
    plan = migrations.generate_plan(ctx, actor=actor, source_definition_id=source, target_definition_id=target)
    checks = migrations.validate(ctx, actor=actor, plan=plan, selection=migrations.Selection())
    old = deployments.get_definition(ctx, actor=actor, definition_id=source)
    new = deployments.get_definition(ctx, actor=actor, definition_id=target)
    return render(request, "migration_new.html", actor=actor, old=old, new=new, plan=plan,
                  valid=[c for c in checks if c.valid], invalid=[c for c in checks if not c.valid])


@router.post("/migrations")
def start_migration(request: Request, ctx: Context, actor: PageActor, form: CheckedForm) -> Response:
    plan = migrations.generate_plan(ctx, actor=actor, source_definition_id=form.get("source", ""),
                                    target_definition_id=form.get("target", ""))
    batch = migrations.start_batch(ctx, actor=actor, plan=plan, selection=migrations.Selection())
    return redirect(request, f"{UI_PREFIX}/migrations/{batch.id}")


@router.get("/migrations/{batch_id}")
def migration_page(request: Request, ctx: Context, actor: PageActor, batch_id: str) -> Response:
    progress = migrations.progress(ctx, actor=actor, batch_id=batch_id)
    old = deployments.get_definition(ctx, actor=actor, definition_id=progress.batch.source_definition_id)
    new = deployments.get_definition(ctx, actor=actor, definition_id=progress.batch.target_definition_id)
    return render(request, "migration.html", actor=actor, progress=progress, old=old, new=new)


@router.get("/migrations/{batch_id}/progress")
def migration_progress(ctx: Context, actor: PageActor, batch_id: str) -> Response:
    """What the progress bar polls."""
    p = migrations.progress(ctx, actor=actor, batch_id=batch_id, failures_limit=0)
    body: dict[str, Any] = {"state": p.batch.state, "total": p.batch.total, "done": p.done, "failed": p.failed,
                            "remaining": p.remaining}
    return JSONResponse(body, headers={"Cache-Control": "no-store"})
