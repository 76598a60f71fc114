"""Password hashing with argon2id; clear passwords are only ever held in the caller's stack frame."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 8
MAX_LENGTH = 1024


class PasswordHashing:
    """argon2id with the library's recommended cost, or (tests only) its cheapest parameters.

    Hashes carry their parameters, so either kind verifies a hash made by the other and `needs_rehash`
    tells when a stored hash should be upgraded at the next successful sign-in."""

    def __init__(self, *, fast_for_tests: bool = False) -> None:
        self._hasher = PasswordHasher.from_parameters(profiles.CHEAPEST) if fast_for_tests else PasswordHasher()
        self._dummy: str | None = None
        self._lock = threading.Lock()

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        # Verifying an unknown user against a dummy hash keeps "no such user" as slow as "wrong password".
        try:
            return self._hasher.verify(password_hash or self._dummy_hash(), password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True

    def _dummy_hash(self) -> str:
        with self._lock:
            if self._dummy is None:  # made lazily: CLI commands that never verify skip its cost
                self._dummy = self._hasher.hash("voronka-timing-equalizer")
            return self._dummy


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password may have at most {MAX_LENGTH} characters"
    return None
