"""Users and groups (= roles): bootstrap admin, admin use cases, membership, demo people."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from app.auth.actor import ADMIN, DESIGNER, HEAD_OF_SALES, ROLES, Actor
from app.auth.passwords import password_problem
from app.auth.permissions import require_admin
from app.db.models import Group, User, membership
from app.errors import Conflict, InvalidInput, NotFound
from app.services.context import AppContext
from app.services.logins import login_with_password

# No spaces or colons (HTTP Basic splits at the first colon); any alphabet.
USERNAME_PATTERN = re.compile(r"^[\w.@+-]{1,255}$")
GROUP_PATTERN = re.compile(r"^[\w.-]{1,255}$")
DEMO_ROLES = ("hunter", "closer", "accounting", "account_manager", HEAD_OF_SALES, DESIGNER)


class _Keep:
    """Marks an update argument that was not given (None is a value: it clears the field)."""


KEEP: Any = _Keep()


def role_title(group_id: str) -> str:
    return group_id.replace("_", " ").capitalize()


def ensure_groups(session: Session, names: Iterable[str]) -> list[Group]:
    groups = []
    for name in names:
        group = session.get(Group, name)
        if group is None:
            group = Group(id=name, name=role_title(name))
            session.add(group)
        groups.append(group)
    return groups


def ensure_role_groups(ctx: AppContext) -> None:
    """The built-in roles exist as groups from the first start on (models name them in candidateGroups)."""
    with ctx.db.read() as session:
        present = set(session.scalars(select(Group.id).where(Group.id.in_(ROLES))))
    if present != set(ROLES):
        with ctx.db.transaction() as session:
            ensure_groups(session, ROLES)


def ensure_bootstrap_admin(ctx: AppContext) -> bool:
    """Create the `VORONKA_BOOTSTRAP_ADMIN` user on first start; returns True when it was created."""
    spec = ctx.settings.bootstrap_admin
    if not spec:
        return False
    username, sep, password = spec.partition(":")
    if not sep or not username or not password:
        raise InvalidInput("VORONKA_BOOTSTRAP_ADMIN must look like user:password")
    with ctx.db.read() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            return False
    password_hash = ctx.passwords.hash(password)  # outside the transaction: argon2 is slow on purpose
    with ctx.db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            return False
        user = User(username=username, password_hash=password_hash, display_name=username)
        user.groups = ensure_groups(session, [ADMIN])
        session.add(user)
        return True


def actor_of(user: User) -> Actor:
    return Actor(user.username, frozenset(user.group_ids), token_epoch=user.token_epoch)


# --- users -------------------------------------------------------------------------------------------


def create_user(ctx: AppContext, *, actor: Actor, username: str, password: str, display_name: str | None = None,
                email: str | None = None, locale: str | None = None, groups: Iterable[str] = ()) -> User:
    require_admin(actor)
    if not USERNAME_PATTERN.match(username):
        raise InvalidInput("a user name is 1-255 letters, digits or . @ + - _ (no spaces or colons)")
    password_hash = _new_password_hash(ctx, password)
    with ctx.db.transaction() as session:
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            raise Conflict(f"user {username!r} already exists")
        user = User(username=username, password_hash=password_hash, display_name=display_name or username,
                    email=email, locale=locale)
        user.groups = _existing_groups(session, groups)
        session.add(user)
        session.flush()
        return user


def update_user(ctx: AppContext, *, actor: Actor, username: str, display_name: Any = KEEP, email: Any = KEEP,
                locale: Any = KEEP, groups: Any = KEEP, is_active: Any = KEEP) -> User:
    """Change a user's details, groups (the full new list) or active flag; KEEP leaves a field alone."""
    require_admin(actor)
    with ctx.db.transaction() as session:
        user = _user(session, username, lock=True)
        if display_name is not KEEP:
            user.display_name = display_name or username
        if email is not KEEP:
            user.email = email
        if locale is not KEEP:
            user.locale = locale
        if groups is not KEEP:
            new_groups = _existing_groups(session, groups)
            if ADMIN in user.group_ids and ADMIN not in {g.id for g in new_groups}:
                _require_another_admin(session, user)
            user.groups = new_groups
        if is_active is not KEEP and bool(is_active) != user.is_active:
            if not is_active:
                _require_another_admin(session, user)
                user.token_epoch += 1  # a deactivated user's tokens die with the account
            user.is_active = bool(is_active)
        return user


def deactivate_user(ctx: AppContext, *, actor: Actor, username: str) -> User:
    """Users are never deleted (history names them); deactivated ones cannot sign in."""
    return update_user(ctx, actor=actor, username=username, is_active=False)


def set_password(ctx: AppContext, *, actor: Actor, username: str, password: str) -> None:
    """An admin sets a user's password. Every token of the user is revoked and cached Basic credentials stop
    matching (their epoch changed), in every process."""
    require_admin(actor)
    password_hash = _new_password_hash(ctx, password)
    with ctx.db.transaction() as session:
        user = _user(session, username, lock=True)
        user.password_hash = password_hash
        user.token_epoch += 1


def change_own_password(ctx: AppContext, *, actor: Actor, current_password: str, new_password: str,
                        address: str) -> None:
    """A signed-in user changes their password, proving they know the current one (rate-limited)."""
    login_with_password(ctx, username=actor.username, password=current_password, address=address)
    password_hash = _new_password_hash(ctx, new_password)
    with ctx.db.transaction() as session:
        user = _user(session, actor.username, lock=True)
        user.password_hash = password_hash
        user.token_epoch += 1


def get_user(ctx: AppContext, *, actor: Actor, username: str) -> User:
    require_admin(actor)
    with ctx.db.read() as session:
        return _user(session, username)


def me(ctx: AppContext, *, actor: Actor) -> User:
    with ctx.db.read() as session:
        return _user(session, actor.username)


def list_users(ctx: AppContext, *, actor: Actor, group: str | None = None, active: bool | None = None,
               search: str | None = None, limit: int = 100, offset: int = 0) -> tuple[list[User], int]:
    require_admin(actor)
    query = select(User)
    if group:
        query = query.where(User.groups.any(Group.id == group))
    if active is not None:
        query = query.where(User.is_active.is_(active))
    if search:
        pattern = f"%{search.lower()}%"
        query = query.where(func.lower(User.username).like(pattern) | func.lower(User.display_name).like(pattern))
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(User.username).limit(limit).offset(offset)).all()
        return list(rows), total


# --- groups ------------------------------------------------------------------------------------------


def list_groups(ctx: AppContext, *, actor: Actor) -> list[tuple[Group, int]]:
    """Every group with its number of members."""
    require_admin(actor)
    with ctx.db.read() as session:
        counts = (select(membership.c.group_id, func.count().label("n"))
                  .group_by(membership.c.group_id).subquery())
        rows = session.execute(select(Group, func.coalesce(counts.c.n, 0))
                               .outerjoin(counts, counts.c.group_id == Group.id).order_by(Group.id)).all()
        return [(group, int(n)) for group, n in rows]


def get_group(ctx: AppContext, *, actor: Actor, group_id: str) -> Group:
    require_admin(actor)
    with ctx.db.read() as session:
        return _group(session, group_id)


def create_group(ctx: AppContext, *, actor: Actor, group_id: str, name: str | None = None) -> Group:
    require_admin(actor)
    if not GROUP_PATTERN.match(group_id):
        raise InvalidInput("a group id is 1-255 letters, digits or . - _ (models name it in candidateGroups)")
    with ctx.db.transaction() as session:
        if session.get(Group, group_id) is not None:
            raise Conflict(f"group {group_id!r} already exists")
        group = Group(id=group_id, name=name or role_title(group_id))
        group.members = []
        session.add(group)
        return group


def update_group(ctx: AppContext, *, actor: Actor, group_id: str, name: str) -> Group:
    require_admin(actor)
    with ctx.db.transaction() as session:
        group = _group(session, group_id)
        group.name = name
        return group


def delete_group(ctx: AppContext, *, actor: Actor, group_id: str) -> None:
    require_admin(actor)
    if group_id == ADMIN:
        raise Conflict("the admin group cannot be deleted")
    with ctx.db.transaction() as session:
        session.delete(_group(session, group_id))


def add_member(ctx: AppContext, *, actor: Actor, group_id: str, username: str) -> Group:
    require_admin(actor)
    with ctx.db.transaction() as session:
        group = _group(session, group_id)
        user = _user(session, username, lock=True)
        if group not in user.groups:
            user.groups.append(group)
        session.flush()
        session.refresh(group, ["members"])
        return group


def remove_member(ctx: AppContext, *, actor: Actor, group_id: str, username: str) -> Group:
    require_admin(actor)
    with ctx.db.transaction() as session:
        group = _group(session, group_id)
        user = _user(session, username, lock=True)
        if group in user.groups:
            if group_id == ADMIN:
                _require_another_admin(session, user)
            user.groups.remove(group)
        session.flush()
        session.refresh(group, ["members"])
        return group


# --- demo --------------------------------------------------------------------------------------------


def create_demo_users(ctx: AppContext, *, actor: Actor) -> list[tuple[str, str | None]]:
    """One user per sales role, named after it, with a random password; (name, password) pairs, the
    password None for users that existed already (left unchanged)."""
    require_admin(actor)
    with ctx.db.read() as session:
        existing = set(session.scalars(select(User.username).where(User.username.in_(DEMO_ROLES))))
    created: list[tuple[str, str | None]] = []
    for role in DEMO_ROLES:
        if role in existing:
            created.append((role, None))
            continue
        password = secrets.token_urlsafe(12)
        create_user(ctx, actor=actor, username=role, password=password, display_name=role_title(role),
                    groups=[role])
        created.append((role, password))
    return created


# --- helpers -----------------------------------------------------------------------------------------


def _new_password_hash(ctx: AppContext, password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem)
    return ctx.passwords.hash(password)


def _user(session: Session, username: str, *, lock: bool = False) -> User:
    """`lock`: before a read-modify-write (token epoch, groups), so concurrent changes queue, not overwrite."""
    query = select(User).where(User.username == username)
    user = session.scalar(query.with_for_update() if lock else query)
    if user is None:
        raise NotFound(f"user {username!r} not found")
    return user


def _group(session: Session, group_id: str) -> Group:
    group = session.scalar(select(Group).where(Group.id == group_id).options(selectinload(Group.members)))
    if group is None:
        raise NotFound(f"group {group_id!r} not found")
    return group


def _existing_groups(session: Session, names: Iterable[str]) -> list[Group]:
    wanted = list(dict.fromkeys(n.strip() for n in names if n and n.strip()))
    if not wanted:
        return []
    found = {g.id: g for g in session.scalars(select(Group).where(Group.id.in_(wanted)))}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise InvalidInput(f"unknown group(s): {', '.join(missing)}; create them first")
    return sorted(found.values(), key=lambda g: g.id)


def _require_another_admin(session: Session, user: User) -> None:
    """Never leave the server without an active admin. Removals of admins queue on the admin group's row, so
    two admins demoting each other at once cannot both succeed."""
    session.scalar(select(Group.id).where(Group.id == ADMIN).with_for_update())
    others = session.scalar(
        select(func.count()).select_from(User)
        .where(User.is_active.is_(True), User.id != user.id, User.groups.any(Group.id == ADMIN))
    )
    if ADMIN in user.group_ids and not others:
        raise Conflict(f"{user.username!r} is the last active admin")
