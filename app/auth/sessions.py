"""The UI's session cookie: an access token in an HTTP-only, SameSite=Lax cookie that expires with it.

The UI's login route calls `issue_session` after `services.logins.login_with_password`; logout calls
`clear_session` (and `services.logins.revoke_tokens`). `current_actor` reads the cookie when a request carries
no Authorization header."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import HTTPConnection
from starlette.responses import Response

from app.auth.actor import Actor
from app.auth.tokens import IssuedToken, issue_token
from app.services.context import AppContext
from app.services.logins import ensure_signing_secret

SESSION_COOKIE = "voronka_session"
COOKIE_PATH = "/"


def token_lifetime(ctx: AppContext) -> timedelta:
    return timedelta(minutes=ctx.settings.token_minutes)


def issue_access_token(ctx: AppContext, actor: Actor) -> IssuedToken:
    return issue_token(username=actor.username, epoch=actor.token_epoch, secret=ensure_signing_secret(ctx),
                       lifetime=token_lifetime(ctx))


def is_https(request: HTTPConnection) -> bool:
    # uvicorn's proxy_headers already turned X-Forwarded-Proto from a trusted proxy into the scheme.
    return request.url.scheme in ("https", "wss")


def issue_session(response: Response, ctx: AppContext, actor: Actor, *, secure: bool) -> IssuedToken:
    """Sign `actor` in on this browser: set the cookie (pass `secure=is_https(request)`)."""
    issued = issue_access_token(ctx, actor)
    response.set_cookie(SESSION_COOKIE, issued.token, max_age=issued.lifetime_seconds, expires=issued.expires_at,
                        path=COOKIE_PATH, secure=secure, httponly=True, samesite="lax")
    return issued


def clear_session(response: Response, *, secure: bool = False) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, secure=secure, httponly=True, samesite="lax")


def session_token(request: HTTPConnection) -> str | None:
    return request.cookies.get(SESSION_COOKIE) or None
