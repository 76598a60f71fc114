"""`voronka users …` and `voronka demo` against a real SQLite file."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from app.cli import cli
from app.db.models import User
from app.settings import get_settings

runner = CliRunner()


@pytest.fixture
def sqlite_file(tmp_path: Path, sqlite_template: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "cli.db"
    shutil.copy(sqlite_template, path)
    monkeypatch.setenv("VORONKA_DATABASE_URL", f"sqlite:///{path}")
    monkeypatch.setenv("VORONKA_FAST_PASSWORD_HASHING", "true")
    monkeypatch.delenv("VORONKA_BOOTSTRAP_ADMIN", raising=False)
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def stored_users(path: Path) -> dict[str, User]:
    engine = create_engine(f"sqlite:///{path}")
    from sqlalchemy.orm import Session

    with Session(engine) as session:
        users = {u.username: u for u in session.scalars(select(User))}
        for user in users.values():
            _ = user.group_ids
    engine.dispose()
    return users


def test_users_add_with_groups_then_list(sqlite_file: Path) -> None:
    result = runner.invoke(cli, ["users", "add", "olga", "--password", "olga-password", "--groups",
                                 "hunter,closer"])
    assert result.exit_code == 0, result.output
    assert "olga" in result.output and "olga-password" not in result.output
    listed = runner.invoke(cli, ["users", "list"])
    assert listed.exit_code == 0 and "olga\tcloser,hunter" in listed.output
    user = stored_users(sqlite_file)["olga"]
    assert user.password_hash.startswith("$argon2id$") and user.group_ids == ["closer", "hunter"]


def test_users_add_prompts_for_the_password_when_omitted(sqlite_file: Path) -> None:
    result = runner.invoke(cli, ["users", "add", "ivan", "--groups", "closer"],
                           input="ivan-password\nivan-password\n")
    assert result.exit_code == 0, result.output
    assert "ivan-password" not in result.output
    assert stored_users(sqlite_file)["ivan"].password_hash.startswith("$argon2id$")


def test_users_add_refuses_unknown_groups_and_duplicates(sqlite_file: Path) -> None:
    bad = runner.invoke(cli, ["users", "add", "x", "--password", "x-password", "--groups", "pirates"])
    assert bad.exit_code == 1 and "pirates" in bad.output
    runner.invoke(cli, ["users", "add", "y", "--password", "y-password"])
    again = runner.invoke(cli, ["users", "add", "y", "--password", "y-password"])
    assert again.exit_code == 1 and "already exists" in again.output


def test_users_passwd_changes_the_hash_and_revokes_tokens(sqlite_file: Path) -> None:
    runner.invoke(cli, ["users", "add", "olga", "--password", "olga-password"])
    before = stored_users(sqlite_file)["olga"]
    result = runner.invoke(cli, ["users", "passwd", "olga"], input="new-password-1\nnew-password-1\n")
    assert result.exit_code == 0, result.output
    after = stored_users(sqlite_file)["olga"]
    assert after.password_hash != before.password_hash and after.token_epoch == before.token_epoch + 1
    assert runner.invoke(cli, ["users", "passwd", "nobody", "--password", "whatever-1"]).exit_code == 1


def test_demo_creates_one_user_per_role_and_prints_passwords_once(sqlite_file: Path) -> None:
    result = runner.invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    users = stored_users(sqlite_file)
    roles = ["hunter", "closer", "accounting", "account_manager", "head_of_sales", "designer"]
    assert all(users[r].group_ids == [r] for r in roles)
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()[1:]}
    assert set(lines) == set(roles) and all(len(p) >= 12 for p in lines.values())
    again = runner.invoke(cli, ["demo"])
    assert again.exit_code == 0 and "password unchanged" in again.output
    assert stored_users(sqlite_file)["hunter"].password_hash == users["hunter"].password_hash


def test_demo_refuses_a_non_sqlite_database_without_force(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["demo"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "--force" in result.output


def test_users_commands_refuse_a_database_that_is_not_migrated(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VORONKA_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    get_settings.cache_clear()
    try:
        result = runner.invoke(cli, ["users", "list"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "voronka migrate" in result.output
