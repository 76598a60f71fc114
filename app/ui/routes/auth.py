"""Sign in, sign out and the language switch."""

from __future__ import annotations

import math

from fastapi import APIRouter, Request
from starlette.responses import Response

from app.api.deps import OptionalActor, client_address
from app.auth.sessions import clear_session, is_https, issue_session
from app.errors import NotAuthenticated, RateLimited
from app.services import logins
from app.ui import i18n
from app.ui.deps import CheckedForm, Context
from app.ui.rendering import PageRoute, redirect, render, translate
from app.ui.security import UI_PREFIX, safe_next

router = APIRouter(route_class=PageRoute)


@router.get("/login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", next=safe_next(next), username="")


@router.post("/login")
def login(request: Request, ctx: Context, form: CheckedForm) -> Response:
    """The identity service checks the password and rate-limits guessing; the page only shows the outcome."""
    username = form.get("username", "").strip()
    target = safe_next(form.get("next"))
    try:
        actor = logins.login_with_password(ctx, username=username, password=form.get("password", ""),
                                           address=client_address(request))
    except RateLimited as exc:
        minutes = max(1, math.ceil(exc.retry_after / 60))
        return render(request, "login.html", status_code=429, next=target, username=username,
                      error=translate(request, "Too many failed attempts. Try again in %(minutes)s min.",
                                      minutes=minutes))
    except NotAuthenticated:
        return render(request, "login.html", status_code=401, next=target, username=username,
                      error=translate(request, "Wrong user name or password."))
    response = redirect(request, target)
    issue_session(response, ctx, actor, secure=is_https(request))
    return response


@router.post("/logout")
def logout(request: Request, ctx: Context, actor: OptionalActor, form: CheckedForm) -> Response:
    if actor is not None:
        logins.revoke_tokens(ctx, actor=actor)  # as the API's logout: this session and every token stop working
    response = redirect(request, f"{UI_PREFIX}/login")
    clear_session(response, secure=is_https(request))
    return response


@router.post("/language")
def switch_language(request: Request, form: CheckedForm) -> Response:
    chosen = form.get("lang", "")
    response = redirect(request, safe_next(form.get("next")))
    if chosen in i18n.LOCALES:
        response.set_cookie(i18n.LANG_COOKIE, chosen, max_age=365 * 24 * 3600, path="/", samesite="lax",
                            secure=is_https(request))
    return response
