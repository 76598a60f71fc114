"""Sign in, sign out and the language switch."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.auth.actor import Actor
from app.auth.sessions import clear_session, issue_session
from app.services import identity
from app.services.context import AppContext
from app.ui import i18n
from app.ui.deps import CheckedForm, Context
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX, is_secure, safe_next

router = APIRouter(route_class=PageRoute)


def check_password(ctx: AppContext, *, username: str, password: str) -> Actor | None:
    """The identity service decides; the page only shows the outcome."""
    return identity.authenticate(ctx, username=username, password=password)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=safe_next(next), username="")


@router.post("/login")
def login(request: Request, ctx: Context, form: CheckedForm) -> Response:
    username = form.get("username", "").strip()
    target = safe_next(form.get("next"))
    actor = check_password(ctx, username=username, password=form.get("password", "")) if username else None
    if actor is None:
        return render(request, "login.html", status_code=401, next=target, username=username,
                      error=translate(request, "Wrong user name or password."))
    response = redirect(request, target)
    issue_session(response, actor, ctx.settings)
    return response


@router.post("/logout")
def logout(request: Request, form: CheckedForm) -> Response:
    response = redirect(request, f"{UI_PREFIX}/login")
    clear_session(response)
    return response


@router.post("/language")
def switch_language(request: Request, form: CheckedForm) -> Response:
    chosen = form.get("lang", "")
    response = redirect(request, safe_next(form.get("next")))
    if chosen in i18n.LOCALES:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax",
                            secure=is_secure(request))
    return response
