"""Work the server does without a request: due timers and external service tasks, plus message subscriptions."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, new_id, utcnow


class JobKind(enum.StrEnum):
    TIMER = "timer"  # a waiting timer of an instance
    START_TIMER = "start_timer"  # a timer start event of a definition: each firing starts an instance
    EXTERNAL = "external"  # an external service task waiting for a worker outside the server


class JobState(enum.StrEnum):
    READY = "ready"  # waiting for its due time (timers) or for a worker (external tasks)
    LOCKED = "locked"  # claimed until lock_expires_at
    FAILED = "failed"  # retries exhausted: an incident holds the instance


class Job(Base):
    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_ready_due", "kind", "due_at", postgresql_where=text("state <> 'failed'"),
              sqlite_where=text("state <> 'failed'")),
        Index("ix_job_topic", "topic", "state"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=JobState.READY)
    instance_id: Mapped[str | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    # Start timers belong to a definition version and have no instance.
    definition_id: Mapped[str | None] = mapped_column(
        ForeignKey("process_definition.id", ondelete="CASCADE"), index=True
    )
    task_id: Mapped[str | None] = mapped_column(String(36))  # the waiting SpiffWorkflow task
    element_id: Mapped[str] = mapped_column(String(255))
    due_at: Mapped[datetime | None]
    # A start timer cycle: {"cycles": left after this firing (-1 = forever), "seconds": between firings}.
    schedule: Mapped[dict[str, Any] | None]
    topic: Mapped[str | None] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(default=0)
    lock_owner: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None]
    retries: Mapped[int | None]
    error_message: Mapped[str | None] = mapped_column(Text)
    error_details: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class MessageSubscription(Base):
    """An instance waiting for a named message (catch event, receive task, boundary message)."""

    __tablename__ = "message_subscription"
    __table_args__ = (Index("ix_message_subscription_name_bk", "message_name", "business_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_name: Mapped[str] = mapped_column(String(255))
    instance_id: Mapped[str | None] = mapped_column(
        ForeignKey("process_instance.id", ondelete="CASCADE"), index=True
    )
    # A message start event has a definition and no instance.
    definition_id: Mapped[str | None] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    business_key: Mapped[str | None] = mapped_column(String(255))
    task_id: Mapped[str | None] = mapped_column(String(36))
    element_id: Mapped[str] = mapped_column(String(255))
    correlation: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BufferedMessage(Base):
    """A message that arrived before anyone waited for it, kept when the sender asked to buffer it."""

    __tablename__ = "buffered_message"
    __table_args__ = (Index("ix_buffered_message_name_bk", "message_name", "business_key"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    message_name: Mapped[str] = mapped_column(String(255))
    business_key: Mapped[str | None] = mapped_column(String(255))
    correlation: Mapped[dict[str, Any]]
    variables: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
