"""In a real browser: a hunter imports an XLSX, maps a column, watches the progress bar reach 100 % and downloads
the error report; a closer attaches the signed contract to the task and the head of sales sees it on the deal.
Screenshots go to tests/e2e/artifacts/ and, with VORONKA_DOC_IMAGES=1, to docs/img/ (docs/leads.md,
docs/documents.md)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from app.auth.actor import Actor
from app.services import instances, tasks
from app.worker.loop import WorkerThread
from tests.e2e.test_sales_inbox_in_browser import sign_in
from tests.integration.leads.test_documents_api import tiny_pdf
from tests.ui_support import HUNTER, start_lead, work_hunter_steps

pytestmark = pytest.mark.e2e
DOC_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
CLOSER = Actor("closer", frozenset({"closer"}))
BOSS = Actor("boss", frozenset({"head_of_sales"}))


def keep(page: Any, artifacts: Path, name: str) -> None:
    shot = artifacts / name
    page.screenshot(path=str(shot), full_page=True)
    if os.environ.get("VORONKA_DOC_IMAGES") == "1":
        shutil.copyfile(shot, DOC_IMAGES / name)


def test_a_hunter_imports_an_xlsx_maps_a_column_and_downloads_the_error_report(
        browser: Any, sales_server: Any, artifacts: Path, tmp_path: Path) -> None:
    from tests.integration.leads.lead_tables import xlsx_bytes

    headers = ["Название", "ИНН", "Контакт", "Телефон", "E-mail", "Сегмент", "Комментарий"]
    rows = [[f"ООО «Клиент {n}»", "", f"Контакт {n}", f"+7 916 200-00-{n:02d}", f"c{n}@example.ru",
             "Малый бизнес", ""] for n in range(40)]
    rows[5][3] = "12-34"  # not a phone
    rows[9][4] = "почта@"  # not an e-mail
    rows[20] = list(rows[3])  # the same lead twice
    sheet = tmp_path / "лиды с выставки.xlsx"
    sheet.write_bytes(xlsx_bytes(rows, headers=headers))
    worker = WorkerThread(sales_server.ctx, worker_id="browser-test")
    worker.start()
    try:
        page = sign_in(browser, sales_server.url, "hunter")
        page.get_by_role("link", name="Лиды").click()
        page.get_by_label("Файл").set_input_files(str(sheet))
        page.get_by_role("button", name="Предпросмотр").click()
        assert page.get_by_role("heading", name="Проверьте колонки").is_visible()
        # "Название" is not a known header: the hunter maps it to the company by hand.
        page.get_by_label("Поле для колонки Название").select_option("company")
        page.get_by_label("Источник лида для строк без источника").select_option("exhibition")
        keep(page, artifacts, "leads-mapping.png")
        page.get_by_role("button", name="Импортировать").click()
        page.wait_for_url(re.compile(r"/ui/leads/imports/"))
        page.wait_for_function("document.getElementById('import-bar').value === 100", timeout=60_000)
        page.get_by_text("импорт завершён").wait_for()
        assert page.locator('[data-count="imported"]').inner_text() == "37"
        assert page.locator('[data-count="failed"]').inner_text() == "2"
        keep(page, artifacts, "leads-progress.png")
        page.reload()  # the numbers live on the server
        assert page.locator("#import-bar").get_attribute("value") == "100"
        with page.expect_download() as download:
            page.get_by_role("link", name="Скачать отчёт об ошибках (CSV)").click()
        report = Path(download.value.path()).read_bytes().decode("utf-8-sig")
        assert "строка 7, колонка «Телефон»" in report and "строка 11, колонка «E-mail»" in report
        assert "дубль строки 5" in report
        page.context.close()
    finally:
        worker.stop()


def work(ctx: Any, deal: str, element_id: str, actor: Actor, **variables: Any) -> None:
    task = next(t for t in instances.get_instance(ctx, actor=actor, instance_id=deal).open_tasks
                if t.element_id == element_id)
    tasks.claim_task(ctx, actor=actor, task_id=task.id)
    tasks.complete_task(ctx, actor=actor, task_id=task.id, variables=variables)


def test_a_closer_attaches_the_signed_contract_and_the_head_of_sales_sees_it_on_the_deal(
        browser: Any, sales_server: Any, artifacts: Path, tmp_path: Path) -> None:
    ctx = sales_server.ctx
    deal = start_lead(ctx, "ООО «Документы»")
    work_hunter_steps(ctx, deal)
    work(ctx, deal, "Task_Negotiate", CLOSER, decision="agreed")
    work(ctx, deal, "Task_CalculatePrice", CLOSER, deal_amount=900_000, price_calculation="Цена минус 5 %")
    work(ctx, deal, "Task_ChooseTerms", CLOSER, payment_terms="partial_prepayment", delivery_terms="30 дней")
    work(ctx, deal, "Task_DraftContract", CLOSER, contract_number="Д-17")
    work(ctx, deal, "Task_ApproveContract", BOSS, contract_approved=True)
    scan = tmp_path / "Договор Д-17 (скан).pdf"
    scan.write_bytes(tiny_pdf())

    closer = sign_in(browser, sales_server.url, "closer")
    closer.get_by_role("link", name=re.compile("Подписать договор")).first.click()
    closer.get_by_label("Скан подписанного договора").set_input_files(str(scan))
    closer.locator(".previews figcaption").get_by_text("Договор Д-17 (скан).pdf").wait_for()
    closer.get_by_label("Дата подписания").fill("2030-06-03")
    keep(closer, artifacts, "documents-task.png")
    closer.get_by_role("button", name="Завершить").click()
    closer.wait_for_url(re.compile(r"/ui/inbox"))
    closer.context.close()

    boss = sign_in(browser, sales_server.url, "boss")
    boss.goto(f"/ui/deals/{deal}")
    documents = boss.locator("#documents")
    documents.get_by_role("link", name="Договор Д-17 (скан).pdf").wait_for()
    assert "Подписать договор с клиентом" in documents.inner_text()
    keep(boss, artifacts, "documents-deal.png")
    with boss.expect_download() as download:
        documents.get_by_role("link", name="Договор Д-17 (скан).pdf").click()
    assert Path(download.value.path()).read_bytes() == tiny_pdf()
    assert instances.get_instance(ctx, actor=HUNTER, instance_id=deal).instance.variables["contract_scan"]
    boss.context.close()
