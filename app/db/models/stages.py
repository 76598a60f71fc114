"""Funnel stage visits: when a deal entered each `funnel_stage` and when it left (for time in stage)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base


class StageVisit(Base):
    """One stay of an instance in one funnel stage; `left_at` is empty while it is there (written by
    services.recording in the transaction that moved the deal)."""

    __tablename__ = "stage_visit"
    __table_args__ = (
        Index("ix_stage_visit_instance", "instance_id", "stage"),
        Index("ix_stage_visit_stage_entered", "stage", "entered_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"))
    stage: Mapped[str] = mapped_column(String(64))
    entered_at: Mapped[datetime]
    left_at: Mapped[datetime | None]
