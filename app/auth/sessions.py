"""UI sessions: a signed, HTTP-only cookie naming the signed-in user.

STAND-IN written by the `ui` branch until the identity branch (`auth`) lands its own version of this module; only
`issue_session(response, actor, settings)`, `clear_session(response)` and reading the cookie inside
`app.api.deps.current_actor` are relied on by the pages. Prefer auth's version when merging.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import jwt
from starlette.requests import Request
from starlette.responses import Response

from app.auth.actor import Actor
from app.settings import Settings

SESSION_COOKIE = "voronka_session"
_ALGORITHM = "HS256"
_PROCESS_SECRET = secrets.token_urlsafe(48)  # without VORONKA_SECRET_KEY sessions end with the process


def _secret(settings: Settings) -> str:
    return settings.secret_key or _PROCESS_SECRET


def issue_session(response: Response, actor: Actor, settings: Settings) -> None:
    lifetime = timedelta(minutes=settings.token_minutes)
    now = datetime.now(UTC)
    token = jwt.encode({"sub": actor.username, "groups": sorted(actor.groups), "iat": now, "exp": now + lifetime},
                       _secret(settings), algorithm=_ALGORITHM)
    response.set_cookie(SESSION_COOKIE, token, max_age=int(lifetime.total_seconds()), path="/", httponly=True,
                        secure=True, samesite="lax")


def clear_session(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, secure=True, samesite="lax")


def read_session(request: Request, settings: Settings) -> Actor | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        claims = jwt.decode(token, _secret(settings), algorithms=[_ALGORITHM], options={"require": ["sub", "exp"]})
    except jwt.InvalidTokenError:
        return None
    return Actor(str(claims["sub"]), frozenset(claims.get("groups") or []))
