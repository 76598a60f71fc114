"""Admin: users and groups (roles) and who belongs to which."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import Context, CurrentActor, Limit, Offset
from app.api.schemas.common import Page
from app.api.schemas.identity import (
    GroupCreate,
    GroupDetailOut,
    GroupOut,
    GroupUpdate,
    PasswordSet,
    UserCreate,
    UserOut,
    UserUpdate,
)
from app.db.models import Group
from app.services import identity

users = APIRouter(prefix="/users", tags=["users (admin)"])
groups = APIRouter(prefix="/groups", tags=["groups (admin)"])


@users.get("", response_model=Page[UserOut], summary="List users")
def list_users(ctx: Context, actor: CurrentActor, group: str | None = None, active: bool | None = None,
               search: str | None = None, limit: Limit = 100, offset: Offset = 0) -> Page[UserOut]:
    rows, total = identity.list_users(ctx, actor=actor, group=group, active=active, search=search, limit=limit,
                                      offset=offset)
    return Page[UserOut](items=[UserOut.model_validate(u) for u in rows], total=total)


@users.post("", status_code=201, response_model=UserOut, summary="Create a user")
def create_user(ctx: Context, actor: CurrentActor, body: UserCreate) -> UserOut:
    user = identity.create_user(ctx, actor=actor, username=body.username, password=body.password,
                                display_name=body.display_name, email=body.email, locale=body.locale,
                                groups=body.groups)
    return UserOut.model_validate(user)


@users.get("/{username}", response_model=UserOut, summary="Get a user")
def get_user(ctx: Context, actor: CurrentActor, username: str) -> UserOut:
    return UserOut.model_validate(identity.get_user(ctx, actor=actor, username=username))


@users.patch("/{username}", response_model=UserOut, summary="Change a user",
             description="Only the fields sent change; `groups` replaces the list; `is_active: false` deactivates.")
def update_user(ctx: Context, actor: CurrentActor, username: str, body: UserUpdate) -> UserOut:
    changes = body.model_dump(exclude_unset=True)
    for flag in ("groups", "is_active"):  # null means "leave alone" for these two
        if changes.get(flag, ...) is None:
            del changes[flag]
    user = identity.update_user(ctx, actor=actor, username=username, **changes)
    return UserOut.model_validate(user)


@users.delete("/{username}", response_model=UserOut, summary="Deactivate a user",
              description="Users are kept (history names them) but can no longer sign in; their tokens die.")
def deactivate_user(ctx: Context, actor: CurrentActor, username: str) -> UserOut:
    return UserOut.model_validate(identity.deactivate_user(ctx, actor=actor, username=username))


@users.put("/{username}/password", status_code=204, summary="Set a user's password",
           description="Revokes the user's tokens and cached Basic credentials.")
def set_password(ctx: Context, actor: CurrentActor, username: str, body: PasswordSet) -> Response:
    identity.set_password(ctx, actor=actor, username=username, password=body.password)
    return Response(status_code=204)


def group_detail(group: Group) -> GroupDetailOut:
    return GroupDetailOut(id=group.id, name=group.name, members=sorted(u.username for u in group.members))


@groups.get("", response_model=Page[GroupOut], summary="List groups")
def list_groups(ctx: Context, actor: CurrentActor) -> Page[GroupOut]:
    rows = identity.list_groups(ctx, actor=actor)
    return Page[GroupOut](items=[GroupOut(id=g.id, name=g.name, members=n) for g, n in rows], total=len(rows))


@groups.post("", status_code=201, response_model=GroupDetailOut, summary="Create a group")
def create_group(ctx: Context, actor: CurrentActor, body: GroupCreate) -> GroupDetailOut:
    return group_detail(identity.create_group(ctx, actor=actor, group_id=body.id, name=body.name))


@groups.get("/{group_id}", response_model=GroupDetailOut, summary="Get a group and its members")
def get_group(ctx: Context, actor: CurrentActor, group_id: str) -> GroupDetailOut:
    return group_detail(identity.get_group(ctx, actor=actor, group_id=group_id))


@groups.patch("/{group_id}", response_model=GroupDetailOut, summary="Rename a group")
def update_group(ctx: Context, actor: CurrentActor, group_id: str, body: GroupUpdate) -> GroupDetailOut:
    return group_detail(identity.update_group(ctx, actor=actor, group_id=group_id, name=body.name))


@groups.delete("/{group_id}", status_code=204, summary="Delete a group")
def delete_group(ctx: Context, actor: CurrentActor, group_id: str) -> Response:
    identity.delete_group(ctx, actor=actor, group_id=group_id)
    return Response(status_code=204)


@groups.put("/{group_id}/members/{username}", response_model=GroupDetailOut, summary="Add a member")
def add_member(ctx: Context, actor: CurrentActor, group_id: str, username: str) -> GroupDetailOut:
    return group_detail(identity.add_member(ctx, actor=actor, group_id=group_id, username=username))


@groups.delete("/{group_id}/members/{username}", response_model=GroupDetailOut, summary="Remove a member")
def remove_member(ctx: Context, actor: CurrentActor, group_id: str, username: str) -> GroupDetailOut:
    return group_detail(identity.remove_member(ctx, actor=actor, group_id=group_id, username=username))
