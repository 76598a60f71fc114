"""Process instances: the serialized engine state (without the spec) and what queries need."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, OrderedJson, new_id, utcnow
from app.db.models.definitions import ProcessDefinition


class InstanceStatus(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    TERMINATED = "terminated"
    FAILED = "failed"


class ProcessInstance(Base):
    __tablename__ = "process_instance"
    __table_args__ = (
        Index("ix_process_instance_key_status", "definition_key", "status"),
        Index("ix_process_instance_started_at", "started_at"),
        Index("ix_process_instance_key_started", "definition_key", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id"), index=True)
    definition_key: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(16), default=InstanceStatus.RUNNING)
    # SpiffWorkflow state without the spec, and the top-level data for reading without the engine.
    state: Mapped[dict[str, Any]] = mapped_column(OrderedJson)
    variables: Mapped[dict[str, Any]]
    # Optimistic lock: every write is `UPDATE ... WHERE revision = :seen`.
    revision: Mapped[int] = mapped_column(default=1)
    funnel_stage: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str | None] = mapped_column(String(32))
    # Copied from the variables when they appear, so the funnel filters and groups without reading JSON.
    source: Mapped[str | None] = mapped_column(String(64))
    segment: Mapped[str | None] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(64))
    lost_reason: Mapped[str | None] = mapped_column(String(500))
    started_by: Mapped[str | None] = mapped_column(String(255))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    # The definition version the instance started on, when a migration moved it to another one.
    migrated_from_id: Mapped[str | None] = mapped_column(String(36))

    definition: Mapped[ProcessDefinition] = relationship()
    incidents: Mapped[list[Incident]] = relationship(
        back_populates="instance", order_by="Incident.created_at", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": revision}


class Incident(Base):
    """Why an instance cannot move on: a failed expression or script, or a job out of retries."""

    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    element_id: Mapped[str | None] = mapped_column(String(255))
    job_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]

    instance: Mapped[ProcessInstance] = relationship(back_populates="incidents")
