"""CSRF protection for the cookie-authenticated forms, and small cookie/redirect helpers.

Double-submit token: a random value in an HTTP-only, SameSite=Strict cookie, repeated by every POST form in a hidden
field (or by scripts in the `X-CSRF-Token` header). Another site can make the browser send the cookie but can read
neither it nor our pages, so it cannot repeat the value. A cross-origin `Origin` header is refused outright.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response

from app.auth.sessions import is_https
from app.errors import Forbidden

CSRF_COOKIE = "voronka_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UI_PREFIX = "/ui"
ONE_YEAR = 365 * 24 * 3600


def csrf_token(request: Request) -> str:
    """The token forms on this page must repeat: the cookie's, or a new one that `set_csrf_cookie` will store."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token
    new = getattr(request.state, "new_csrf_token", None)
    if new is None:
        new = secrets.token_urlsafe(32)
        request.state.new_csrf_token = new
    return new


def set_csrf_cookie(request: Request, response: Response) -> None:
    new = getattr(request.state, "new_csrf_token", None)
    if new is not None:
        response.set_cookie(CSRF_COOKIE, new, max_age=ONE_YEAR, path=UI_PREFIX, httponly=True,
                            samesite="strict", secure=is_https(request))


def check_csrf(request: Request, submitted: str | None) -> None:
    """Refuse a state-changing request that does not come from one of our own pages."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        parts = urlsplit(origin)
        if (parts.scheme, parts.netloc) != (request.url.scheme, request.url.netloc):
            raise Forbidden("cross-site request refused")
    expected = request.cookies.get(CSRF_COOKIE)
    given = submitted or request.headers.get(CSRF_HEADER)
    if not expected or not given or not secrets.compare_digest(expected.encode(), given.encode()):
        raise Forbidden("the form has expired or did not come from this site: reload the page and try again")


def safe_next(target: str | None, default: str = f"{UI_PREFIX}/inbox") -> str:
    """Only local UI paths, so `?next=` cannot send a user to another site."""
    if not target or not target.startswith(UI_PREFIX) or target.startswith("//") or "\\" in target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target
