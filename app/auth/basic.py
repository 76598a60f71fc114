"""HTTP Basic for tools that only speak it (Camunda Modeler, Camunda clients), with a short-lived cache of
verified credentials so argon2 does not run on every request."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
import time
from dataclasses import dataclass

from app.errors import NotAuthenticated


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """(user, password) from an `Authorization: Basic …` header (UTF-8), None for other schemes."""
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise NotAuthenticated("malformed Basic credentials") from None
    username, sep, password = decoded.partition(":")
    if not sep or not username:
        raise NotAuthenticated("malformed Basic credentials")
    return username, password


@dataclass(frozen=True)
class CachedLogin:
    username: str
    token_epoch: int
    expires: float


class CredentialCache:
    """Recently verified Basic credentials of this process, keyed by an HMAC under a per-process random key
    (so the cache never holds anything that could be brute-forced offline cheaply).

    An entry is only trusted together with the user row loaded on every request: it must still be active
    and have the token epoch seen when the password was verified. A password change or deactivation bumps
    the epoch, so stale entries stop matching at once in every process; the TTL bounds the rest."""

    def __init__(self, ttl: float = 60.0, size: int = 1024) -> None:
        self.ttl, self.size = ttl, size
        self._items: dict[bytes, CachedLogin] = {}
        self._lock = threading.Lock()
        self._key = os.urandom(32)

    def key(self, username: str, password: str) -> bytes:
        return hmac.new(self._key, f"{username}\0{password}".encode(), hashlib.sha256).digest()

    def get(self, key: bytes) -> CachedLogin | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item.expires < time.monotonic():
                self._items.pop(key, None)
                return None
            return item

    def put(self, key: bytes, username: str, token_epoch: int) -> None:
        if self.ttl <= 0:
            return
        with self._lock:
            if len(self._items) >= self.size:
                self._items.clear()
            self._items[key] = CachedLogin(username, token_epoch, time.monotonic() + self.ttl)

    def forget(self, key: bytes) -> None:
        with self._lock:
            self._items.pop(key, None)
