"""/user and /group: Camunda's identity API over our users and groups (admins only, as on /api/v1).

A Camunda user's firstName and lastName are our display name split at its first space. Deleting a user
deactivates it: history keeps naming who did what.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, page_size
from app.camunda.dto import (
    CountOut,
    GroupIn,
    GroupOut,
    UserCreateIn,
    UserCredentialsIn,
    UserProfileIn,
    UserProfileOut,
)
from app.db.models import Group, User
from app.errors import InvalidInput, NotFound
from app.services import identity
from app.services.context import AppContext

router = APIRouter(tags=["identity"])


def profile_out(user: User) -> UserProfileOut:
    first, _, last = (user.display_name or user.username).partition(" ")
    return UserProfileOut(id=user.username, first_name=first or None, last_name=last or None, email=user.email)


def _display_name(profile: UserProfileIn) -> str | None:
    return " ".join(p for p in (profile.first_name, profile.last_name) if p) or None


def _users(ctx: AppContext, actor: CurrentActor, id_: str | None, member_of_group: str | None,
           email: str | None, first: int, size: int) -> tuple[list[User], int]:
    if id_ is not None:
        try:
            user = identity.get_user(ctx, actor=actor, username=id_)
        except NotFound:
            return [], 0
        users = [user] if member_of_group is None or member_of_group in user.group_ids else []
    else:
        users, _total = identity.list_users(ctx, actor=actor, group=member_of_group, limit=100_000)
    if email is not None:
        users = [u for u in users if u.email == email]
    return users[first:first + size], len(users)


@router.get("/user", response_model=list[UserProfileOut], summary="List users (admins)")
def list_users(ctx: Context, actor: CurrentActor, id: str | None = None,  # noqa: A002
               member_of_group: Annotated[str | None, Query(alias="memberOfGroup")] = None,
               email: str | None = None, first_result: FirstResult = 0,
               max_results: MaxResults = None) -> list[UserProfileOut]:
    users, _ = _users(ctx, actor, id, member_of_group, email, first_result, page_size(max_results))
    return [profile_out(u) for u in users]


@router.get("/user/count", response_model=CountOut, summary="Count users (admins)")
def count_users(ctx: Context, actor: CurrentActor, id: str | None = None,  # noqa: A002
                member_of_group: Annotated[str | None, Query(alias="memberOfGroup")] = None,
                email: str | None = None) -> CountOut:
    return CountOut(count=_users(ctx, actor, id, member_of_group, email, 0, 0)[1])


@router.post("/user/create", status_code=204, summary="Create a user (admins)")
def create_user(ctx: Context, actor: CurrentActor, body: UserCreateIn) -> Response:
    identity.create_user(ctx, actor=actor, username=body.profile.id, password=body.credentials.password,
                         display_name=_display_name(body.profile), email=body.profile.email)
    return Response(status_code=204)


@router.get("/user/{user_id}/profile", response_model=UserProfileOut, summary="A user's profile (admins)")
def get_profile(ctx: Context, actor: CurrentActor, user_id: str) -> UserProfileOut:
    return profile_out(identity.get_user(ctx, actor=actor, username=user_id))


@router.put("/user/{user_id}/profile", status_code=204, summary="Change a user's profile (admins)")
def update_profile(ctx: Context, actor: CurrentActor, user_id: str, body: UserProfileIn) -> Response:
    if body.id != user_id:
        raise InvalidInput("a user id cannot be changed")
    identity.update_user(ctx, actor=actor, username=user_id, display_name=_display_name(body), email=body.email)
    return Response(status_code=204)


@router.put("/user/{user_id}/credentials", status_code=204, summary="Set a user's password (admins)")
def set_credentials(ctx: Context, actor: CurrentActor, user_id: str, body: UserCredentialsIn) -> Response:
    identity.set_password(ctx, actor=actor, username=user_id, password=body.password)
    return Response(status_code=204)


@router.delete("/user/{user_id}", status_code=204, summary="Deactivate a user (admins)",
               description="Users are never deleted (history names them): the user can no longer sign in.")
def delete_user(ctx: Context, actor: CurrentActor, user_id: str) -> Response:
    identity.deactivate_user(ctx, actor=actor, username=user_id)
    return Response(status_code=204)


def group_out(group: Group) -> GroupOut:
    return GroupOut(id=group.id, name=group.name)


def _groups(ctx: AppContext, actor: CurrentActor, id_: str | None, name: str | None, member: str | None
            ) -> list[Group]:
    groups = [g for g, _count in identity.list_groups(ctx, actor=actor)]
    if member is not None:
        member_of = set(identity.get_user(ctx, actor=actor, username=member).group_ids)
        groups = [g for g in groups if g.id in member_of]
    return [g for g in groups if (id_ is None or g.id == id_) and (name is None or g.name == name)]


@router.get("/group", response_model=list[GroupOut], summary="List groups (admins)")
def list_groups(ctx: Context, actor: CurrentActor, id: str | None = None, name: str | None = None,  # noqa: A002
                member: str | None = None, first_result: FirstResult = 0,
                max_results: MaxResults = None) -> list[GroupOut]:
    groups = _groups(ctx, actor, id, name, member)
    return [group_out(g) for g in groups[first_result:first_result + page_size(max_results)]]


@router.get("/group/count", response_model=CountOut, summary="Count groups (admins)")
def count_groups(ctx: Context, actor: CurrentActor, id: str | None = None, name: str | None = None,  # noqa: A002
                 member: str | None = None) -> CountOut:
    return CountOut(count=len(_groups(ctx, actor, id, name, member)))


@router.post("/group/create", status_code=204, summary="Create a group (admins)")
def create_group(ctx: Context, actor: CurrentActor, body: GroupIn) -> Response:
    identity.create_group(ctx, actor=actor, group_id=body.id, name=body.name)
    return Response(status_code=204)


@router.get("/group/{group_id}", response_model=GroupOut, summary="A group (admins)")
def get_group(ctx: Context, actor: CurrentActor, group_id: str) -> GroupOut:
    return group_out(identity.get_group(ctx, actor=actor, group_id=group_id))


@router.delete("/group/{group_id}", status_code=204, summary="Delete a group (admins)")
def delete_group(ctx: Context, actor: CurrentActor, group_id: str) -> Response:
    identity.delete_group(ctx, actor=actor, group_id=group_id)
    return Response(status_code=204)


@router.put("/group/{group_id}/members/{user_id}", status_code=204, summary="Add a member (admins)")
def add_member(ctx: Context, actor: CurrentActor, group_id: str, user_id: str) -> Response:
    identity.add_member(ctx, actor=actor, group_id=group_id, username=user_id)
    return Response(status_code=204)


@router.delete("/group/{group_id}/members/{user_id}", status_code=204, summary="Remove a member (admins)")
def remove_member(ctx: Context, actor: CurrentActor, group_id: str, user_id: str) -> Response:
    identity.remove_member(ctx, actor=actor, group_id=group_id, username=user_id)
    return Response(status_code=204)
