"""The funnel page in a real browser as the head of sales: charts drawn, the diagram's heatmap shown; the
screenshot goes to tests/e2e/artifacts/ and docs/img/ (docs/analytics.md shows it)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.main import create_app, prepare_database
from app.services.context import AppContext
from app.settings import Settings
from tests.clock import controlled_clock
from tests.conftest import LiveServer
from tests.factories import password_of
from tests.integration.analytics.world import T0, add_people, build_known_history

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"


def test_the_head_of_sales_opens_the_funnel_page(browser: Any, sqlite_template: Path, tmp_path: Path,
                                                 artifacts: Path) -> None:
    path = tmp_path / "voronka.db"
    shutil.copy(sqlite_template, path)
    ctx = AppContext(Settings(database_url=f"sqlite:///{path}", bootstrap_admin="admin:admin-secret",
                              embedded_worker=False, fast_password_hashing=True, _env_file=None))
    prepare_database(ctx)
    add_people(ctx)
    with controlled_clock(T0) as clock:
        build_known_history(ctx, clock)
    try:
        with LiveServer(create_app(context=ctx)) as server:
            context = browser.new_context(base_url=server.url, locale="ru-RU", timezone_id="Europe/Moscow",
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            page = context.new_page()
            page.goto("/ui/login")
            page.get_by_label("Имя пользователя").fill("boss")
            page.get_by_label("Пароль").fill(password_of("boss"))
            page.get_by_role("button", name="Войти").click()
            page.wait_for_url(re.compile(r"/ui/inbox"))
            page.get_by_role("link", name="Воронка", exact=True).click()
            page.wait_for_url(re.compile(r"/ui/analytics"))
            page.get_by_role("heading", name="Воронка продаж").wait_for()
            assert page.locator(".funnel-bar").count() == 9
            page.locator("figure.diagram[data-state='ready']").wait_for()
            assert page.locator(".v-heat-5").count() >= 1  # the slowest task is marked on the diagram
            assert page.locator(".heat-label").count() >= 10
            assert page.get_by_role("link", name="Причины отказов").get_attribute("href").startswith(
                "/api/v1/analytics/funnel.csv")
            shot = artifacts / "funnel.png"
            page.screenshot(path=str(shot), full_page=True)
            DOCS_IMG.mkdir(parents=True, exist_ok=True)
            shutil.copy(shot, DOCS_IMG / "analytics-funnel.png")
            context.close()
    finally:
        ctx.close()
