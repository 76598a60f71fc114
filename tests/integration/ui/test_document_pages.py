"""Documents on the pages: a file field of the task form uploads with the completion; the deal page lists them."""

from __future__ import annotations

from typing import Any

import pytest

from app.services.context import AppContext
from tests.integration.leads.test_documents_api import tiny_pdf, tiny_png
from tests.ui_support import HUNTER, csrf_of, sign_in, start_lead, work_hunter_steps

pytestmark = pytest.mark.db


def test_the_proposal_file_goes_with_the_form_and_the_head_of_sales_sees_it_on_the_deal(
        pages: Any, sales: AppContext) -> None:
    deal = start_lead(sales, "ООО Файлы")
    work_hunter_steps(sales, deal, until="Task_PrepareProposal")
    from app.services.instances import get_instance

    task = next(t for t in get_instance(sales, actor=HUNTER, instance_id=deal).open_tasks
                if t.element_id == "Task_PrepareProposal")
    sign_in(pages, "hunter")
    page = pages.get(f"/ui/tasks/{task.id}")
    assert 'type="file"' in page.text and 'enctype="multipart/form-data"' in page.text
    refused = pages.post(f"/ui/tasks/{task.id}/complete",
                         data={"csrf_token": csrf_of(page.text), "price": "100000", "discount": "5"},
                         files=[("proposal_file", ("КП.pdf", tiny_pdf(), "application/pdf"))])
    assert refused.status_code == 422  # proposal_terms missing: the file stays attached, the form says so
    assert "КП.pdf" in refused.text
    done = pages.post(f"/ui/tasks/{task.id}/complete",
                      data={"csrf_token": csrf_of(refused.text), "price": "100000", "discount": "5",
                            "proposal_terms": "Оплата 50/50"},
                      files=[("proposal_file", ("схема.png", tiny_png(), "image/png"))])
    assert done.status_code == 303, done.text

    pages.post("/ui/logout", data={"csrf_token": csrf_of(pages.get("/ui/inbox").text)})
    sign_in(pages, "boss")
    deal_page = pages.get(f"/ui/deals/{deal}")
    assert deal_page.status_code == 200
    section = deal_page.text.split('id="documents"')[1].split("</section>")[0]
    assert "КП.pdf" in section and "схема.png" in section
    assert "Подготовить коммерческое предложение" in section
    assert '<img class="thumb"' in section
    assert "Документ приложен" in deal_page.text or "Document attached" in deal_page.text
    variables = get_instance(sales, actor=HUNTER, instance_id=deal).instance.variables
    assert [f["name"] for f in variables["proposal_file"]] == ["КП.pdf", "схема.png"]
