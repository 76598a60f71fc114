from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import Schema


class JobOut(Schema):
    id: str
    kind: str
    state: str
    instance_id: str | None
    definition_id: str | None
    element_id: str
    due_at: datetime | None
    topic: str | None
    lock_owner: str | None
    lock_expires_at: datetime | None
    retries: int | None
    error_message: str | None
    created_at: datetime


class JobRetryIn(Schema):
    retries: int = Field(default=1, ge=1, le=100)


class IncidentListOut(Schema):
    id: str
    instance_id: str
    definition_key: str
    business_key: str | None
    element_id: str | None
    job_id: str | None
    kind: str
    message: str
    created_at: datetime
    resolved_at: datetime | None
