from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema, StoredJson


class FormField(Schema):
    id: str
    label: str | None = None
    type: str | None = "string"
    default: Any = None
    required: bool = False
    readonly: bool = False
    min: float | None = None
    max: float | None = None
    minlength: int | None = None
    maxlength: int | None = None
    options: list[dict[str, Any]] | None = None


class TaskOut(Schema):
    id: str
    instance_id: str
    definition_key: str
    business_key: str | None
    element_id: str
    name: str
    lane: str | None
    documentation: str | None
    candidate_groups: list[str]
    candidate_users: list[str]
    assignee: str | None
    state: str
    form: list[FormField]
    properties: dict[str, Any]
    funnel_stage: str | None
    work_kind: str | None
    due_at: datetime | None
    priority: int
    created_at: datetime
    claimed_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None


class TaskDetailOut(TaskOut):
    data: StoredJson = Field(description="The instance's current variables.")


class Complete(Schema):
    variables: dict[str, Any] = Field(default_factory=dict, description="Values for the task's form fields.")


class Assign(Schema):
    assignee: str | None = Field(description="User name, or null to return the task to its groups.")


class TaskCountsOut(Schema):
    mine: int = Field(description="Open tasks assigned to me.")
    groups: int = Field(description="Open unassigned tasks for my groups (or me by name).")
    inbox: int = Field(description="mine + groups.")
    overdue: int = Field(description="Inbox tasks past their due date.")
