from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema


class DecisionOut(Schema):
    id: str
    key: str
    version: int
    name: str
    deployment_id: str
    filename: str
    created_at: datetime


class EvaluateDecision(Schema):
    variables: dict[str, Any] = Field(default_factory=dict, description="The decision's inputs, as JSON values.")
    version: int | None = Field(default=None, description="A version to evaluate; the latest when left out.")


class MatchedRule(Schema):
    id: str
    row: int
    description: str | None = None


class DecisionResultOut(Schema):
    decision_id: str
    key: str
    version: int
    inputs: dict[str, Any] = Field(description="Each input column's label and the value it saw.")
    matched_rules: list[MatchedRule] = Field(description="The rules the hit policy kept, in its order.")
    results: list[dict[str, Any]] = Field(description="One entry per kept rule: output name -> value (one "
                                                      "entry in all for a COLLECT aggregation).")
