"""The lead import pages: upload, preview with the proposed mapping, change it, run, progress, report."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.context import AppContext
from app.worker.loop import Worker
from tests.integration.leads.lead_tables import HEADERS, xlsx_bytes
from tests.ui_support import csrf_of, sign_in

pytestmark = pytest.mark.db


def test_a_hunter_previews_maps_and_runs_an_xlsx_import(pages: Any, sales: AppContext) -> None:
    rows = [["ООО Альфа", "", "Иван", "+79160000001", "", "Малый бизнес", "x"],
            ["ООО Бета", "", "Пётр", "123", "", "smb", ""]]
    sign_in(pages, "hunter")
    page = pages.get("/ui/leads")
    assert page.status_code == 200 and 'action="/ui/leads/preview"' in page.text
    preview = pages.post("/ui/leads/preview", data={"csrf_token": csrf_of(page.text), "definition_key": "sales_deal"},
                         files={"file": ("лиды.xlsx", xlsx_bytes(rows, headers=HEADERS))})
    assert preview.status_code == 200, preview.text
    assert 'name="map:Телефон"' in preview.text and "ООО Альфа" in preview.text
    token = preview.text.split('name="file_token" value="')[1].split('"')[0]
    mapping = {"map:Компания": "company", "map:Контакт": "contact", "map:Телефон": "contact_phone",
               "map:Сегмент": "segment", "map:Комментарий": ""}
    started = pages.post("/ui/leads/imports", data={"csrf_token": csrf_of(preview.text), "file_token": token,
                                                    "definition_key": "sales_deal", "source": "exhibition",
                                                    "on_duplicate": "skip", "assignment": "importer", **mapping})
    assert started.status_code == 303, started.text
    progress_url = started.headers["location"]
    Worker(sales, worker_id="test").run_until_idle()
    shown = pages.get(progress_url)
    assert shown.status_code == 200 and 'id="import-bar"' in shown.text
    numbers = pages.get(progress_url + "/progress.json").json()
    assert (numbers["percent"], numbers["imported"], numbers["failed"], numbers["final"]) == (100, 1, 1, True)
    report = pages.get(f"/api/v1/lead-imports/{progress_url.rsplit('/', 1)[1]}/errors.csv?lang=ru")
    assert "строка 3, колонка «Телефон»" in report.content.decode("utf-8-sig")
    forged = pages.post("/ui/leads/imports", data={"csrf_token": csrf_of(shown.text), "file_token": token + "0",
                                                   "definition_key": "sales_deal", **mapping})
    assert forged.status_code == 400


def test_a_closer_has_no_import_page(pages: Any, sales: AppContext) -> None:
    sign_in(pages, "closer")
    assert pages.get("/ui/leads").status_code == 403
    assert "/ui/leads" not in pages.get("/ui/inbox").text
