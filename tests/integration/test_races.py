"""Read-modify-writes racing over real HTTP (a real uvicorn, one connection per request): the last admin
cannot be lost to two admins demoting each other, and concurrent membership changes neither fail nor double."""

from __future__ import annotations

from sqlalchemy import func, select

from app.db.models import User, membership
from app.services.context import AppContext
from tests.conftest import ADMIN, LiveServer
from tests.factories import make_user
from tests.integration.test_exclusive_claims import race


def test_two_admins_deactivating_each_other_leave_one_admin(ctx: AppContext, live_server: LiveServer) -> None:
    survivor = ADMIN
    for n in range(3):
        newcomer = make_user(ctx, f"admin{n}", ["admin"])
        statuses = race(live_server.url, [(survivor, f"/api/v1/users/{newcomer[0]}", {"is_active": False}),
                                          (newcomer, f"/api/v1/users/{survivor[0]}", {"is_active": False})],
                        method="PATCH")
        assert sorted(statuses) == [200, 409], statuses
        survivor = survivor if statuses[0] == 200 else newcomer
        with ctx.db.read() as session:
            active = session.scalars(select(User.username).where(
                User.is_active.is_(True), User.groups.any(id="admin"))).all()
        assert list(active) == [survivor[0]]


def test_concurrent_membership_changes_apply_once(ctx: AppContext, live_server: LiveServer) -> None:
    make_user(ctx, "newbie", [])
    statuses = race(live_server.url, [(ADMIN, "/api/v1/groups/closer/members/newbie", None)] * 6, method="PUT")
    assert statuses == [200] * 6, statuses
    with ctx.db.read() as session:
        rows = session.scalar(select(func.count()).select_from(membership).join(
            User, User.id == membership.c.user_id).where(User.username == "newbie"))
    assert rows == 1
