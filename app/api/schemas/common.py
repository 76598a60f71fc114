"""Shapes shared by every resource."""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.services.variables import readable


class Schema(BaseModel):
    model_config = ConfigDict(from_attributes=True)


T = TypeVar("T")
# Stored variables and event data on their way out: bounded in depth whatever the database holds.
StoredJson = Annotated[dict[str, Any], AfterValidator(readable)]


class Page(Schema, Generic[T]):
    items: list[T]
    total: int = Field(description="How many rows match, regardless of limit/offset.")
