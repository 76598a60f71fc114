"""Deployments and the process definitions (one row per version of a process key)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, OrderedJson, new_id, utcnow


class DefinitionState(enum.StrEnum):
    """A version's standing in the regulation: new deals start on the newest approved version."""

    APPROVED = "approved"
    DRAFT = "draft"  # deployed while its key requires approval: waits for the head of sales
    REJECTED = "rejected"


class Deployment(Base):
    __tablename__ = "deployment"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str | None] = mapped_column(String(255))

    definitions: Mapped[list[ProcessDefinition]] = relationship(back_populates="deployment")


class ProcessDefinition(Base):
    __tablename__ = "process_definition"
    __table_args__ = (
        UniqueConstraint("key", "version", name="uq_process_definition_key_version"),
        Index("ix_process_definition_key_sha256", "key", "sha256"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    key: Mapped[str] = mapped_column(String(255), index=True)
    version: Mapped[int]
    name: Mapped[str] = mapped_column(String(255))
    deployment_id: Mapped[str] = mapped_column(ForeignKey("deployment.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    xml: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # The parsed spec (SpiffWorkflow's own serialization), stored once per version.
    spec: Mapped[dict[str, Any]] = mapped_column(OrderedJson)
    # What the API shows without loading the spec: start form, starter groups, user task metadata.
    start_form: Mapped[list[Any]]
    candidate_starter_groups: Mapped[list[Any]]
    candidate_starter_users: Mapped[list[Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    state: Mapped[str] = mapped_column(String(16), default=DefinitionState.APPROVED,
                                       server_default=DefinitionState.APPROVED.value)
    # Who approved or rejected the version, when and why (None for versions approved at deploy).
    decided_by: Mapped[str | None] = mapped_column(String(255))
    decided_at: Mapped[datetime | None]
    decision_comment: Mapped[str | None] = mapped_column(Text)

    deployment: Mapped[Deployment] = relationship(back_populates="definitions")


class ProcessSetting(Base):
    """Per process key: whether a new version needs the head of sales' approval before deals start on it.
    No row means the default (on for the bundled sales models, off for every other key)."""

    __tablename__ = "process_setting"

    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    requires_approval: Mapped[bool]
    updated_by: Mapped[str | None] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
