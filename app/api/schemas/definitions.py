from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from app.api.schemas.common import Schema


class DefinitionOut(Schema):
    id: str
    key: str
    version: int
    name: str
    deployment_id: str
    sha256: str
    created_at: datetime
    start_form: list[dict[str, Any]]
    candidate_starter_groups: list[str]
    state: str = Field(description="approved (new deals start on the newest approved version), draft (awaits the "
                                   "head of sales' approval) or rejected.")
    deployed_by: str | None = Field(default=None, description="Who deployed the version (on the versions list).")
    decided_by: str | None = Field(default=None, description="Who approved or rejected the version.")
    decided_at: datetime | None = None
    decision_comment: str | None = None


class DeploymentOut(Schema):
    id: str
    name: str
    source: str | None
    created_at: datetime
    created: bool
    definitions: list[DefinitionOut]
