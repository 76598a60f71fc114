"""Run one claimed job. Never raises: a failure is recorded on the job (retry with backoff, then an
incident), so one bad job never stops the loop."""

from __future__ import annotations

import logging
import traceback
from typing import Literal

from app.errors import Conflict, Unavailable
from app.services import jobs
from app.services.context import AppContext
from app.services.jobs import TIMER_KINDS, ClaimedJob

log = logging.getLogger(__name__)

Result = Literal["fired", "skipped", "conflict", "unavailable", "error"]


def handle(ctx: AppContext, job: ClaimedJob, *, owner: str) -> Result:
    try:
        if job.kind in TIMER_KINDS:
            return jobs.fire_timer_job(ctx, job_id=job.id, owner=owner)
        log.warning("job %s has kind %s, which the worker does not run; released", job.id, job.kind)
        jobs.release_jobs(ctx, job_ids=[job.id], owner=owner)
        return "skipped"
    except Conflict as exc:
        # A request changed the same instance at the same moment: nothing was written; try again soon.
        log.info("job %s lost a race (%s); released for another try", job.id, exc.detail)
        _quietly(lambda: jobs.release_jobs(ctx, job_ids=[job.id], owner=owner))
        return "conflict"
    except Unavailable as exc:
        # The database is away: not the job's fault, so no attempt is used up; its lock expires if it stays away.
        log.warning("job %s not run: %s", job.id, exc.detail)
        _quietly(lambda: jobs.release_jobs(ctx, job_ids=[job.id], owner=owner))
        return "unavailable"
    except Exception as exc:
        log.exception("job %s (%s) failed", job.id, job.kind)
        details = traceback.format_exc()
        error = f"{type(exc).__name__}: {exc}"
        _quietly(lambda: jobs.record_job_error(ctx, job_id=job.id, owner=owner, error=error, details=details))
        return "error"


def _quietly(action) -> None:  # type: ignore[no-untyped-def]
    """Bookkeeping after a failure may fail too (database down): the lock then expires and recovery helps."""
    try:
        action()
    except Exception:
        log.exception("could not record the outcome of a job")
