"""Templates and the page route class: render with the request's language, map domain errors to pages."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlencode, urlsplit

from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from app.auth.actor import Actor
from app.auth.sessions import is_https
from app.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated, NotFound, Unavailable, VoronkaError
from app.ui import i18n, regulation_labels
from app.ui.security import UI_PREFIX, csrf_token, safe_next, set_csrf_cookie

log = logging.getLogger(__name__)
TEMPLATES_DIR = Path(__file__).parent / "templates"
FLASH_COOKIE = "voronka_flash"

environment = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
environment.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]


def _query(params: dict[str, Any], **changes: Any) -> str:
    """The current filters with some changed, as a query string (for sort links and paging)."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


environment.globals["query"] = _query
environment.globals["regulation"] = regulation_labels
environment.filters["urlquote"] = lambda value: quote(str(value), safe="")


def render(request: Request, template: str, *, actor: Actor | None = None, status_code: int = 200,
           **context: Any) -> Response:
    locale = i18n.negotiate(request)
    i18n.activate(locale)
    flash_cookie = request.cookies.get(FLASH_COOKIE)
    flash = unquote(flash_cookie) if flash_cookie else None
    body = environment.get_template(template).render(
        request=request, actor=actor, locale=locale, locales=i18n.LOCALES, fmt=i18n.formatter_for(request, locale),
        csrf_token=csrf_token(request), flash=flash, current_path=_current_path(request), **context,
    )
    response = Response(body, status_code=status_code, media_type="text/html; charset=utf-8")
    set_csrf_cookie(request, response)
    if flash_cookie:
        response.delete_cookie(FLASH_COOKIE, path=UI_PREFIX)
    # Pages show personal data and must never be framed by another site.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    return response


def _current_path(request: Request) -> str:
    """Where "this page" is, for the language switch and sign-in: a page re-rendered after a POST (a refused
    form) lives at the URL the browser came from, not at the form's action."""
    if request.method != "GET":
        referer = urlsplit(request.headers.get("referer", ""))
        if referer.netloc == request.url.netloc:
            return safe_next(referer.path + (f"?{referer.query}" if referer.query else ""))
        return safe_next(None)
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def translate(request: Request, message: str, **values: Any) -> str:
    """A message in the request's language, outside a template (flash messages)."""
    i18n.activate(i18n.negotiate(request))
    text = i18n.gettext_(message)
    return text % values if values else text


def redirect(request: Request, url: str, *, flash: str | None = None) -> RedirectResponse:
    """See-other redirect after a POST, optionally carrying one short message to the next page."""
    response = RedirectResponse(url, status_code=303)
    if flash:
        response.set_cookie(FLASH_COOKIE, quote(flash[:300]), path=UI_PREFIX, max_age=60, httponly=True,
                            samesite="strict", secure=is_https(request))
    return response


ERROR_TITLES = [
    (NotFound, 404, i18n.N_("Not found")),
    (Forbidden, 403, i18n.N_("Not allowed")),
    (Conflict, 409, i18n.N_("Changed meanwhile")),
    (InvalidInput, 400, i18n.N_("Cannot do that")),
    (Unavailable, 503, i18n.N_("Temporarily unavailable")),
]


class PageRoute(APIRoute):
    """Routes of the pages: a missing session sends the browser to sign in; domain errors become pages."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page_handler(request: Request) -> Response:
            i18n.activate(i18n.negotiate(request))  # copied into the thread that runs a sync endpoint
            try:
                return await handler(request)
            except NotAuthenticated:
                if request.url.path.endswith(".json"):
                    return JSONResponse({"detail": "sign in"}, status_code=401)
                target = quote(_current_path(request), safe="") if request.method == "GET" else ""
                return RedirectResponse(f"{UI_PREFIX}/login" + (f"?next={target}" if target else ""),
                                        status_code=303)
            except VoronkaError as exc:
                status, title = 400, i18n.N_("Cannot do that")
                for cls, code, text in ERROR_TITLES:
                    if isinstance(exc, cls):
                        status, title = code, text
                        break
                headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, Unavailable) else None
                if request.url.path.endswith(".json"):
                    return JSONResponse({"detail": exc.detail}, status_code=status, headers=headers)
                page = render(request, "error.html", status_code=status, title=title, detail=exc.detail,
                              actor=getattr(request.state, "actor", None))
                page.headers.update(headers or {})
                return page
            finally:
                await request.close()  # forms parsed by our dependencies hold spooled upload files

        return page_handler
