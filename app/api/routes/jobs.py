from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.jobs import JobOut, JobRetryIn
from app.services import jobs

router = APIRouter(prefix="/jobs", tags=["jobs"])


@router.get("", response_model=Page[JobOut], summary="List jobs (admins)",
            description="Timers, start timers and external tasks; filter by `kind`, `state`, `instance_id`.")
def list_jobs(ctx: Context, actor: CurrentActor, kind: str | None = None, state: str | None = None,
              instance_id: str | None = None, limit: Limit = 50, offset: Offset = 0) -> Page[JobOut]:
    rows, total = jobs.list_jobs(ctx, actor=actor, kind=kind, state=state, instance_id=instance_id, limit=limit,
                                 offset=offset)
    return Page[JobOut](items=[JobOut.model_validate(r) for r in rows], total=total)


@router.get("/{job_id}", response_model=JobOut, summary="Get a job (admins)")
def get_job(ctx: Context, actor: CurrentActor, job_id: str) -> JobOut:
    return JobOut.model_validate(jobs.get_job(ctx, actor=actor, job_id=job_id))


@router.post("/{job_id}/retry", response_model=JobOut, summary="Retry a failed job (admins)",
             description="Give a failed job `retries` more attempts; its incident is resolved.")
def retry_job(ctx: Context, actor: CurrentActor, job_id: str, body: JobRetryIn | None = None) -> JobOut:
    return JobOut.model_validate(jobs.retry_job(ctx, actor=actor, job_id=job_id,
                                                retries=body.retries if body else 1))
