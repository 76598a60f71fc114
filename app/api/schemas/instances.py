from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from app.api.schemas.common import Schema
from app.api.schemas.tasks import TaskOut


class StartInstance(Schema):
    definition_key: str | None = Field(default=None, description="Start the latest version of this key.")
    definition_id: str | None = Field(default=None, description="Start exactly this definition version.")
    business_key: str | None = Field(default=None, max_length=255)
    variables: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_definition(self) -> StartInstance:
        if not (self.definition_key or self.definition_id):
            raise ValueError("give definition_key or definition_id")
        return self


class IncidentOut(Schema):
    id: str
    element_id: str | None
    kind: str
    message: str
    created_at: datetime


class InstanceOut(Schema):
    id: str
    definition_id: str
    definition_key: str
    definition_version: int
    business_key: str | None
    status: str
    funnel_stage: str | None
    outcome: str | None
    started_by: str | None
    started_at: datetime
    ended_at: datetime | None
    variables: dict[str, Any]
    tasks: list[TaskOut]
    incidents: list[IncidentOut]


class Terminate(Schema):
    reason: str | None = Field(default=None, max_length=1000)


class HistoryEventOut(Schema):
    id: int
    kind: str
    at: datetime
    actor: str | None
    task_id: str | None
    element_id: str | None
    element_name: str | None
    element_type: str | None
    funnel_stage: str | None
    data: dict[str, Any]
