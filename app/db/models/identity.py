"""Users, groups (= roles) and membership; server settings such as the generated signing secret."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db.base import Base, new_id, utcnow

membership = Table(
    "membership",
    Base.metadata,
    Column("user_id", ForeignKey("app_user.id", ondelete="CASCADE"), primary_key=True),
    Column("group_id", ForeignKey("app_group.id", ondelete="CASCADE"), primary_key=True),
)


class User(Base):
    __tablename__ = "app_user"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str | None] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(default=True)
    # Carried in every token as `ep`; bumping it (logout, password change, deactivation) revokes them all.
    token_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    groups: Mapped[list[Group]] = relationship(secondary=membership, back_populates="members", lazy="selectin",
                                               order_by="Group.id")

    @property
    def group_ids(self) -> list[str]:
        return [g.id for g in self.groups]


class Group(Base):
    __tablename__ = "app_group"

    # The role name itself (`hunter`, `head_of_sales`): what models name in candidateGroups.
    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))

    members: Mapped[list[User]] = relationship(secondary=membership, back_populates="groups")


class LoginFailure(Base):
    """Failed sign-ins, counted per user and per address to rate-limit guessing (across processes)."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_username_at", "username", "at"),
                      Index("ix_login_failure_address_at", "address", "at"))

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    username: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class ServerSetting(Base):
    """Values the server generates once and must share between processes (e.g. the JWT secret)."""

    __tablename__ = "server_setting"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
