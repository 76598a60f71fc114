"""Documents over HTTP: attach to a task's file field, download the original bytes, limits, names, roles."""

from __future__ import annotations

import io
import zlib

import pytest
from fastapi.testclient import TestClient

from app.services.context import AppContext
from tests.conftest import basic_auth
from tests.factories import add_role_users, definitions, password_of

pytestmark = pytest.mark.db

PROPOSAL_MODEL = definitions("""
  <bpmn:process id="papers" name="Бумаги" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Task_Proposal" name="Отправить КП" camunda:candidateGroups="closer">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="proposal" label="КП" type="file" />
          <camunda:formField id="note" label="Заметка" type="string" />
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Task_Check" name="Проверить" camunda:candidateGroups="head_of_sales" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Task_Proposal" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Proposal" targetRef="Task_Check" />
    <bpmn:sequenceFlow id="F3" sourceRef="Task_Check" targetRef="EndEvent_1" />
  </bpmn:process>""")


def tiny_pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def tiny_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
    header = (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0])
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + \
        chunk(b"IEND", b"")


def who(user: str) -> dict[str, str]:
    return basic_auth(user, password_of(user))


@pytest.fixture
def deal(client: TestClient, ctx: AppContext) -> tuple[str, str]:
    add_role_users(ctx)
    deployed = client.post("/api/v1/deployments", files={"files": ("papers.bpmn", PROPOSAL_MODEL.encode())})
    assert deployed.status_code == 201, deployed.text
    started = client.post("/api/v1/process-instances", json={"definition_key": "papers", "business_key": "ООО Ромашка"})
    assert started.status_code == 201, started.text
    instance = started.json()
    return instance["id"], instance["tasks"][0]["id"]


def attach(client: TestClient, instance_id: str, name: str, data: bytes, user: str = "closer",
           **form: str) -> object:
    return client.post(f"/api/v1/process-instances/{instance_id}/documents", headers=who(user),
                       files={"file": (name, io.BytesIO(data))}, data=form)


def test_closer_attaches_a_proposal_and_the_head_of_sales_downloads_the_original_bytes(
        client: TestClient, deal: tuple[str, str]) -> None:
    instance_id, task_id = deal
    pdf = tiny_pdf()
    answer = attach(client, instance_id, "КП для Ромашки.pdf", pdf, task_id=task_id, field="proposal")
    assert answer.status_code == 201, answer.text
    doc = answer.json()
    assert (doc["name"], doc["size"], doc["content_type"]) == ("КП для Ромашки.pdf", len(pdf), "application/pdf")
    png = attach(client, instance_id, "схема.png", tiny_png(), task_id=task_id, field="proposal").json()
    assert png["content_type"] == "image/png"

    done = client.post(f"/api/v1/tasks/{task_id}/complete", headers=who("closer"),
                       json={"variables": {"note": "ok", "proposal": "forged"}})
    assert done.status_code == 200, done.text
    listed = client.get(f"/api/v1/process-instances/{instance_id}/documents", headers=who("head_of_sales")).json()
    assert [(d["name"], d["task_name"], d["field"]) for d in listed["items"]] == [
        ("КП для Ромашки.pdf", "Отправить КП", "proposal"), ("схема.png", "Отправить КП", "proposal")]
    got = client.get(f"/api/v1/documents/{doc['id']}", headers=who("head_of_sales"))
    assert got.status_code == 200 and got.content == pdf
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%D0%9A%D0%9F" in got.headers["content-disposition"]
    variables = client.get(f"/api/v1/process-instances/{instance_id}").json()["variables"]
    assert [f["document_id"] for f in variables["proposal"]] == [doc["id"], png["id"]]
    camunda = client.get(f"/engine-rest/process-instance/{instance_id}/variables/proposal")
    assert camunda.json()["type"] == "File" and camunda.json()["valueInfo"]["filename"] == "схема.png"
    data = client.get(f"/engine-rest/process-instance/{instance_id}/variables/proposal/data")
    assert data.status_code == 200 and data.content == tiny_png()
    assert client.get(f"/engine-rest/process-instance/{instance_id}/variables/note/data").status_code == 404


def test_the_same_bytes_are_stored_once(client: TestClient, ctx: AppContext, deal: tuple[str, str]) -> None:
    instance_id, _ = deal
    first = attach(client, instance_id, "a.pdf", tiny_pdf(), user="admin_2").json()
    second = attach(client, instance_id, "b.pdf", tiny_pdf(), user="admin_2").json()
    assert first["sha256"] == second["sha256"] and first["id"] != second["id"]
    stored = [p for p in ctx.settings.files_dir.rglob("*") if p.is_file()]
    assert [p.name for p in stored] == [first["sha256"]]


def test_a_file_over_the_limit_is_413_and_nothing_is_kept(client: TestClient, ctx: AppContext,
                                                          deal: tuple[str, str]) -> None:
    instance_id, task_id = deal
    ctx.settings.max_document_bytes = 1000
    answer = attach(client, instance_id, "big.pdf", tiny_pdf() + b" " * 1000, task_id=task_id)
    assert answer.status_code == 413, answer.text
    assert "1000 bytes" in answer.json()["detail"]
    assert client.get(f"/api/v1/process-instances/{instance_id}/documents").json()["total"] == 0
    assert not [p for p in ctx.settings.files_dir.rglob("*") if p.is_file()]


def test_a_path_traversal_name_is_kept_as_a_plain_name(client: TestClient, ctx: AppContext,
                                                       deal: tuple[str, str]) -> None:
    instance_id, _ = deal
    answer = attach(client, instance_id, "../../etc/\x07passwd\r\n.pdf", tiny_pdf(), user="admin_2")
    assert answer.status_code == 201, answer.text
    assert answer.json()["name"] == "passwd.pdf"
    got = client.get(f"/api/v1/documents/{answer.json()['id']}")
    assert 'filename="passwd.pdf"' in got.headers["content-disposition"]
    assert not (ctx.settings.files_dir.parent / "etc").exists()


def test_an_html_file_is_served_as_an_attachment_never_as_a_page(client: TestClient,
                                                                 deal: tuple[str, str]) -> None:
    instance_id, _ = deal
    page = b"<html><body><script>alert(document.cookie)</script></body></html>"
    answer = attach(client, instance_id, "invoice.pdf", page, user="admin_2")
    assert answer.status_code == 201 and answer.json()["content_type"] == "text/html"
    got = client.get(f"/api/v1/documents/{answer.json()['id']}")
    assert got.content == page
    assert got.headers["content-disposition"].startswith("attachment;")
    assert got.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in got.headers["content-security-policy"]


def test_a_type_not_allowed_is_refused_with_its_sniffed_type(client: TestClient, deal: tuple[str, str]) -> None:
    instance_id, _ = deal
    answer = attach(client, instance_id, "report.pdf", b"\x7fELF\x02\x01\x01\x00" + bytes(100), user="admin_2")
    assert answer.status_code == 400
    assert "application/octet-stream" in answer.json()["detail"]


def test_roles_download_upload_and_delete(client: TestClient, deal: tuple[str, str]) -> None:
    instance_id, task_id = deal
    # The hunter may not work the closer's task, and cannot see this deal at all.
    assert attach(client, instance_id, "x.pdf", tiny_pdf(), user="hunter", task_id=task_id).status_code == 404
    doc = attach(client, instance_id, "kp.pdf", tiny_pdf(), task_id=task_id, field="proposal").json()
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=who("hunter")).status_code == 404
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=who("accounting")).status_code == 404
    wrong_field = attach(client, instance_id, "x.pdf", tiny_pdf(), task_id=task_id, field="note")
    assert wrong_field.status_code == 400 and "proposal" in wrong_field.json()["detail"]
    # The head of sales reads everything but works the task only once assigned: may not attach to it.
    assert attach(client, instance_id, "y.pdf", tiny_pdf(), user="head_of_sales",
                  task_id=task_id).status_code == 403
    # Deleting: not by another reader; by the uploader; kept in history.
    other = attach(client, instance_id, "deal.pdf", tiny_pdf(), user="head_of_sales").json()
    assert client.delete(f"/api/v1/documents/{other['id']}", headers=who("closer")).status_code == 403
    assert client.delete(f"/api/v1/documents/{doc['id']}", headers=who("closer")).status_code == 204
    assert client.get(f"/api/v1/documents/{doc['id']}", headers=who("closer")).status_code == 404
    listed = client.get(f"/api/v1/process-instances/{instance_id}/documents?include_deleted=true").json()
    deleted = [d for d in listed["items"] if d["id"] == doc["id"]]
    assert deleted[0]["deleted_by"] == "closer"
    kinds = [e["kind"] for e in client.get(f"/api/v1/process-instances/{instance_id}/history").json()["items"]]
    assert kinds.count("document_added") == 2 and kinds.count("document_deleted") == 1


def test_bad_uploads_get_clear_answers(client: TestClient, deal: tuple[str, str]) -> None:
    instance_id, task_id = deal
    empty = attach(client, instance_id, "e.pdf", b"", user="admin_2")
    assert empty.status_code == 400 and "empty" in empty.json()["detail"]
    missing = client.post(f"/api/v1/process-instances/{instance_id}/documents", data={"task_id": task_id})
    assert missing.status_code == 422
    assert attach(client, "no-such-deal", "a.pdf", tiny_pdf(), user="admin_2").status_code == 404
    assert client.get("/api/v1/documents/nope").status_code == 404
