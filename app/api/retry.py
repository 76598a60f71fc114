"""Run a request once more when its database connection dropped before anything was committed.

A killed PostgreSQL backend (failover, restart, pg_terminate_backend) breaks the transactions in flight. The
unit of work (`app/db/session.py`) turns that into a retryable 503 only when the request has committed nothing
yet (`app/db/attempts.py`); this middleware then discards that 503 and runs the request again with the same
body. A connection lost during COMMIT is never retried: the change may have been saved.
"""

from __future__ import annotations

import logging
from collections import deque

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.db import attempts

log = logging.getLogger(__name__)


class RetryLostConnection:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body: list[Message] = []

        async def recording_receive() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                body.append(message)
            return message

        original = dict(scope)  # routing writes into the scope; the outer middleware reads the route from it
        if await self._attempt(scope, recording_receive, send, may_retry=True):
            return
        log.warning("the database connection was lost before anything was committed: running %s %s again",
                    scope["method"], scope["path"])
        scope.clear()
        scope.update(original)
        replay = deque(body)

        async def replaying_receive() -> Message:
            return replay.popleft() if replay else await receive()

        await self._attempt(scope, replaying_receive, send, may_retry=False)

    async def _attempt(self, scope: Scope, receive: Receive, send: Send, *, may_retry: bool) -> bool:
        """Run the app; False when its answer was a retryable 503 that was held back (nothing was sent)."""
        discarding = False
        with attempts.attempt(may_retry=may_retry) as attempt:

            async def guarded_send(message: Message) -> None:
                nonlocal discarding
                if message["type"] == "http.response.start" and message["status"] == 503 and attempt.retry_wanted:
                    discarding = True
                if not discarding:
                    await send(message)

            await self.app(scope, receive, guarded_send)
        return not discarding
