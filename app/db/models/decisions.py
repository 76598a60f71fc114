"""DMN decision definitions: one row per version of a decision key, like process definitions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, new_id, utcnow


class DecisionDefinition(Base):
    __tablename__ = "decision_definition"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_decision_definition_key_version"),
        Index("ix_decision_definition_key_sha256", "key", "sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    # sha256 of the decision's table and requirements as parsed: an identical re-deploy makes no new version.
    sha256: Mapped[str] = mapped_column(String(64))
    # {"table": ..., "requirements": {key: table}} (app.engine.dmn.ParsedDecision.stored)
    tables: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
