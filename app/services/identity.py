"""Users and groups: bootstrap admin, authentication by password, group management."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import ADMIN, ROLES, Actor
from app.auth.passwords import hash_password, verify_password
from app.db.models import Group, User
from app.errors import InvalidInput
from app.services.context import AppContext


def ensure_groups(session: Session, names: list[str]) -> list[Group]:
    groups = []
    for name in names:
        group = session.get(Group, name)
        if group is None:
            group = Group(id=name, name=name.replace("_", " ").capitalize())
            session.add(group)
        groups.append(group)
    return groups


def ensure_bootstrap_admin(ctx: AppContext) -> bool:
    """Create the `VORONKA_BOOTSTRAP_ADMIN` user on first start; returns True when it was created."""
    spec = ctx.settings.bootstrap_admin
    if not spec:
        return False
    username, sep, password = spec.partition(":")
    if not sep or not username or not password:
        raise InvalidInput("VORONKA_BOOTSTRAP_ADMIN must look like user:password")
    with ctx.db.transaction() as session:
        ensure_groups(session, list(ROLES))
        if session.scalar(select(User).where(User.username == username)) is not None:
            return False
        user = User(username=username, password_hash=hash_password(password), display_name=username)
        user.groups = ensure_groups(session, [ADMIN])
        session.add(user)
        return True


def authenticate(ctx: AppContext, *, username: str, password: str) -> Actor | None:
    with ctx.db.transaction() as session:
        user = session.scalar(select(User).where(User.username == username))
        ok = verify_password(user.password_hash if user else None, password)
        if not ok or user is None or not user.is_active:
            return None
        return actor_of(user)


def actor_of(user: User) -> Actor:
    return Actor(user.username, frozenset(user.group_ids))
