"""FastAPI dependencies as Annotated aliases: the context, the current actor, paging."""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
import time
from typing import Annotated

from fastapi import Depends, Query, Request

from app.auth.actor import Actor
from app.auth.sessions import read_session
from app.errors import NotAuthenticated
from app.services.context import AppContext
from app.services.identity import authenticate


def get_context(request: Request) -> AppContext:
    return request.app.state.context


Context = Annotated[AppContext, Depends(get_context)]


class CredentialCache:
    """Argon2 is deliberately slow; remember recently verified Basic credentials for a short while."""

    def __init__(self, ttl: float = 60.0, size: int = 1024) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def key(self, username: str, password: str) -> str:
        return hashlib.sha256(f"{username}\0{password}".encode()).hexdigest()

    def get(self, key: str) -> Actor | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                self._items.pop(key, None)
                return None
            return item[1]

    def put(self, key: str, actor: Actor) -> None:
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = (time.monotonic() + self.ttl, actor)


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("malformed Basic credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep:
        raise NotAuthenticated("malformed Basic credentials")
    return username, password


def current_actor(request: Request, ctx: Context) -> Actor:
    credentials = basic_credentials(request.headers.get("authorization"))
    if credentials is None:
        session_actor = read_session(request, ctx.settings)
        if session_actor is not None:
            return session_actor
        raise NotAuthenticated("sign in: send HTTP Basic credentials or a bearer token")
    cache: CredentialCache = request.app.state.credential_cache
    key = cache.key(*credentials)
    actor = cache.get(key)
    if actor is None:
        actor = authenticate(ctx, username=credentials[0], password=credentials[1])
        if actor is None:
            raise NotAuthenticated("wrong user name or password")
        cache.put(key, actor)
    return actor


CurrentActor = Annotated[Actor, Depends(current_actor)]
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, description="Rows to skip.")]
