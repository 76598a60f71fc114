"""Lead imports, web-form leads and their API keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema


class ImportPreviewOut(Schema):
    columns: list[str] = Field(description="The headers of the file's first row.")
    mapping: dict[str, str] = Field(description="Proposed mapping: column header -> start form field.")
    rows: list[dict[str, Any]] = Field(description="The first rows by header; `_row` is the row number.")
    total: int = Field(description="Data rows in the file (empty rows not counted).")
    fields: list[dict[str, Any]] = Field(description="The start form's fields a column may fill.")


class ImportOut(Schema):
    id: str
    state: str = Field(description="queued | running | completed | cancelled | failed")
    definition_key: str
    file_name: str
    total: int
    done: int = Field(description="Rows taken so far (imported + duplicates skipped or noted + failed).")
    imported: int = Field(description="Deals started.")
    duplicates: int = Field(description="Rows matching an existing deal or an earlier row (skipped, noted, or "
                                        "imported anyway as `on_duplicate` says).")
    failed: int = Field(description="Rows refused by validation; see errors.csv.")
    rate: float | None = Field(default=None, description="Rows per second.")
    eta_seconds: float | None = None
    error: str | None = None
    created_by: str
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    instance_ids: list[str] | None = Field(default=None, description="The deals started, in row order.")


class ImportCreated(Schema):
    id: str
    state: str
    total: int


class ApiKeyIn(Schema):
    name: str = Field(min_length=1, max_length=200, description="Where the leads come from (the site's name).")
    definition_key: str = Field(description="The process whose leads the key may start, and nothing else.")
    source: str | None = Field(default=None, description="The `source` value its leads get (e.g. `web_form`).")


class ApiKeyOut(Schema):
    id: str
    name: str
    prefix: str = Field(description="The key's first characters, to tell keys apart.")
    definition_key: str
    source: str | None
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="The secret: shown this once, stored only as a hash.")


class LeadAccepted(Schema):
    status: str = Field(description="`created` (a deal was started) or `duplicate` (it matched a deal; the lead "
                                    "was added to it as a note).")
    deal_id: str
    matched: str | None = Field(default=None, description="For duplicates: phone, email, inn or company.")
