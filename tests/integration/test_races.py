"""Read-modify-writes racing over real HTTP (a real uvicorn, one connection per request): the last admin
cannot be lost to two admins demoting each other, concurrent membership changes neither fail nor double, and
parallel password guesses check no more passwords than the limit."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import func, select

from app.db.models import User, membership
from app.services.context import AppContext
from tests.conftest import ADMIN, LiveServer
from tests.factories import make_user
from tests.integration.test_exclusive_claims import race


def race_form(url: str, guesses: list[tuple[tuple[str, str], str, None]]) -> list[int]:
    """Sign-in attempts (OAuth2 password form) released together, each on its own connection."""
    barrier = threading.Barrier(len(guesses))
    statuses = [0] * len(guesses)

    def send(n: int, username: str, password: str, path: str) -> None:
        with httpx.Client(base_url=url, timeout=60) as client:
            client.get("/health")
            barrier.wait()
            statuses[n] = client.post(path, data={"username": username, "password": password}).status_code

    threads = [threading.Thread(target=send, args=(n, *credentials, path))
               for n, (credentials, path, _) in enumerate(guesses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_two_admins_deactivating_each_other_leave_one_admin(ctx: AppContext, live_server: LiveServer) -> None:
    survivor = ADMIN
    for n in range(3):
        newcomer = make_user(ctx, f"admin{n}", ["admin"])
        statuses = race(live_server.url, [(survivor, f"/api/v1/users/{newcomer[0]}", {"is_active": False}),
                                          (newcomer, f"/api/v1/users/{survivor[0]}", {"is_active": False})],
                        method="PATCH")
        # The loser is refused (409), or finds itself deactivated already when its request is authenticated.
        assert statuses.count(200) == 1 and set(statuses) - {200} <= {401, 409}, statuses
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


def test_parallel_password_guesses_check_no_more_than_the_limit(ctx: AppContext, live_server: LiveServer) -> None:
    make_user(ctx, "target", ["hunter"])
    guesses = [(("target", f"guess-{n}"), "/api/v1/auth/token", None) for n in range(20)]
    statuses = race_form(live_server.url, guesses)
    assert statuses.count(401) == ctx.settings.login_max_failures, statuses  # passwords actually checked
    assert statuses.count(429) == 20 - ctx.settings.login_max_failures, statuses
