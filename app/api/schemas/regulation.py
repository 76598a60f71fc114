"""Regulation changes: approval of versions, the diff between versions, and migrations of running instances."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, model_validator

from app.api.schemas.common import Schema


class Decision(Schema):
    comment: str | None = Field(default=None, max_length=2000, description="Why (shown in the version's history).")


class ProcessSettingsIn(Schema):
    requires_approval: bool = Field(description="New versions of this key are drafts until the head of sales "
                                                "approves them.")


class ProcessSettingsOut(ProcessSettingsIn):
    key: str


class ElementChangeOut(Schema):
    element_id: str
    name: str | None
    type: str = Field(description="The element's kind as the engine names it (UserTask, ExclusiveGateway, ...).")
    fields: list[str] = Field(default_factory=list, description="What changed: name, lane, candidate_groups, "
                              "candidate_users, assignee, due_date, priority, form, topic, stage, work_kind, "
                              "outcome, properties, conditions, timer, event, script, called_process, "
                              "interrupting, multi_instance, documentation, type.")
    values: dict[str, dict[str, Any]] = Field(default_factory=dict,
                                              description="For each changed field: {\"from\": old, \"to\": new}.")


class DiffOut(Schema):
    key: str
    from_version: int
    to_version: int
    from_definition_id: str
    to_definition_id: str
    added: list[ElementChangeOut]
    removed: list[ElementChangeOut]
    changed: list[ElementChangeOut]


class Instruction(Schema):
    source: str = Field(min_length=1, max_length=255, description="Element id in the source version.")
    target: str = Field(min_length=1, max_length=255, description="Element id in the target version.")


class PlanIn(Schema):
    source_definition_id: str = Field(min_length=1, max_length=64)
    target_definition_id: str = Field(min_length=1, max_length=64)
    instructions: list[Instruction] | None = Field(
        default=None, max_length=10000,
        description="Mappings to add or replace (renamed elements); same ids map to each other anyway.")


class PlanOut(Schema):
    source_definition_id: str
    target_definition_id: str
    instructions: list[Instruction]
    unmapped: list[str] = Field(default_factory=list,
                                description="Source elements without a counterpart: an instance waiting in one of "
                                            "them cannot migrate until a mapping names its target.")


class InstanceFilter(Schema):
    business_key_like: str | None = Field(default=None, max_length=255,
                                          description="Business keys matching this pattern (`%` or `*` as "
                                                      "wildcards); without it, every running instance of the "
                                                      "plan's source version.")


class MigrationRequest(Schema):
    plan: PlanIn
    instance_ids: list[str] | None = Field(default=None, max_length=100000)
    filter: InstanceFilter | None = None

    @model_validator(mode="after")
    def _one_selection(self) -> MigrationRequest:
        if self.instance_ids is not None and self.filter is not None:
            raise ValueError("give either instance_ids or filter, not both")
        return self


class ProblemOut(Schema):
    message: str
    element_id: str | None = None


class InstanceCheckOut(Schema):
    instance_id: str
    business_key: str | None
    valid: bool
    problems: list[ProblemOut]


class ValidationOut(Schema):
    plan_problems: list[ProblemOut]
    instances: list[InstanceCheckOut]
    valid: int
    invalid: int


class BatchCreated(Schema):
    id: str


class FailureOut(Schema):
    instance_id: str
    reason: str | None


class BatchOut(Schema):
    id: str
    state: Literal["running", "completed"]
    source_definition_id: str
    target_definition_id: str
    total: int
    done: int = Field(description="Instances migrated.")
    failed: int = Field(description="Instances left on the source version, with their reasons in `failures`.")
    remaining: int
    created_by: str | None
    created_at: datetime
    finished_at: datetime | None
    failures: list[FailureOut]
