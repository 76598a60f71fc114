"""The request a piece of code runs for: its id, route and user, for every log line it causes.

The middleware puts one mutable `RequestInfo` in a context variable; Starlette copies the context into the
threads that run sync endpoints, so the same object is seen (and filled in, e.g. the user by authentication)
everywhere the request goes: services, the engine, SQL error logs.
"""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar
from dataclasses import dataclass

REQUEST_ID_HEADER = "X-Request-ID"
_ACCEPTED_ID = re.compile(r"^[A-Za-z0-9._:/+=@-]{1,128}$")


@dataclass
class RequestInfo:
    request_id: str
    method: str
    path: str
    route: str | None = None
    user: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("voronka_request", default=None)


def current_request() -> RequestInfo | None:
    return _current.get()


def set_current_request(info: RequestInfo | None):  # type: ignore[no-untyped-def]
    return _current.set(info)


def reset_current_request(token) -> None:  # type: ignore[no-untyped-def]
    _current.reset(token)


def request_id_from(header: str | None) -> str:
    """The caller's id when it is a sane token (a proxy's or client's trace id), else a new one."""
    if header and _ACCEPTED_ID.match(header):
        return header
    return secrets.token_hex(8)


def note_user(username: str) -> None:
    info = _current.get()
    if info is not None:
        info.user = username
