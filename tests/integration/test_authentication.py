"""Signing in over HTTP: tokens, Basic, the session cookie, expiry, revocation, rate limiting, secrecy."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

import pytest
from fastapi import Request, Response
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from app.auth.sessions import SESSION_COOKIE, is_https, issue_session
from app.db.base import Base
from app.db.models import User
from app.main import create_app, prepare_database
from app.services.context import AppContext
from app.services.logins import load_actor
from tests.conftest import ADMIN, basic_auth
from tests.factories import add_role_users, password_of


@pytest.fixture
def app(ctx: AppContext):  # type: ignore[no-untyped-def]
    add_role_users(ctx, ("hunter", "closer", "accounting"))
    application = create_app(context=ctx)

    @application.post("/test-login")  # what the UI's login page will do
    def test_login(request: Request, response: Response) -> dict:
        actor = load_actor(ctx, username="hunter")
        assert actor is not None
        issued = issue_session(response, ctx, actor, secure=is_https(request))
        return {"expires_in": issued.lifetime_seconds}

    return application


@pytest.fixture
def anon(app) -> Iterator[TestClient]:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        yield client


def token_for(client: TestClient, username: str, password: str | None = None) -> str:
    response = client.post("/api/v1/auth/token", data={"username": username,
                                                       "password": password or password_of(username)})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    return body["access_token"]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_anonymous_requests_get_401_with_a_challenge_but_health_is_open(anon: TestClient) -> None:
    for path in ("/api/v1/tasks", "/api/v1/me", "/api/v1/process-instances", "/api/v1/users"):
        response = anon.get(path)
        assert response.status_code == 401, path
        assert "Basic" in response.headers["www-authenticate"] and "Bearer" in response.headers["www-authenticate"]
        assert response.headers["content-type"].startswith("application/problem+json")
    assert anon.get("/health").status_code == 200


def test_password_flow_token_identifies_the_user_and_their_groups(anon: TestClient) -> None:
    me = anon.get("/api/v1/me", headers=bearer(token_for(anon, "hunter")))
    assert me.status_code == 200
    assert me.json()["username"] == "hunter" and me.json()["groups"] == ["hunter"]
    assert me.json()["sees_all_work"] is False and me.json()["can_deploy"] is False


def test_basic_with_utf8_works_and_wrong_password_is_401(anon: TestClient, ctx: AppContext) -> None:
    from app.auth.actor import SYSTEM
    from app.services import identity

    identity.create_user(ctx, actor=SYSTEM, username="ирина", password="пароль-длинный", groups=["closer"])
    assert anon.get("/api/v1/me", headers=basic_auth("ирина", "пароль-длинный")).json()["groups"] == ["closer"]
    assert anon.get("/api/v1/me", headers=basic_auth("ирина", "неверный")).status_code == 401


@pytest.mark.parametrize("header", ["Bearer not-a-jwt", "Bearer ", "Digest abc", "Basic !!!"])
def test_malformed_credentials_are_401(anon: TestClient, header: str) -> None:
    assert anon.get("/api/v1/me", headers={"Authorization": header}).status_code == 401


def test_tampered_token_is_401(anon: TestClient) -> None:
    token = token_for(anon, "hunter")
    head, payload, signature = token.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    assert anon.get("/api/v1/me", headers=bearer(f"{head}.{payload}.{flipped}")).status_code == 401


def test_token_expires_after_its_short_lifetime(ctx: AppContext) -> None:
    short = AppContext(ctx.settings.model_copy(update={"token_minutes": 1 / 60}))
    try:
        prepare_database(short)
        with TestClient(create_app(context=short)) as client:
            add_role_users(short, ("hunter",))
            token = token_for_short(client)
            assert client.get("/api/v1/me", headers=bearer(token)).status_code == 200
            time.sleep(2.1)
            expired = client.get("/api/v1/me", headers=bearer(token))
            assert expired.status_code == 401 and "expired" in expired.json()["detail"]
    finally:
        short.close()


def token_for_short(client: TestClient) -> str:
    response = client.post("/api/v1/auth/token", data={"username": "hunter", "password": password_of("hunter")})
    assert response.json()["expires_in"] == 1
    return response.json()["access_token"]


def test_signing_secret_is_generated_once_and_shared_by_every_process(app, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    other = AppContext(ctx.settings)
    try:
        prepare_database(other)
        assert other.signing_secret == ctx.signing_secret and len(other.signing_secret or "") >= 32
        with TestClient(create_app(context=ctx)) as first, TestClient(create_app(context=other)) as second:
            assert second.get("/api/v1/me", headers=bearer(token_for(first, "hunter"))).status_code == 200
    finally:
        other.close()
    configured = AppContext(ctx.settings.model_copy(update={"secret_key": "k" * 40}))
    try:
        prepare_database(configured)
        assert configured.signing_secret == "k" * 40
    finally:
        configured.close()


def test_logout_clears_the_cookie_and_revokes_every_token(anon: TestClient) -> None:
    first, second = token_for(anon, "hunter"), token_for(anon, "hunter")
    out = anon.post("/api/v1/auth/logout", headers=bearer(first))
    assert out.status_code == 204
    assert f'{SESSION_COOKIE}=""' in out.headers["set-cookie"] and "Max-Age=0" in out.headers["set-cookie"]
    for token in (first, second):
        assert anon.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert anon.get("/api/v1/me", headers=bearer(token_for(anon, "hunter"))).status_code == 200
    assert anon.post("/api/v1/auth/logout").status_code == 204  # anonymous: nothing to revoke


def test_session_cookie_is_http_only_lax_and_secure_on_https(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, base_url="https://voronka.test") as client:
        login = client.post("/test-login")
        cookie = login.headers["set-cookie"]
        assert f"{SESSION_COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
        assert "Secure" in cookie and "Max-Age=3600" in cookie
        assert client.get("/api/v1/me").json()["username"] == "hunter"  # the cookie alone signs in
        assert client.post("/api/v1/auth/logout").status_code == 204
        client.cookies.clear()
        assert client.get("/api/v1/me").status_code == 401
    with TestClient(app) as plain:
        assert "Secure" not in plain.post("/test-login").headers["set-cookie"]


def test_session_cookie_dies_with_logout_even_if_the_browser_keeps_it(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app) as client:
        client.post("/test-login")
        kept = client.cookies.get(SESSION_COOKIE)
        client.post("/api/v1/auth/logout")
        client.cookies.set(SESSION_COOKIE, kept or "")
        assert client.get("/api/v1/me").status_code == 401


def test_deactivated_user_is_refused_at_once(anon: TestClient, ctx: AppContext) -> None:
    token = token_for(anon, "closer")
    assert anon.get("/api/v1/me", headers=basic_auth("closer", password_of("closer"))).status_code == 200
    assert anon.delete("/api/v1/users/closer", headers=basic_auth(*ADMIN)).status_code == 200
    assert anon.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert anon.get("/api/v1/me", headers=basic_auth("closer", password_of("closer"))).status_code == 401
    refused = anon.post("/api/v1/auth/token", data={"username": "closer", "password": password_of("closer")})
    assert refused.status_code == 401 and refused.json()["detail"] == "wrong user name or password"


def test_password_change_invalidates_cached_basic_credentials_in_every_process(app, ctx: AppContext) -> None:  # type: ignore[no-untyped-def]
    old = basic_auth("hunter", password_of("hunter"))
    with TestClient(app) as here, TestClient(create_app(context=ctx)) as elsewhere:
        assert here.get("/api/v1/me", headers=old).status_code == 200  # now cached in both "processes"
        assert elsewhere.get("/api/v1/me", headers=old).status_code == 200
        changed = here.put("/api/v1/users/hunter/password", json={"password": "a-new-password"},
                           headers=basic_auth(*ADMIN))
        assert changed.status_code == 204
        assert here.get("/api/v1/me", headers=old).status_code == 401
        assert elsewhere.get("/api/v1/me", headers=old).status_code == 401
        assert elsewhere.get("/api/v1/me", headers=basic_auth("hunter", "a-new-password")).status_code == 200


def test_own_password_change_needs_the_current_one_and_revokes_tokens(anon: TestClient) -> None:
    token = token_for(anon, "hunter")
    wrong = anon.put("/api/v1/me/password", headers=bearer(token),
                     json={"current_password": "nope-nope", "new_password": "another-password"})
    assert wrong.status_code == 401
    short = anon.put("/api/v1/me/password", headers=bearer(token),
                     json={"current_password": password_of("hunter"), "new_password": "short"})
    assert short.status_code == 400
    ok = anon.put("/api/v1/me/password", headers=bearer(token),
                  json={"current_password": password_of("hunter"), "new_password": "another-password"})
    assert ok.status_code == 204
    assert anon.get("/api/v1/me", headers=bearer(token)).status_code == 401
    assert anon.get("/api/v1/me", headers=bearer(token_for(anon, "hunter", "another-password"))).status_code == 200


def test_group_changes_apply_to_a_signed_in_user_at_once(anon: TestClient) -> None:
    token = token_for(anon, "hunter")
    assert anon.put("/api/v1/groups/closer/members/hunter", headers=basic_auth(*ADMIN)).status_code == 200
    assert anon.get("/api/v1/me", headers=bearer(token)).json()["groups"] == ["closer", "hunter"]


# --- rate limiting ------------------------------------------------------------------------------------


def fail(client: TestClient, username: str) -> int:
    return client.post("/api/v1/auth/token", data={"username": username, "password": "wrong-password"}).status_code


def test_sixth_attempt_after_five_failures_is_429_even_with_the_right_password(anon: TestClient) -> None:
    assert [fail(anon, "hunter") for _ in range(5)] == [401] * 5
    refused = anon.post("/api/v1/auth/token", data={"username": "hunter", "password": password_of("hunter")})
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 900
    assert anon.get("/api/v1/me", headers=basic_auth("hunter", password_of("hunter"))).status_code == 429


def test_guesses_from_another_address_do_not_lock_the_user_out_but_distributed_ones_are_bounded(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, client=("10.0.0.1", 1000)) as attacker:
        assert [fail(attacker, "closer") for _ in range(6)] == [401] * 5 + [429]
    with TestClient(app, client=("10.0.1.1", 1000)) as office:  # the real closer, elsewhere: not locked out
        assert office.post("/api/v1/auth/token",
                           data={"username": "closer", "password": password_of("closer")}).status_code == 200
    # Many addresses guessing one user: bounded by 10x the limit per user (50 in the window, 5 used above).
    for n in range(45):
        with TestClient(app, client=(f"10.0.2.{n}", 1000)) as client:
            assert fail(client, "closer") == 401
    with TestClient(app, client=("10.0.3.1", 1000)) as fresh:
        assert fresh.post("/api/v1/auth/token",
                          data={"username": "closer", "password": password_of("closer")}).status_code == 429
        assert fresh.post("/api/v1/auth/token",
                          data={"username": "hunter", "password": password_of("hunter")}).status_code == 200


def test_failures_count_per_address_and_a_success_does_not_reset_other_users(app) -> None:  # type: ignore[no-untyped-def]
    with TestClient(app, client=("192.0.2.7", 1000)) as attacker:
        assert [fail(attacker, name) for name in ("u1", "u2", "u3", "hunter")] == [401] * 4
        # a real user signs in from the same address (an office NAT): only their own failures are cleared
        assert attacker.post("/api/v1/auth/token",
                             data={"username": "hunter", "password": password_of("hunter")}).status_code == 200
        assert fail(attacker, "u4") == 401
        assert fail(attacker, "u5") == 401
        assert fail(attacker, "u6") == 429
    with TestClient(app, client=("192.0.2.8", 1000)) as neighbour:
        assert neighbour.post("/api/v1/auth/token",
                              data={"username": "accounting",
                                    "password": password_of("accounting")}).status_code == 200


# --- secrecy ------------------------------------------------------------------------------------------


def test_passwords_appear_neither_in_logs_nor_in_the_database(anon: TestClient, ctx: AppContext,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    secret = "Очень-секретный-пароль-42"
    caplog.set_level(logging.DEBUG)
    admin = basic_auth(*ADMIN)
    assert anon.post("/api/v1/users", headers=admin, json={"username": "newbie", "password": secret,
                                                           "groups": ["hunter"]}).status_code == 201
    assert anon.post("/api/v1/auth/token", data={"username": "newbie", "password": secret}).status_code == 200
    assert anon.post("/api/v1/auth/token", data={"username": "newbie", "password": secret + "x"}).status_code == 401
    assert anon.get("/api/v1/me", headers=basic_auth("newbie", secret)).status_code == 200
    assert anon.put("/api/v1/users/newbie/password", headers=admin, json={"password": secret + "2"}).status_code == 204
    assert secret not in caplog.text
    assert "sign-in failed" in caplog.text  # failures are logged, by name and address only

    with ctx.db.read() as session:
        stored = session.scalar(select(User.password_hash).where(User.username == "newbie"))
        dump = "\n".join(str(row) for table in Base.metadata.sorted_tables
                         for row in session.execute(text(f'SELECT * FROM "{table.name}"')))
    assert stored is not None and stored.startswith("$argon2id$")
    assert secret not in dump
    user = anon.get("/api/v1/users/newbie", headers=admin).json()
    assert "password" not in str(user) and "argon2" not in str(user)
