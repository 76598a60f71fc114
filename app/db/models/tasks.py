"""The human-task projection the inbox reads; rows stay after completion as the record of who did what."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, utcnow


class TaskState(enum.StrEnum):
    OPEN = "open"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Task(Base):
    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_open_assignee", "assignee", postgresql_where=text("state = 'open'"),
              sqlite_where=text("state = 'open'")),
        Index("ix_task_instance_state", "instance_id", "state"),
        Index("ix_task_state_created", "state", "created_at"),
        # Analytics: task times per definition and period, people's figures per user.
        Index("ix_task_key_completed", "definition_key", "completed_at"),
        Index("ix_task_completed_by", "completed_by", "completed_at"),
    )

    # The SpiffWorkflow task id (a UUID), stable for the life of the task.
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    definition_key: Mapped[str] = mapped_column(String(255), index=True)
    business_key: Mapped[str | None] = mapped_column(String(255))
    element_id: Mapped[str] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(String(255))
    lane: Mapped[str | None] = mapped_column(String(255))
    documentation: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(255))
    form: Mapped[list[Any]]
    properties: Mapped[dict[str, Any]]
    funnel_stage: Mapped[str | None] = mapped_column(String(64))
    work_kind: Mapped[str | None] = mapped_column(String(32))
    due_at: Mapped[datetime | None]
    priority: Mapped[int] = mapped_column(default=50)
    state: Mapped[str] = mapped_column(String(16), default=TaskState.OPEN)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    claimed_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[str | None] = mapped_column(String(255))

    candidates: Mapped[list[TaskCandidate]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="TaskCandidate.name"
    )

    @property
    def candidate_groups(self) -> list[str]:
        return [c.name for c in self.candidates if c.kind == CandidateKind.GROUP]

    @property
    def candidate_users(self) -> list[str]:
        return [c.name for c in self.candidates if c.kind == CandidateKind.USER]


class CandidateKind(enum.StrEnum):
    GROUP = "group"
    USER = "user"


class TaskCandidate(Base):
    """Who may claim a task: one row per candidate group or user, so inbox filters use an index."""

    __tablename__ = "task_candidate"
    __table_args__ = (Index("ix_task_candidate_kind_name", "kind", "name"),)

    task_id: Mapped[str] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
