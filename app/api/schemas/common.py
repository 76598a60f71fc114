"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")


class Page(Schema, Generic[T]):
    items: list[T]
    total: int = Field(description="How many rows match, regardless of limit/offset.")


class Variables(Schema):
    variables: dict[str, Any] = Field(default_factory=dict, description="JSON process variables.")
