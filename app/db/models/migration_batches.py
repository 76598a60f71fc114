"""Migrations of running instances from one definition version to another, run in the background."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, new_id, utcnow


class BatchState(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"


class ItemState(enum.StrEnum):
    PENDING = "pending"
    MIGRATED = "migrated"
    FAILED = "failed"  # left untouched on the source version; `reason` says why


class MigrationBatch(Base):
    __tablename__ = "migration_batch"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    source_definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    target_definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    # The activity mapping: [{"source": element id, "target": element id}, ...]
    instructions: Mapped[list[Any]]
    state: Mapped[str] = mapped_column(String(16), default=BatchState.RUNNING)
    total: Mapped[int]
    created_by: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class MigrationItem(Base):
    """One instance of a batch: migrated in its own transaction together with this row, so a killed worker
    leaves every instance either migrated (row done) or untouched (row pending, picked up again)."""

    __tablename__ = "migration_item"
    __table_args__ = (Index("ix_migration_item_batch_state", "batch_id", "state"),)

    batch_id: Mapped[str] = mapped_column(ForeignKey("migration_batch.id", ondelete="CASCADE"), primary_key=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"),
                                             primary_key=True)
    state: Mapped[str] = mapped_column(String(16), default=ItemState.PENDING)
    reason: Mapped[str | None] = mapped_column(Text)
    finished_at: Mapped[datetime | None]
