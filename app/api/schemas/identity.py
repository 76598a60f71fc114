"""Users, groups, tokens: what the identity endpoints accept and answer (never a password hash)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from app.api.schemas.common import Schema


class UserOut(Schema):
    username: str
    display_name: str | None
    email: str | None
    locale: str | None
    is_active: bool
    groups: list[str] = Field(validation_alias="group_ids")
    created_at: datetime


class UserCreate(Schema):
    username: str = Field(min_length=1, max_length=255)
    password: str = Field(min_length=1, max_length=1024, description="At least 8 characters.")
    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    locale: str | None = Field(default=None, max_length=16)
    groups: list[str] = Field(default_factory=list, description="Group ids (roles), e.g. `hunter`.")


class UserUpdate(Schema):
    """Only the fields sent are changed; `groups` replaces the whole list."""

    display_name: str | None = Field(default=None, max_length=255)
    email: str | None = Field(default=None, max_length=255)
    locale: str | None = Field(default=None, max_length=16)
    groups: list[str] | None = None
    is_active: bool | None = None


class PasswordSet(Schema):
    password: str = Field(min_length=1, max_length=1024)


class PasswordChange(Schema):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class GroupOut(Schema):
    id: str
    name: str
    members: int = Field(description="How many users belong to the group.")


class GroupDetailOut(Schema):
    id: str
    name: str
    members: list[str]


class GroupCreate(Schema):
    id: str = Field(min_length=1, max_length=255, description="The role name models use in candidateGroups.")
    name: str | None = Field(default=None, max_length=255)


class GroupUpdate(Schema):
    name: str = Field(min_length=1, max_length=255)


class MeOut(Schema):
    username: str
    display_name: str | None
    email: str | None
    locale: str | None
    groups: list[str]
    is_admin: bool
    sees_all_work: bool = Field(description="head_of_sales or admin: reads every task and reassigns.")
    can_deploy: bool


class TokenOut(Schema):
    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires.")
