"""Short-lived access tokens: HS256 JWTs with `sub`, `exp`, `iat`, `jti` and the user's token epoch `ep`."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from app.errors import NotAuthenticated

ALGORITHM = "HS256"
ISSUER = "voronka"
REQUIRED_CLAIMS = ["sub", "exp", "iat", "jti", "iss"]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    expires_at: datetime
    lifetime_seconds: int


@dataclass(frozen=True)
class TokenClaims:
    username: str
    epoch: int
    token_id: str
    expires_at: datetime


def issue_token(*, username: str, epoch: int, secret: str, lifetime: timedelta,
                now: datetime | None = None) -> IssuedToken:
    issued = now or datetime.now(UTC)
    expires = issued + lifetime
    claims = {"sub": username, "ep": epoch, "iat": issued, "exp": expires, "jti": uuid.uuid4().hex, "iss": ISSUER}
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), expires,
                       max(1, int(lifetime.total_seconds())))


def read_token(token: str, *, secret: str) -> TokenClaims:
    """The verified claims of a token; NotAuthenticated when it is malformed, tampered with or expired."""
    try:
        claims = jwt.decode(token, secret, algorithms=[ALGORITHM], issuer=ISSUER,
                            options={"require": REQUIRED_CLAIMS})
    except jwt.ExpiredSignatureError:
        raise NotAuthenticated("the token has expired: sign in again") from None
    except jwt.InvalidTokenError:
        raise NotAuthenticated("the token is not valid") from None
    username, epoch = claims.get("sub"), claims.get("ep", 0)
    if not isinstance(username, str) or not username or not isinstance(epoch, int):
        raise NotAuthenticated("the token is not valid")
    return TokenClaims(username, epoch, str(claims["jti"]), datetime.fromtimestamp(claims["exp"], UTC))
