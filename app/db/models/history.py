"""Append-only audit: who did what to which instance and task, when, with which data."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, utcnow


class EventKind(enum.StrEnum):
    INSTANCE_STARTED = "instance_started"
    INSTANCE_COMPLETED = "instance_completed"
    INSTANCE_TERMINATED = "instance_terminated"
    INSTANCE_FAILED = "instance_failed"
    INSTANCE_MIGRATED = "instance_migrated"  # moved to another definition version (data: from/to versions)
    TASK_CREATED = "task_created"
    TASK_CLAIMED = "task_claimed"
    TASK_UNCLAIMED = "task_unclaimed"
    TASK_ASSIGNED = "task_assigned"
    TASK_COMPLETED = "task_completed"
    TASK_CANCELLED = "task_cancelled"
    ELEMENT_COMPLETED = "element_completed"
    GATEWAY_TAKEN = "gateway_taken"
    TIMER_FIRED = "timer_fired"
    MESSAGE_CORRELATED = "message_correlated"
    MESSAGE_THROWN = "message_thrown"
    EXTERNAL_TASK_COMPLETED = "external_task_completed"
    EXTERNAL_TASK_FAILED = "external_task_failed"
    EXTERNAL_TASK_BPMN_ERROR = "external_task_bpmn_error"
    INCIDENT_CREATED = "incident_created"
    INCIDENT_RESOLVED = "incident_resolved"
    VARIABLES_CHANGED = "variables_changed"
    DOCUMENT_ADDED = "document_added"
    DOCUMENT_DELETED = "document_deleted"
    NOTE_ADDED = "note_added"  # a duplicate lead merged into the deal


class HistoryEvent(Base):
    __tablename__ = "history_event"
    __table_args__ = (
        Index("ix_history_event_instance", "instance_id", "id"),
        Index("ix_history_event_kind_at", "kind", "at"),
        Index("ix_history_event_actor_at", "actor", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    definition_id: Mapped[str] = mapped_column(String(36))
    task_id: Mapped[str | None] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(32))
    element_id: Mapped[str | None] = mapped_column(String(255))
    element_name: Mapped[str | None] = mapped_column(String(255))
    element_type: Mapped[str | None] = mapped_column(String(64))
    funnel_stage: Mapped[str | None] = mapped_column(String(64))
    actor: Mapped[str | None] = mapped_column(String(255))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    data: Mapped[dict[str, Any]]
