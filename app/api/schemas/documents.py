"""Documents on deals and tasks."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import Schema


class DocumentOut(Schema):
    id: str
    name: str = Field(description="The file name as uploaded, made safe (no path, no control characters).")
    size: int
    content_type: str = Field(description="Sniffed from the content, not taken from the name.")
    sha256: str
    instance_id: str
    task_id: str | None = None
    task_name: str | None = None
    field: str | None = Field(default=None, description="The task form's file field it was attached to.")
    funnel_stage: str | None = None
    uploaded_by: str
    uploaded_at: datetime
    deleted_at: datetime | None = None
    deleted_by: str | None = None
