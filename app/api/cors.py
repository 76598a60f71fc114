"""CORS as Camunda Modeler needs it, without lending the session to pages of no origin.

The desktop Modeler sends `Origin: null` with Basic or bearer headers, never our cookie; a sandboxed iframe or a
local file sends `Origin: null` too, and must not read answers made with a user's cookie. So for `null` the
CORS headers stay but `Access-Control-Allow-Credentials` is dropped: the browser then neither sends the cookie
with such a request nor lets the page read an answer that used one.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class NoCredentialsForNullOrigin:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or Headers(scope=scope).get("origin") != "null":
            await self.app(scope, receive, send)
            return

        async def without_credentials(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                if "access-control-allow-credentials" in headers:
                    del headers["access-control-allow-credentials"]
            await send(message)

        await self.app(scope, receive, without_credentials)
