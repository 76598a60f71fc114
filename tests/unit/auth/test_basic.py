"""HTTP Basic parsing and the verified-credential cache."""

from __future__ import annotations

import base64

import pytest

from app.auth.basic import CredentialCache, basic_credentials
from app.errors import NotAuthenticated


def header(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_utf8_credentials_are_read_and_only_the_first_colon_splits() -> None:
    assert basic_credentials(header("ирина:пароль:с:двоеточием")) == ("ирина", "пароль:с:двоеточием")


@pytest.mark.parametrize("value", [None, "", "Bearer abc", "Digest x"])
def test_other_schemes_are_not_basic(value: str | None) -> None:
    assert basic_credentials(value) is None


@pytest.mark.parametrize("value", ["Basic !!!", header("no-colon"), header(":password")])
def test_malformed_basic_is_refused(value: str) -> None:
    with pytest.raises(NotAuthenticated):
        basic_credentials(value)


def test_cache_keys_differ_per_process_and_never_hold_the_password() -> None:
    first, second = CredentialCache(), CredentialCache()
    assert first.key("u", "secret-pass") != second.key("u", "secret-pass")
    first.put(first.key("u", "secret-pass"), "u", 0)
    assert b"secret-pass" not in b"".join(first._items)  # noqa: SLF001


def test_cache_entry_expires_and_forget_drops_it() -> None:
    cache = CredentialCache(ttl=60)
    key = cache.key("u", "p")
    cache.put(key, "u", 2)
    assert cache.get(key) is not None and cache.get(key).token_epoch == 2  # type: ignore[union-attr]
    cache.forget(key)
    assert cache.get(key) is None
    expired = CredentialCache(ttl=0)
    expired.put(key, "u", 0)
    assert expired.get(key) is None
