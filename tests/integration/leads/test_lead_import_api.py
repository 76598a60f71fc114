"""Bulk lead import over HTTP with real CSV and XLSX files: preview and mapping, validation with row and
column, dedupe within the file and against deals, the worker's job, the error report, re-upload."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from app.worker.loop import Worker
from tests.conftest import basic_auth
from tests.factories import add_role_users, password_of
from tests.integration.leads.lead_model import LEAD_MODEL
from tests.integration.leads.lead_tables import HEADERS, csv_bytes, inn_for, lead_rows, xlsx_bytes

pytestmark = pytest.mark.db


def who(user: str) -> dict[str, str]:
    return basic_auth(user, password_of(user))


@pytest.fixture
def desk(client: TestClient, ctx: AppContext) -> TestClient:
    add_role_users(ctx)
    assert client.post("/api/v1/deployments", files={"files": ("leads.bpmn", LEAD_MODEL.encode())}).status_code == 201
    return client


def upload(client: TestClient, data: bytes, name: str = "leads.csv", user: str = "hunter", **form: Any) -> Any:
    fields = {"definition_key": "leads", "source": "cold_call", **form}
    return client.post("/api/v1/lead-imports", headers=who(user), files={"file": (name, io.BytesIO(data))},
                       data=fields)


def run_to_end(ctx: AppContext, client: TestClient, import_id: str, user: str = "hunter") -> dict[str, Any]:
    Worker(ctx, worker_id="test").run_until_idle(max_batches=10_000)
    state = client.get(f"/api/v1/lead-imports/{import_id}", headers=who(user)).json()
    assert state["state"] == "completed", state
    return state


def report(client: TestClient, import_id: str, lang: str = "en", user: str = "hunter") -> list[dict[str, str]]:
    answer = client.get(f"/api/v1/lead-imports/{import_id}/errors.csv?lang={lang}", headers=who(user))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))


def test_5000_rows_with_duplicates_and_invalid_rows_import_exactly_and_a_reupload_imports_nothing(
        desk: TestClient, ctx: AppContext) -> None:
    plan = lead_rows(5000)
    assert (plan.valid, plan.duplicates, plan.invalid) == (4251, 499, 250)
    data = csv_bytes(plan.rows, blank_every=1000)  # five empty rows: skipped, not counted
    created = upload(desk, data)
    assert created.status_code == 202, created.text
    state = run_to_end(ctx, desk, created.json()["id"])
    assert (state["total"], state["done"]) == (5000, 5000)
    assert (state["imported"], state["duplicates"], state["failed"]) == (plan.valid, plan.duplicates, plan.invalid)
    assert len(state["instance_ids"]) == len(set(state["instance_ids"])) == plan.valid
    rows = report(desk, created.json()["id"])
    assert len(rows) == plan.invalid + plan.duplicates
    refused = [r for r in rows if "not a phone number" in r["Error"]]
    assert len(refused) == plan.invalid and all("column “Телефон”" in r["Error"] for r in refused)
    assert [r["Телефон"] for r in refused[:1]] == ["12"]
    assert sum("duplicate of row" in r["Error"] for r in rows) == plan.duplicates

    again = upload(desk, data)
    state = run_to_end(ctx, desk, again.json()["id"])
    assert (state["imported"], state["duplicates"], state["failed"]) == (0, plan.valid + plan.duplicates,
                                                                         plan.invalid)
    deals = desk.get("/api/v1/process-instances?definition_key=leads&limit=1").json()["total"]
    assert deals == plan.valid


def test_windows_1251_csv_with_commas_is_previewed_mapped_and_validated_per_row_and_column(
        desk: TestClient, ctx: AppContext) -> None:
    headers = ["Организация", "ИНН", "ФИО", "Тел.", "Почта", "Сегмент", "Примечание", "Лишнее"]
    rows = [
        ["ООО «Ёлка»", inn_for(1), "Иван", "8 (916) 111-22-33", "Ivan@Example.RU", "Малый бизнес", "тёплый", "x"],
        ["", "", "Пётр", "+79161112234", "", "smb", "", ""],  # row 3: no company
        ["АО Берёза", "1234567890", "Анна", "+79161112235", "", "smb", "", ""],  # row 4: bad INN
        ["ИП Сосна", "", "Олег", "+79161112236", "not-an-email", "smb", "", ""],  # row 5: bad e-mail
        ["Дуб", "", "Ян", "+79161112237", "", "Гигант", "", ""],  # row 6: unknown segment
        ["Ёлка", "", "Мария", "+7 916 999-00-00", "", "smb", "", ""],  # row 7: same company as row 2
    ]
    data = csv_bytes(rows, delimiter=",", encoding="cp1251", headers=headers)
    preview = upload(desk, data, preview="true")
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["columns"] == headers and body["total"] == 6
    assert body["mapping"] == {"Организация": "company", "ИНН": "inn", "ФИО": "contact", "Тел.": "contact_phone",
                               "Почта": "contact_email", "Сегмент": "segment", "Примечание": "comment"}
    assert body["rows"][0]["Организация"] == "ООО «Ёлка»" and body["rows"][0]["_row"] == 2
    assert desk.get("/api/v1/process-instances?definition_key=leads").json()["total"] == 0

    mapping = {**body["mapping"], "Примечание": ""}  # the user drops the comment column
    created = upload(desk, data, mapping=json.dumps(mapping, ensure_ascii=False), on_duplicate="skip")
    state = run_to_end(ctx, desk, created.json()["id"])
    assert (state["imported"], state["duplicates"], state["failed"]) == (1, 1, 4)
    deal = desk.get(f"/api/v1/process-instances/{state['instance_ids'][0]}").json()
    assert deal["business_key"] == "ООО «Ёлка»"
    assert deal["variables"]["contact_phone"] == "+79161112233"
    assert deal["variables"]["contact_email"] == "ivan@example.ru"
    assert deal["variables"]["source"] == "cold_call" and "comment" not in deal["variables"]
    assert deal["tasks"][0]["assignee"] == "hunter"
    reasons = {r["Row"]: r["Error"] for r in report(desk, created.json()["id"])}
    assert reasons["3"] == "row 3, column “Организация”: fill in this column"
    assert "column “ИНН”" in reasons["4"] and "not a valid INN" in reasons["4"]
    assert "column “Почта”" in reasons["5"] and "e-mail" in reasons["5"]
    assert "column “Сегмент”" in reasons["6"] and "Малый бизнес" in reasons["6"]
    assert "duplicate of row 2" in reasons["7"] and "company" in reasons["7"]
    ru = {r["Строка"]: r["Ошибка"] for r in report(desk, created.json()["id"], lang="ru")}
    assert ru["3"] == "строка 3, колонка «Организация»: заполните эту колонку"


def test_xlsx_duplicates_of_existing_deals_are_noted_and_leads_go_round_robin(
        desk: TestClient, ctx: AppContext) -> None:
    from app.auth.actor import SYSTEM
    from app.services import identity

    identity.create_user(ctx, actor=SYSTEM, username="hunter2", password=password_of("hunter2"), groups=["hunter"])
    existing = desk.post("/api/v1/process-instances", json={"definition_key": "leads", "business_key": "Старый",
                                                           "variables": {"source": "exhibition", "company": "Старый",
                                                                         "segment": "smb", "inn": inn_for(42)}})
    assert existing.status_code == 201
    rows = [[f"Новый {n}", "", "Контакт", f"+7916555000{n}", "", "smb", ""] for n in range(4)]
    rows.append(["ООО «СТАРЫЙ»", "", "Кто-то", "", "", "smb", "звонил снова"])  # company matches, legal form aside
    rows.append(["Другое имя", inn_for(42), "", "", "", "smb", ""])  # INN matches
    created = upload(desk, xlsx_bytes(rows, headers=HEADERS), name="лиды.xlsx", user="head_of_sales",
                     on_duplicate="note", assignment="round_robin")
    assert created.status_code == 202, created.text
    state = run_to_end(ctx, desk, created.json()["id"], user="head_of_sales")
    assert (state["imported"], state["duplicates"], state["failed"]) == (4, 2, 0)
    assignees = [desk.get(f"/api/v1/process-instances/{i}").json()["tasks"][0]["assignee"]
                 for i in state["instance_ids"]]
    assert assignees == ["hunter", "hunter2", "hunter", "hunter2"]
    history = desk.get(f"/api/v1/process-instances/{existing.json()['id']}/history").json()["items"]
    notes = [e["data"] for e in history if e["kind"] == "note_added"]
    assert [n["lead"]["company"] for n in notes] == ["ООО «СТАРЫЙ»", "Другое имя"]
    assert notes[0]["lead"]["comment"] == "звонил снова" and notes[0]["row"] == 6
    assert report(desk, created.json()["id"], user="head_of_sales") == []
    # The hunter does not see the head of sales' import.
    assert desk.get(f"/api/v1/lead-imports/{created.json()['id']}", headers=who("hunter")).status_code == 404


def test_bad_imports_are_refused_with_reasons_and_other_roles_may_not_import(desk: TestClient) -> None:
    assert upload(desk, csv_bytes([]), user="closer").status_code == 403
    assert upload(desk, b"").status_code == 400
    bad_xlsx = upload(desk, b"PK\x03\x04broken", name="x.xlsx")
    assert bad_xlsx.status_code == 400 and "workbook" in bad_xlsx.json()["detail"]
    no_headers = upload(desk, b"\r\n\r\n;;\r\n")
    assert no_headers.status_code == 400 and "header" in no_headers.json()["detail"]
    wrong = upload(desk, csv_bytes([]), mapping=json.dumps({"Нет такой": "company"}))
    assert wrong.status_code == 400 and "Нет такой" in wrong.json()["detail"]
    not_json = upload(desk, csv_bytes([]), mapping="{oops")
    assert not_json.status_code == 400 and "mapping" in not_json.json()["detail"]
    unmapped = upload(desk, csv_bytes([]), mapping=json.dumps({"Компания": "company"}))
    assert unmapped.status_code == 400 and "segment" in unmapped.json()["detail"]
    assert upload(desk, csv_bytes([]), on_duplicate="merge").status_code == 400
    assert upload(desk, csv_bytes([]), definition_key="nope").status_code == 404
    assert desk.get("/api/v1/lead-imports/nope", headers=who("hunter")).status_code == 404


def test_a_cancelled_import_stops_and_keeps_what_it_imported(desk: TestClient, ctx: AppContext) -> None:
    created = upload(desk, csv_bytes(lead_rows(30).rows)).json()
    cancelled = desk.post(f"/api/v1/lead-imports/{created['id']}/cancel", headers=who("hunter"))
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    Worker(ctx, worker_id="test").run_until_idle()
    state = desk.get(f"/api/v1/lead-imports/{created['id']}", headers=who("hunter")).json()
    assert state["state"] == "cancelled" and state["done"] == 0
    assert desk.post(f"/api/v1/lead-imports/{created['id']}/cancel", headers=who("hunter")).status_code == 409
