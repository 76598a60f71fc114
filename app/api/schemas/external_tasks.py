from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema, StoredJson


class TopicIn(Schema):
    topic: str = Field(min_length=1, max_length=255)
    lock_duration: int = Field(gt=0, description="Lock duration in milliseconds (as Camunda).")
    variables: list[str] | None = Field(default=None, description="Variables to return; omitted: all.")
    business_key: str | None = None
    definition_key: str | None = None


class FetchAndLockIn(Schema):
    worker_id: str = Field(min_length=1, max_length=255)
    max_tasks: int = Field(default=1, ge=1, le=500)
    async_response_timeout: int = Field(default=0, ge=0, le=300_000,
                                        description="Long polling: wait up to this many milliseconds for a task.")
    topics: list[TopicIn] = Field(min_length=1)


class ExternalTaskOut(Schema):
    id: str
    topic: str
    worker_id: str | None
    lock_expires_at: datetime | None
    instance_id: str
    definition_id: str
    definition_key: str
    business_key: str | None
    element_id: str
    task_id: str | None
    retries: int | None
    error_message: str | None
    priority: int
    created_at: datetime
    state: str
    variables: StoredJson


class WorkerIn(Schema):
    worker_id: str = Field(min_length=1, max_length=255)


class CompleteIn(WorkerIn):
    variables: dict[str, Any] = Field(default_factory=dict)


class FailureIn(WorkerIn):
    error_message: str | None = Field(default=None, max_length=4000)
    error_details: str | None = Field(default=None, max_length=16000)
    retries: int | None = Field(default=None, ge=0,
                                description="Retries left; 0 creates an incident. Omitted: one fewer than now.")
    retry_timeout: int = Field(default=0, ge=0, description="Milliseconds before the task may be fetched again.")


class BpmnErrorIn(WorkerIn):
    error_code: str = Field(min_length=1, max_length=255)
    error_message: str | None = Field(default=None, max_length=4000)
    variables: dict[str, Any] = Field(default_factory=dict)


class BpmnErrorOut(Schema):
    caught: bool = Field(description="False: no boundary error event caught it; the instance has an incident.")
    incident_id: str | None = None


class ExtendLockIn(WorkerIn):
    new_duration: int = Field(gt=0, description="The lock ends this many milliseconds from now.")


class LockOut(Schema):
    lock_expires_at: datetime


class RetriesIn(Schema):
    retries: int = Field(ge=0)


class ErrorDetailsOut(Schema):
    error_details: str | None
