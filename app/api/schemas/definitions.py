from __future__ import annotations

from datetime import datetime
from typing import Any

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


class DeploymentOut(Schema):
    id: str
    name: str
    source: str | None
    created_at: datetime
    created: bool
    definitions: list[DefinitionOut]
