"""Browser tests: a real uvicorn server on 127.0.0.1 and Debian's Chromium driven by Playwright.

Never a downloaded browser: Chromium comes from apt (`/usr/bin/chromium`, installed by `.ci/run`). In CI (env CI
set) a missing browser or Playwright fails the run; on a developer's machine the tests skip and say why.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.auth.actor import SYSTEM
from app.main import create_app, prepare_database
from app.services import deployments
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import LiveServer
from tests.ui_support import add_users, sales_files

CHROMIUM = Path(os.environ.get("VORONKA_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).parent / "artifacts"
VENDOR_BUNDLE = Path(__file__).resolve().parents[2] / "app" / "ui" / "static" / "vendor" / "bpmn-viewer.js"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it: see .ci/run)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("the Python package playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.exists():
        _unavailable(f"no Chromium at {CHROMIUM}: apt-get install -y chromium")
    if not VENDOR_BUNDLE.exists():
        _unavailable("the diagram viewer bundle is missing: run `make ui`")
    with sync_playwright() as api:
        yield api


@pytest.fixture(scope="session")
def browser(playwright_api: Any) -> Iterator[Any]:
    browser = playwright_api.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
    yield browser
    browser.close()


@dataclass
class SalesServer:
    ctx: AppContext
    url: str


@pytest.fixture
def sales_server(sqlite_template: Path, tmp_path: Path) -> Iterator[SalesServer]:
    """uvicorn serving the whole app on a free loopback port, on its own SQLite database with a user per role
    and the shipped sales models."""
    path = tmp_path / "voronka.db"
    shutil.copy(sqlite_template, path)
    settings = Settings(database_url=f"sqlite:///{path}", bootstrap_admin="admin:admin-secret",
                        embedded_worker=False, fast_password_hashing=True, files_dir=tmp_path / "files",
                        _env_file=None)
    ctx = AppContext(settings)
    prepare_database(ctx)
    add_users(ctx)
    deployments.deploy(ctx, files=sales_files(), actor=SYSTEM)
    with LiveServer(create_app(context=ctx)) as server:
        yield SalesServer(ctx, server.url)
    ctx.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
