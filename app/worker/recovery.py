"""Periodic housekeeping: jobs of dead workers become ready again, expired buffered messages go."""

from __future__ import annotations

import logging

from app.services import jobs, messages
from app.services.context import AppContext

log = logging.getLogger(__name__)


def recover(ctx: AppContext) -> tuple[int, int]:
    released = jobs.release_expired_locks(ctx)
    purged = messages.purge_expired_buffered(ctx)
    if released:
        log.warning("released %d timer job(s) whose worker stopped before finishing", released)
    if purged:
        log.info("dropped %d buffered message(s) nobody received in time", purged)
    return released, purged
