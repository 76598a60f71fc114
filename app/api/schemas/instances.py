from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, model_validator

from app.api.schemas.common import Schema, StoredJson
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
    variables: StoredJson
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
    data: StoredJson


class BatchStartItem(Schema):
    business_key: Any = Field(default=None, description="Text of at most 255 characters, or null.",
                              json_schema_extra={"type": "string", "maxLength": 255, "nullable": True})
    variables: Any = Field(default_factory=dict, description="A JSON object of variables.",
                           json_schema_extra={"type": "object"})


class BatchStart(Schema):
    definition_key: str | None = Field(default=None, description="Start the latest version of this key.")
    definition_id: str | None = Field(default=None, description="Start exactly this definition version.")
    unique_business_key: bool = Field(
        default=False, description="Idempotent on the business key: an item whose key an instance of this "
                                   "process already carries (any version or status) is not started again; its "
                                   "result is `existing` with that instance's id. Every item then needs a key.")
    items: list[BatchStartItem] = Field(min_length=1, max_length=1000)

    @model_validator(mode="after")
    def _one_definition(self) -> BatchStart:
        if not (self.definition_key or self.definition_id):
            raise ValueError("give definition_key or definition_id")
        return self


class BatchItemError(Schema):
    status: int
    title: str
    detail: str
    errors: list[dict[str, Any]] = Field(default_factory=list)


class BatchStartResult(Schema):
    index: int = Field(description="Position of the item in the request.")
    business_key: Any = None
    status: str = Field(description="`started`, `existing` (not started again) or `failed`.")
    instance_id: str | None = None
    instance_status: str | None = Field(default=None, description="The new instance's status after its first "
                                                                   "steps (`failed` when it stopped at an incident).")
    error: BatchItemError | None = Field(default=None, description="Why the item failed, as problem details.")


class BatchStartOut(Schema):
    items: list[BatchStartResult]
    started: int
    existing: int
    failed: int
