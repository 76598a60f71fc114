"""The regulation change in a real browser: the head of sales finds the draft in her inbox, reads the diff on both
diagrams, approves; the admin moves the running deals and watches the progress bar reach 100 %. Screenshots go to
docs/img/ (docs/regulation.md shows them)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.auth.actor import SYSTEM
from app.main import create_app, prepare_database
from app.services import deployments, instances
from app.services.context import AppContext
from app.settings import Settings
from tests.conftest import LiveServer
from tests.ui_support import BPMN_DIR, PASSWORD, add_users, sales_files, start_lead

pytestmark = pytest.mark.e2e
DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
DEALS = 40
# The next regulation: a renamed task, a task handed to another role, a shorter payment deadline.
CHANGES = [('name="Подготовить договор"', 'name="Подготовить договор по шаблону"'),
           ('id="Task_ChooseTerms" name="Выбрать условия сотрудничества" camunda:candidateGroups="closer"',
            'id="Task_ChooseTerms" name="Выбрать условия сотрудничества" camunda:candidateGroups="head_of_sales"'),
           (">P14D<", ">P10D<")]


def next_regulation() -> bytes:
    xml = (BPMN_DIR / "sales_deal.bpmn").read_text(encoding="utf-8")
    for old, new in CHANGES:
        assert old in xml, f"bpmn/sales_deal.bpmn changed: update CHANGES in this test ({old})"
        xml = xml.replace(old, new)
    return xml.encode()


def sign_in(browser: Any, url: str, username: str) -> Any:
    context = browser.new_context(base_url=url, locale="ru-RU", timezone_id="Europe/Moscow",
                                  viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.goto("/ui/login")
    page.get_by_label("Имя пользователя").fill(username)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/ui/inbox"))
    return page


def keep(page: Any, artifacts: Path, name: str) -> None:
    shot = artifacts / name
    page.screenshot(path=str(shot), full_page=True)
    DOCS_IMG.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, DOCS_IMG / name)


def test_head_of_sales_approves_and_admin_moves_running_deals(browser: Any, sqlite_template: Path,
                                                              tmp_path: Path, artifacts: Path) -> None:
    path = tmp_path / "voronka.db"
    shutil.copy(sqlite_template, path)
    ctx = AppContext(Settings(database_url=f"sqlite:///{path}", bootstrap_admin="admin:admin-secret",
                              embedded_worker=True, worker_poll_seconds=0.2, worker_batch_size=5,
                              fast_password_hashing=True, _env_file=None))
    prepare_database(ctx)
    add_users(ctx, {"boss": ["head_of_sales"], "root": ["admin"]})
    deployments.deploy(ctx, files=sales_files(), actor=SYSTEM)
    ids = [start_lead(ctx, f"ООО Клиент {n}") for n in range(DEALS)]
    files = [(name, next_regulation() if name == "sales_deal.bpmn" else data) for name, data in sales_files()]
    deployments.deploy(ctx, files=files, actor=SYSTEM)
    try:
        with LiveServer(create_app(context=ctx)) as server:
            page = sign_in(browser, server.url, "boss")
            page.get_by_role("link", name=re.compile("версия 2")).click()
            page.wait_for_url(re.compile(r"/ui/models/sales_deal/diff"))
            page.get_by_role("heading", name="Что изменилось").wait_for()
            page.locator("figure.diff-diagram[data-state='ready']").nth(1).wait_for()
            assert page.locator(".v-active").count() == 2 * len(CHANGES)  # marked on both diagrams
            assert page.get_by_text("P14D → P10D").count() == 1
            keep(page, artifacts, "regulation-diff.png")
            page.get_by_label("Комментарий").fill("Согласовано на планёрке")
            page.get_by_role("button", name="Согласовать", exact=True).click()
            page.locator(".flash", has_text="Версия 2 согласована").wait_for()
            page.context.close()

            page = sign_in(browser, server.url, "root")
            page.goto("/ui/models/sales_deal/diff?to=2")
            page.get_by_role("link", name="Перевести сделки в работе на версию 2").click()
            page.get_by_role("button", name=f"Перевести {DEALS}").click()
            page.wait_for_url(re.compile(r"/ui/migrations/"))
            page.get_by_text("Готово.").wait_for()
            assert page.locator("[data-percent]").inner_text() == "100"
            assert page.locator("[data-done]").inner_text() == str(DEALS)
            keep(page, artifacts, "regulation-migration.png")
            page.context.close()
    finally:
        ctx.close()
    versions = {instances.get_instance(ctx, actor=SYSTEM, instance_id=i).definition_version for i in ids}
    assert versions == {2}
