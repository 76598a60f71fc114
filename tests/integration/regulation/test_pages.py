"""The regulation pages over HTTP: the head of sales sees the change in her inbox, reads the diff, approves; the
admin moves the running deals with a progress bar."""

from __future__ import annotations

from typing import Any

import pytest

from app.auth.actor import SYSTEM
from app.services import deployments, instances
from app.services.context import AppContext
from app.worker.loop import Worker
from tests.integration.regulation.models import lead_process
from tests.ui_support import add_users, csrf_of, sign_in

pytestmark = pytest.mark.db


@pytest.fixture
def pages(ctx: AppContext) -> Any:
    from fastapi.testclient import TestClient

    from app.main import create_app

    add_users(ctx, {"boss": ["head_of_sales"], "root": ["admin"], "hunter": ["hunter"]})
    with TestClient(create_app(context=ctx), base_url="https://testserver", follow_redirects=False) as client:
        yield client


def deploy(ctx: AppContext, xml: str) -> Any:
    return deployments.deploy(ctx, files=[("sales_deal.bpmn", xml.encode())], actor=SYSTEM).definitions[0]


def test_head_of_sales_reviews_and_approves_then_admin_moves_the_deals(pages: Any, ctx: AppContext) -> None:
    v1 = deploy(ctx, lead_process(1, key="sales_deal"))
    running = instances.start_instance(ctx, actor=SYSTEM, definition_key="sales_deal", business_key="ООО Ромашка")
    v2 = deploy(ctx, lead_process(2, key="sales_deal"))
    assert v2.state == "draft"

    sign_in(pages, "boss")
    inbox = pages.get("/ui/inbox", headers={"Accept-Language": "ru"})
    assert "Согласовать изменение регламента" in inbox.text and "/ui/models/sales_deal/diff?to=2" in inbox.text
    diff = pages.get("/ui/models/sales_deal/diff?to=2", headers={"Accept-Language": "ru"})
    assert diff.status_code == 200
    for text in ("Отправить КП", "Устаревший шаг", "Квалифицировать лид", "группы исполнителей", "PT24H → PT8H",
                 "ожидает согласования", "Согласовать"):
        assert text in diff.text, text
    decided = pages.post(f"/ui/models/sales_deal/versions/{v2.id}/decision",
                         data={"decision": "approve", "comment": "Ок", "csrf_token": csrf_of(diff.text)})
    assert decided.status_code == 303
    assert deployments.get_definition(ctx, actor=SYSTEM, definition_id=v2.id).state == "approved"
    assert "Согласовать изменение" not in pages.get("/ui/inbox", headers={"Accept-Language": "ru"}).text

    pages.post("/ui/logout", data={"csrf_token": csrf_of(inbox.text)})
    sign_in(pages, "root")
    form = pages.get(f"/ui/migrations/new?source={v1.id}&target={v2.id}", headers={"Accept-Language": "ru"})
    assert form.status_code == 200 and "Перевести 1" in form.text
    started = pages.post("/ui/migrations", data={"source": v1.id, "target": v2.id, "csrf_token": csrf_of(form.text)})
    assert started.status_code == 303
    page_url = started.headers["location"]
    progress_url = f"{page_url}/progress"
    assert pages.get(progress_url).json() == {"state": "running", "total": 1, "done": 0, "failed": 0,
                                              "remaining": 1}
    Worker(ctx).run_until_idle()
    assert pages.get(progress_url).json()["state"] == "completed"
    page = pages.get(page_url, headers={"Accept-Language": "ru"})
    assert page.status_code == 200 and 'value="1"' in page.text and "Готово." in page.text
    assert instances.get_instance(ctx, actor=SYSTEM, instance_id=running.instance.id).definition_version == 2


def test_people_without_the_role_cannot_decide_or_migrate(pages: Any, ctx: AppContext) -> None:
    v1 = deploy(ctx, lead_process(1, key="sales_deal"))
    v2 = deploy(ctx, lead_process(2, key="sales_deal"))
    sign_in(pages, "hunter")
    diff = pages.get("/ui/models/sales_deal/diff?to=2")
    assert diff.status_code == 200 and "decision" not in diff.text
    refused = pages.post(f"/ui/models/sales_deal/versions/{v2.id}/decision",
                         data={"decision": "approve", "csrf_token": csrf_of(diff.text)})
    assert refused.status_code == 403
    assert pages.get(f"/ui/migrations/new?source={v1.id}&target={v2.id}").status_code == 403
