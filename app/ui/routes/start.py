"""Start a process from its start form (a new lead, for example), for the definitions the user may start."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.auth.permissions import may_start, may_work_task, require_may_start
from app.errors import ValidationFailed
from app.services import deployments, instances
from app.ui.deps import CheckedForm, Context, PageActor
from app.ui.forms import field_errors, field_views, parse_submission
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX

router = APIRouter(route_class=PageRoute)
BUSINESS_KEY_FROM = ("company", "client", "contact")  # what names a deal when no business key is typed


@router.get("/start")
def start_list(request: Request, ctx: Context, actor: PageActor) -> Response:
    definitions, _ = deployments.list_definitions(ctx, actor=actor, latest_only=True, limit=500)
    startable = [d for d in definitions if may_start(actor, d)]
    return render(request, "start_list.html", actor=actor, definitions=startable)


@router.get("/start/{key}")
def start_form(request: Request, ctx: Context, actor: PageActor, key: str) -> Response:
    definition = deployments.get_definition(ctx, actor=actor, key=key)
    require_may_start(actor, definition)
    return render(request, "start.html", actor=actor, definition=definition,
                  fields=field_views(definition.start_form, {}), business_key="", general_errors=[])


@router.post("/start/{key}")
def start(request: Request, ctx: Context, actor: PageActor, form: CheckedForm, key: str) -> Response:
    definition = deployments.get_definition(ctx, actor=actor, key=key)
    variables, shown = parse_submission(definition.start_form, form)
    business_key = form.get("business_key", "").strip()[:255] or next(
        (str(variables[name]).strip()[:255] for name in BUSINESS_KEY_FROM if variables.get(name)), None)
    try:
        view = instances.start_instance(ctx, actor=actor, definition_key=key, business_key=business_key,
                                        variables=variables, submit_start_form=True)
    except ValidationFailed as exc:
        by_field, general = field_errors(exc)
        return render(request, "start.html", status_code=422, actor=actor, definition=definition,
                      fields=field_views(definition.start_form, shown, by_field),
                      business_key=form.get("business_key", ""), general_errors=general)
    # Straight to the first step when it is the starter's own (a hunter's new lead opens its qualification).
    mine = next((t for t in view.open_tasks if may_work_task(actor, t)), None)
    target = f"{UI_PREFIX}/tasks/{mine.id}" if mine else f"{UI_PREFIX}/deals/{view.instance.id}"
    return redirect(request, target, flash=translate(request, "Started: %(name)s.",
                                                     name=business_key or definition.name))
