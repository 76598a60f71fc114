"""FastAPI dependencies as Annotated aliases: the context, the current actor, paging."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyCookie, HTTPBasic, OAuth2PasswordBearer
from starlette.requests import HTTPConnection

from app.auth.actor import Actor
from app.auth.basic import CredentialCache, basic_credentials
from app.auth.sessions import SESSION_COOKIE, session_token
from app.auth.tokens import read_token
from app.errors import NotAuthenticated
from app.observability.context import note_user
from app.services.context import AppContext
from app.services.logins import ensure_signing_secret, load_actor, login_with_password

TOKEN_URL = "/api/v1/auth/token"
PRE_AUTHENTICATED = "voronka_actor"  # request.state key: the actor app.api.gate found before the body was read
__all__ = ["Context", "CredentialCache", "CurrentActor", "Limit", "Offset", "OptionalActor", "client_address"]


def get_context(request: Request) -> AppContext:
    return request.app.state.context


Context = Annotated[AppContext, Depends(get_context)]


class _DocumentedBasic(HTTPBasic):
    """Declares HTTP Basic in the OpenAPI document; `basic_credentials` does the parsing (UTF-8, not ASCII)."""

    async def __call__(self, request: Request) -> None:  # type: ignore[override]
        return None


# These three only describe the schemes to /docs ("Authorize"); current_actor reads the request itself.
_bearer_scheme = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False, scheme_name="bearer")
_basic_scheme = _DocumentedBasic(auto_error=False, scheme_name="basic", realm="voronka")
_cookie_scheme = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, scheme_name="session")
_fallback_cache = CredentialCache()


def client_address(request: HTTPConnection) -> str:
    return request.client.host if request.client else "unknown"


def authenticate_request(request: HTTPConnection, ctx: AppContext) -> Actor:
    actor = _authenticate(request, ctx)
    note_user(actor.username)  # for the access log and every log line of this request
    return actor


def _authenticate(request: HTTPConnection, ctx: AppContext) -> Actor:
    """The actor behind a request: `Authorization: Bearer`, `Authorization: Basic`, else the session cookie.
    The user is loaded from the database every time (groups may have changed; deactivated users and revoked
    tokens are refused at once)."""
    header = request.headers.get("authorization")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            return _actor_from_token(ctx, value.strip())
        credentials = basic_credentials(header)
        if credentials is None:
            raise NotAuthenticated("unsupported authorization scheme: use Basic or Bearer")
        return _actor_from_basic(request, ctx, *credentials)
    token = session_token(request)
    if token:
        return _actor_from_token(ctx, token)
    raise NotAuthenticated("sign in: send HTTP Basic credentials, a bearer token or the session cookie")


def _actor_from_token(ctx: AppContext, token: str) -> Actor:
    claims = read_token(token, secret=ensure_signing_secret(ctx))
    actor = load_actor(ctx, username=claims.username)
    if actor is None or actor.token_epoch != claims.epoch:
        raise NotAuthenticated("the token is no longer valid: sign in again")
    return actor


def _actor_from_basic(request: HTTPConnection, ctx: AppContext, username: str, password: str) -> Actor:
    cache: CredentialCache = getattr(request.app.state, "credential_cache", _fallback_cache)
    key = cache.key(username, password)
    cached = cache.get(key)
    if cached is not None:
        actor = load_actor(ctx, username=username)
        if actor is not None and actor.token_epoch == cached.token_epoch:
            return actor
        cache.forget(key)  # password changed, deactivated or signed out since: verify again
    actor = login_with_password(ctx, username=username, password=password, address=client_address(request))
    cache.put(key, actor.username, actor.token_epoch)
    return actor


def current_actor(
    request: Request, ctx: Context,
    _bearer: Annotated[str | None, Security(_bearer_scheme)],
    _basic: Annotated[None, Security(_basic_scheme)],
    _cookie: Annotated[str | None, Security(_cookie_scheme)],
) -> Actor:
    found = getattr(request.state, PRE_AUTHENTICATED, None)
    if found is None:
        return authenticate_request(request, ctx)
    note_user(found.username)  # the gate ran in a worker thread: note the user in this request's context
    return found


def optional_actor(request: Request, ctx: Context) -> Actor | None:
    """The actor when the request is authenticated, else None (logout, pages that greet anonymous users)."""
    try:
        return authenticate_request(request, ctx)
    except NotAuthenticated:
        return None


CurrentActor = Annotated[Actor, Depends(current_actor)]
OptionalActor = Annotated[Actor | None, Depends(optional_actor)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
# Past this no list has rows, and SQLite cannot take 2**63 (it was a 500).
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
