"""Who is asking, before a state-changing request to the API faces is read (security.md).

For POST/PUT/PATCH/DELETE under /api/v1 and /engine-rest (but the sign-in and sign-out endpoints):
- credentials are checked from the headers before one byte of the body is read: a request without valid
  ones is a 401 however large its body (anonymous uploads cost nothing); the actor found is handed to the
  route (`current_actor`), so nothing is checked twice;
- the UI's session cookie is accepted for them only from our own pages: the `Origin` (else `Referer`) must be
  this server's, as the pages' own CSRF check demands; API clients send Basic or bearer headers, which another
  site cannot make a browser send.
Other failures (429 rate limit, 503) fall through to the route, which reports them in its dialect.
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from starlette.concurrency import run_in_threadpool
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send

from app.api.deps import PRE_AUTHENTICATED, authenticate_request
from app.auth.sessions import session_token
from app.errors import NotAuthenticated

GUARDED_PREFIXES = ("/api/v1/", "/engine-rest/")
# Web-form leads carry no user: the route checks their X-Api-Key (the JSON body limit bounds what is read first).
OPEN_PATHS = ("/api/v1/auth/token", "/api/v1/auth/logout", "/api/v1/leads")
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
WWW_AUTHENTICATE = 'Basic realm="voronka", Bearer realm="voronka"'


class CredentialsFirst:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] != "http" or scope["method"] in SAFE_METHODS or not path.startswith(GUARDED_PREFIXES)
                or path.rstrip("/") in OPEN_PATHS):
            await self.app(scope, receive, send)
            return
        connection = HTTPConnection(scope)
        if "authorization" not in connection.headers and session_token(connection) and not _same_origin(connection):
            await _refuse(send, path, 403, "the session cookie is accepted for changes only from this server's "
                                           "own pages (cross-site request refused); API clients send Basic or "
                                           "bearer credentials")
            return
        try:
            actor = await run_in_threadpool(authenticate_request, connection, scope["app"].state.context)
        except NotAuthenticated as exc:
            await _refuse(send, path, 401, exc.detail)
            return
        except Exception:  # noqa: BLE001 - rate limit, outage: the route answers them in its own dialect
            actor = None
        if actor is not None:
            scope.setdefault("state", {})[PRE_AUTHENTICATED] = actor
        await self.app(scope, receive, send)


def _same_origin(connection: HTTPConnection) -> bool:
    source = connection.headers.get("origin") or connection.headers.get("referer")
    if not source or source == "null":
        return False
    parts = urlsplit(source)
    return (parts.scheme, parts.netloc) == (connection.url.scheme, connection.url.netloc)


async def _refuse(send: Send, path: str, status: int, detail: str) -> None:
    if path.startswith("/engine-rest/"):
        kind = "AuthenticationException" if status == 401 else "AuthorizationException"
        body, content_type = {"type": kind, "message": detail}, b"application/json"
    else:
        title = "Not authenticated" if status == 401 else "Forbidden"
        body, content_type = {"type": "about:blank", "title": title, "status": status, "detail": detail}, \
            b"application/problem+json"
    data = json.dumps(body).encode()
    headers = [(b"content-type", content_type), (b"content-length", str(len(data)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", WWW_AUTHENTICATE.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": data})
