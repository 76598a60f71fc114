"""Leads coming in: bulk imports (job, per-row outcome), web-form API keys and requests, dedupe keys."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db.base import Base, new_id, utcnow


class ImportState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    FAILED = "failed"


class RowOutcome(enum.StrEnum):
    IMPORTED = "imported"
    DUPLICATE = "duplicate"  # skipped: matched an existing deal or an earlier row
    NOTED = "noted"  # matched, and added to the existing deal as a note
    FAILED = "failed"  # refused by validation


class LeadImport(Base):
    """One uploaded file being imported by the worker; the counters are the progress the pages poll."""

    __tablename__ = "lead_import"
    __table_args__ = (Index("ix_lead_import_state", "state", "lock_expires_at"),
                      Index("ix_lead_import_created_by", "created_by", "created_at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    definition_id: Mapped[str] = mapped_column(ForeignKey("process_definition.id", ondelete="CASCADE"))
    definition_key: Mapped[str] = mapped_column(String(255))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    file_kind: Mapped[str] = mapped_column(String(8))  # csv | xlsx
    mapping: Mapped[dict[str, Any]]  # column header -> form field
    options: Mapped[dict[str, Any]]  # on_duplicate, assignment, group, source
    state: Mapped[str] = mapped_column(String(16), default=ImportState.QUEUED)
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    last_row: Mapped[int] = mapped_column(Integer, default=0)  # file row number of the last committed row
    rr_index: Mapped[int] = mapped_column(Integer, default=0)  # round-robin position over the group
    lock_owner: Mapped[str | None] = mapped_column(String(255))
    lock_expires_at: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]


class LeadImportRow(Base):
    """What happened to one row: written in the same transaction as the deal it started (never twice)."""

    __tablename__ = "lead_import_row"

    import_id: Mapped[str] = mapped_column(ForeignKey("lead_import.id", ondelete="CASCADE"), primary_key=True)
    row: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    instance_id: Mapped[str | None] = mapped_column(String(36))
    reason: Mapped[str | None] = mapped_column(Text)
    cells: Mapped[dict[str, Any] | None]  # the row as read (for the error report)


class LeadKey(Base):
    """Normalised phone, e-mail, INN and company name of a deal's lead, for duplicate checks."""

    __tablename__ = "lead_key"
    __table_args__ = (Index("ix_lead_key_value", "kind", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(255))
    instance_id: Mapped[str] = mapped_column(ForeignKey("process_instance.id", ondelete="CASCADE"), index=True)
    definition_key: Mapped[str] = mapped_column(String(255))


class ApiKey(Base):
    """A web form's key: stored as a sha256 of a 256-bit random secret; scoped to one process's leads."""

    __tablename__ = "api_key"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    definition_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class LeadRequest(Base):
    """Each lead posted with a key: the rate limit counts them; an Idempotency-Key replays the answer."""

    __tablename__ = "lead_request"
    __table_args__ = (UniqueConstraint("api_key_id", "idempotency_key", name="uq_lead_request_key_idem"),
                      Index("ix_lead_request_key_at", "api_key_id", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    api_key_id: Mapped[str] = mapped_column(ForeignKey("api_key.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    body_sha256: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]]
    at: Mapped[datetime] = mapped_column(default=utcnow)
