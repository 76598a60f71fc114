"""Access tokens: what they carry, and that expired, tampered or foreign tokens are refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from app.auth.tokens import issue_token, read_token
from app.errors import NotAuthenticated

SECRET = "s" * 48


def test_token_carries_user_epoch_and_expiry() -> None:
    issued = issue_token(username="ирина", epoch=3, secret=SECRET, lifetime=timedelta(minutes=5))
    claims = read_token(issued.token, secret=SECRET)
    assert (claims.username, claims.epoch) == ("ирина", 3)
    assert issued.lifetime_seconds == 300
    assert abs((claims.expires_at - issued.expires_at).total_seconds()) < 1
    raw = jwt.decode(issued.token, SECRET, algorithms=["HS256"], issuer="voronka")
    assert {"sub", "exp", "iat", "jti", "ep"} <= set(raw)


def test_two_tokens_have_different_ids() -> None:
    first = issue_token(username="a", epoch=0, secret=SECRET, lifetime=timedelta(minutes=5))
    second = issue_token(username="a", epoch=0, secret=SECRET, lifetime=timedelta(minutes=5))
    assert read_token(first.token, secret=SECRET).token_id != read_token(second.token, secret=SECRET).token_id


def test_expired_token_is_refused() -> None:
    issued = issue_token(username="a", epoch=0, secret=SECRET, lifetime=timedelta(minutes=5),
                         now=datetime.now(UTC) - timedelta(minutes=6))
    with pytest.raises(NotAuthenticated, match="expired"):
        read_token(issued.token, secret=SECRET)


def test_token_signed_with_another_secret_is_refused() -> None:
    issued = issue_token(username="a", epoch=0, secret="x" * 48, lifetime=timedelta(minutes=5))
    with pytest.raises(NotAuthenticated):
        read_token(issued.token, secret=SECRET)


def test_token_with_a_changed_payload_is_refused() -> None:
    header, payload, signature = issue_token(username="hunter", epoch=0, secret=SECRET,
                                             lifetime=timedelta(minutes=5)).token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    with pytest.raises(NotAuthenticated):
        read_token(f"{header}.{forged}.{signature}", secret=SECRET)


def test_unsigned_token_is_refused() -> None:
    now = datetime.now(UTC)
    token = jwt.encode({"sub": "admin", "ep": 0, "iat": now, "exp": now + timedelta(minutes=5), "jti": "x",
                        "iss": "voronka"}, key=None, algorithm="none")
    with pytest.raises(NotAuthenticated):
        read_token(token, secret=SECRET)


@pytest.mark.parametrize("missing", ["sub", "exp", "jti"])
def test_token_without_a_required_claim_is_refused(missing: str) -> None:
    now = datetime.now(UTC)
    claims = {"sub": "a", "ep": 0, "iat": now, "exp": now + timedelta(minutes=5), "jti": "x", "iss": "voronka"}
    del claims[missing]
    with pytest.raises(NotAuthenticated):
        read_token(jwt.encode(claims, SECRET, algorithm="HS256"), secret=SECRET)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "Bearer x"])
def test_garbage_is_refused(garbage: str) -> None:
    with pytest.raises(NotAuthenticated):
        read_token(garbage, secret=SECRET)
