"""A deal worked in a real browser: hunter starts and qualifies a lead, the closer gets the deal, accounting is kept
out, the deal's diagram highlights the waiting task, and the language switches both ways."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from app.auth.actor import SYSTEM
from app.db.base import utcnow
from app.db.models import Task
from app.services.instances import get_instance
from tests.ui_support import HUNTER, PASSWORD, start_lead, work_hunter_steps

pytestmark = pytest.mark.e2e


def sign_in(browser: Any, base_url: str, username: str, *, width: int = 1280) -> Any:
    context = browser.new_context(base_url=base_url, locale="ru-RU", timezone_id="Europe/Moscow",
                                  viewport={"width": width, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/ui/")
    assert "/ui/login" in page.url
    page.get_by_label("Имя пользователя").fill(username)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(re.compile(r"/ui/inbox"))
    return page


def seed_closer_work(server: Any) -> None:
    """Other deals already with the closer, one overdue and one urgent, so the inbox looks like a working day."""
    ids = []
    for company in ("ООО «Северный ветер»", "АО «Техносфера»", "ИП Смирнова"):
        instance_id = start_lead(server.ctx, company)
        work_hunter_steps(server.ctx, instance_id)
        ids.append(instance_id)
    with server.ctx.db.transaction() as session:
        session.execute(update(Task).where(Task.instance_id == ids[0], Task.state == "open")
                        .values(due_at=utcnow() - timedelta(hours=5)))
        session.execute(update(Task).where(Task.instance_id == ids[1], Task.state == "open")
                        .values(priority=80, due_at=utcnow() + timedelta(days=2)))


def test_a_lead_goes_from_the_hunter_to_the_closer_through_the_pages(browser: Any, sales_server: Any,
                                                                      artifacts: Path) -> None:
    seed_closer_work(sales_server)

    # The hunter starts a lead from the start form and lands on its qualification.
    hunter = sign_in(browser, sales_server.url, "hunter")
    hunter.get_by_role("link", name="Запустить процесс").click()
    hunter.get_by_role("link", name=re.compile("Сделка")).first.click()
    hunter.get_by_label("Источник лида").select_option("exhibition")
    hunter.get_by_label("Компания").fill("ООО «Ромашка»")
    hunter.get_by_label("Контактное лицо").fill("Иван Сидоров")
    hunter.get_by_label("Сегмент").select_option("smb")
    hunter.get_by_role("button", name="Запустить").click()
    hunter.wait_for_url(re.compile(r"/ui/tasks/"))
    assert hunter.get_by_role("heading", name="Квалифицировать лид").is_visible()
    qualify_url = hunter.url

    # A chance of 150 % is refused by the browser first (the model says max 100) ...
    hunter.get_by_label("Категория клиента").select_option("a")
    hunter.get_by_label("Перспективность").select_option("high")
    chance = hunter.locator("#f-chance")
    chance.fill("150")
    hunter.get_by_role("button", name="Завершить").click()
    assert chance.evaluate("e => e.validity.rangeOverflow") is True
    assert hunter.url == qualify_url
    # ... and by the server, which shows the problem next to the field.
    hunter.locator("#task-form").evaluate("f => { f.noValidate = true; }")
    hunter.get_by_role("button", name="Завершить").click()
    error = hunter.locator("#f-chance-error")
    error.wait_for()
    assert "не больше 100" in error.inner_text()
    assert hunter.locator("#f-chance").get_attribute("aria-invalid") == "true"
    hunter.locator("figure[data-state='ready']").wait_for()
    hunter.screenshot(path=str(artifacts / "task.png"), full_page=True)

    hunter.locator("#f-chance").fill("70")
    hunter.get_by_role("button", name="Завершить").click()
    hunter.wait_for_url(re.compile(r"/ui/inbox"))
    assert "Готово" in hunter.locator(".flash").inner_text()

    # The rest of the hunter's steps (their forms are exercised by the page tests) bring the deal to the closer.
    deal_id = _deal_of(sales_server, "ООО «Ромашка»")
    work_hunter_steps(sales_server.ctx, deal_id)
    view = get_instance(sales_server.ctx, actor=SYSTEM, instance_id=deal_id)
    (negotiate,) = view.open_tasks
    assert negotiate.element_id == "Task_Negotiate"

    # The closer sees the task in the inbox and takes it from the list; the hunter no longer sees it.
    closer = sign_in(browser, sales_server.url, "closer")
    row = closer.locator(f"li[data-task-id='{negotiate.id}']")
    assert row.is_visible()
    assert closer.locator("li.task.overdue").count() == 1
    closer.screenshot(path=str(artifacts / "inbox.png"), full_page=True)
    row.get_by_role("button", name="Взять").click()
    closer.wait_for_url(re.compile(r"/ui/inbox"))
    taken = closer.locator(f"li[data-task-id='{negotiate.id}']")
    assert taken.get_by_role("button", name="Вернуть в группу").is_visible()

    hunter.goto("/ui/inbox")
    assert hunter.locator(f"li[data-task-id='{negotiate.id}']").count() == 0

    # Accounting cannot open the closer's task.
    accountant = sign_in(browser, sales_server.url, "accountant")
    response = accountant.goto(f"/ui/tasks/{negotiate.id}")
    assert response is not None and response.status == 404
    assert accountant.get_by_role("heading", name="Не найдено").is_visible()

    # The deal's page draws the diagram with the waiting task highlighted and the passed steps marked.
    closer.goto(f"/ui/deals/{deal_id}")
    closer.locator("figure[data-state='ready']").wait_for()
    assert closer.locator("g.djs-element.v-active[data-element-id='Task_Negotiate']").count() == 1
    assert closer.locator("g.djs-element.v-done[data-element-id='Task_QualifyLead']").count() == 1
    closer.screenshot(path=str(artifacts / "instance.png"), full_page=True)

    # English and back.
    closer.get_by_role("button", name="EN").click()
    closer.wait_for_load_state()
    assert closer.locator("html").get_attribute("lang") == "en"
    assert closer.get_by_role("heading", name="History").is_visible()
    closer.get_by_role("button", name="RU").click()
    closer.wait_for_load_state()
    assert closer.locator("html").get_attribute("lang") == "ru"
    assert closer.get_by_role("heading", name="История").is_visible()


def test_the_inbox_fits_a_phone_and_refreshes_itself(browser: Any, sales_server: Any, artifacts: Path) -> None:
    page = sign_in(browser, sales_server.url, "hunter", width=390)
    assert page.locator("li.task").count() == 0
    start_lead(sales_server.ctx, "ООО «Новый лид»")
    # The page polls every few seconds and redraws its list when it changed.
    page.locator("li.task").first.wait_for(timeout=20_000)
    assert "Квалифицировать лид" in page.locator("li.task").first.inner_text()
    assert page.locator("[data-count='groups']").inner_text() == "1"
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "nothing may stick out sideways at phone width"
    page.screenshot(path=str(artifacts / "inbox-phone.png"), full_page=True)

    # Keyboard only: tab to the task's link and open it.
    link = page.locator("a.task-name").first
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/ui/tasks/"))


def _deal_of(server: Any, business_key: str) -> str:
    from app.services.instances import list_instances

    views, _ = list_instances(server.ctx, actor=HUNTER, business_key=business_key)
    assert len(views) == 1
    return views[0].instance.id
