"""Signing in: password checks with rate limiting, loading the current user per request, revoking tokens,
and the JWT signing secret shared by every process through the database."""

from __future__ import annotations

import logging
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import LoginFailure, ServerSetting, User, membership
from app.errors import NotAuthenticated, RateLimited
from app.services.context import AppContext
from app.services.locks import lock_names

log = logging.getLogger(__name__)
SIGNING_SECRET_KEY = "jwt_signing_secret"
WRONG_CREDENTIALS = "wrong user name or password"


def ensure_signing_secret(ctx: AppContext) -> str:
    """The secret from settings, else the one stored in `server_setting`, generated on first start."""
    if ctx.signing_secret:
        return ctx.signing_secret
    with ctx.db.read() as session:
        stored = session.get(ServerSetting, SIGNING_SECRET_KEY)
        value = stored.value if stored else None
    if value is None:
        try:
            with ctx.db.transaction() as session:
                session.add(ServerSetting(key=SIGNING_SECRET_KEY, value=secrets.token_urlsafe(48)))
        except IntegrityError:
            pass  # another process created it first: everyone uses that one
        with ctx.db.read() as session:
            value = session.get(ServerSetting, SIGNING_SECRET_KEY).value  # type: ignore[union-attr]
    ctx.signing_secret = value
    return value


# Guesses at one user from many addresses (distributed guessing) are bounded too, but this much higher: one
# attacker's address is stopped after login_max_failures, long before it could lock the user out.
USER_FAILURE_FACTOR = 10


@dataclass(frozen=True)
class _Candidate:
    password_hash: str | None
    is_active: bool
    actor: Actor | None
    clear_failures: bool
    attempt_id: str


def login_with_password(ctx: AppContext, *, username: str, password: str, address: str) -> Actor:
    """Check a user name and password (token endpoint, HTTP Basic, UI sign-in).

    Refused with RateLimited once the address, or the user from every address together, has too many recent
    failures (before the password is even checked); NotAuthenticated for a wrong password, an unknown or a
    deactivated user. Atomic: each attempt is recorded as a failure before its password is checked (and
    removed when right), under a lock on the user name and the address, so parallel guesses count too."""
    now = utcnow()
    address = (address or "unknown")[:64]
    candidate = _begin_attempt(ctx, username=username, address=address, now=now)
    # argon2 runs outside any transaction: it is slow on purpose and must not hold a lock.
    if not ctx.passwords.verify(candidate.password_hash, password) or not candidate.is_active:
        log.info("sign-in failed", extra={"username": username, "address": address})
        raise NotAuthenticated(WRONG_CREDENTIALS)  # the attempt stays recorded as a failure
    assert candidate.actor is not None and candidate.password_hash is not None
    rehash = ctx.passwords.needs_rehash(candidate.password_hash)
    with ctx.db.transaction() as session:
        session.execute(delete(LoginFailure).where(LoginFailure.id == candidate.attempt_id))
        if candidate.clear_failures:
            # Only this user's failures from this address: an attacker's failures on other accounts from
            # the same address, or on this account from elsewhere, keep counting.
            session.execute(delete(LoginFailure).where(LoginFailure.username == username,
                                                       LoginFailure.address == address))
        if rehash:
            session.execute(update(User).where(User.username == username)
                            .values(password_hash=ctx.passwords.hash(password)))
    return candidate.actor


def _begin_attempt(ctx: AppContext, *, username: str, address: str, now: datetime) -> _Candidate:
    """Check the limits and record the attempt in one transaction, serialized per user name and address."""
    cutoff = now - timedelta(seconds=ctx.settings.login_window_seconds)
    with ctx.db.transaction() as session:
        lock_names(session, "login", [f"user\x1f{username}", f"address\x1f{address}"])
        clear = _check_rate(ctx, session, username=username, address=address, now=now)
        session.execute(delete(LoginFailure).where(LoginFailure.at <= cutoff))  # keep the table small
        attempt = LoginFailure(username=username[:255], address=address, at=now)
        session.add(attempt)
        user = session.scalar(select(User).where(User.username == username))
        session.flush()
        return _Candidate(
            user.password_hash if user else None, bool(user and user.is_active),
            Actor(user.username, frozenset(user.group_ids), token_epoch=user.token_epoch) if user else None,
            clear, attempt.id,
        )


def _check_rate(ctx: AppContext, session: Session, *, username: str, address: str, now: datetime) -> bool:
    """Raise RateLimited when the address, or the user from all addresses, is over the limit; True when this
    user has failures from this address (to clear after a success)."""
    settings = ctx.settings
    since = now - timedelta(seconds=settings.login_window_seconds)
    retry_after = 0
    limits = ((LoginFailure.address, address, settings.login_max_failures),
              (LoginFailure.username, username, settings.login_max_failures * USER_FAILURE_FACTOR))
    for column, value, limit in limits:
        count, oldest = session.execute(
            select(func.count(), func.min(LoginFailure.at)).where(column == value, LoginFailure.at > since)
        ).one()
        if count >= limit:
            oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
            wait = (oldest_at + timedelta(seconds=settings.login_window_seconds) - now).total_seconds()
            retry_after = max(retry_after, math.ceil(wait), 1)
    if retry_after:
        log.warning("sign-in refused: too many failures", extra={"username": username, "address": address})
        raise RateLimited(f"too many failed sign-ins; try again in {retry_after} seconds", retry_after=retry_after)
    mine = session.scalar(select(func.count()).where(LoginFailure.username == username,
                                                     LoginFailure.address == address))
    return bool(mine)


def check_password_of(ctx: AppContext, *, actor: Actor, password: str, address: str) -> None:
    """Re-check the signed-in user's own password (e.g. before changing it); rate-limited like a sign-in."""
    login_with_password(ctx, username=actor.username, password=password, address=address)


def load_actor(ctx: AppContext, *, username: str) -> Actor | None:
    """The active user with their current groups and token epoch, in one statement; None when unknown or
    deactivated. Runs on every request, so groups changed by an admin apply at once."""
    with ctx.db.read() as session:
        rows = session.execute(
            select(User.is_active, User.token_epoch, membership.c.group_id)
            .outerjoin(membership, membership.c.user_id == User.id)
            .where(User.username == username)
        ).all()
    if not rows or not rows[0].is_active:
        return None
    groups = frozenset(row.group_id for row in rows if row.group_id is not None)
    return Actor(username, groups, token_epoch=rows[0].token_epoch)


def revoke_tokens(ctx: AppContext, *, actor: Actor) -> None:
    """Sign out everywhere: every token and session issued to this user so far stops working."""
    with ctx.db.transaction() as session:
        session.execute(update(User).where(User.username == actor.username)
                        .values(token_epoch=User.token_epoch + 1))
    log.info("tokens revoked", extra={"username": actor.username})
