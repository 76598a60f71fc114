"""The pages through HTTP: sign-in, CSRF, the task form's validation, claims, who may see what, language."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import pytest

from app.auth.actor import SYSTEM
from app.db.base import utcnow
from app.db.models import EventKind, ProcessInstance, Task
from app.services import deployments
from app.services.context import AppContext
from app.services.instances import get_instance
from app.services.recording import add_event
from tests.factories import definitions, upload
from tests.ui_support import HUNTER, PASSWORD, csrf_of, post_form, sign_in, start_lead

pytestmark = pytest.mark.db

CLOSERS_ONLY = definitions("""
  <bpmn:process id="closers_only" name="Повторная продажа" isExecutable="true"
                camunda:candidateStarterGroups="closer">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Call" name="Позвонить клиенту" camunda:candidateGroups="closer" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Call" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="EndEvent_1" />
  </bpmn:process>""")


def qualify_task(ctx: AppContext, instance_id: str) -> str:
    (task,) = get_instance(ctx, actor=HUNTER, instance_id=instance_id).open_tasks
    return task.id


def test_the_root_and_every_page_lead_a_stranger_to_sign_in(pages: Any) -> None:
    assert pages.get("/").headers["location"] == "/ui/inbox"
    response = pages.get("/ui/deals?status=running")
    assert response.status_code == 303
    assert response.headers["location"] == "/ui/login?next=%2Fui%2Fdeals%3Fstatus%3Drunning"
    assert pages.get("/ui/inbox/poll.json").status_code == 401


def test_signing_in_sets_a_secure_http_only_session_and_returns_to_the_page(pages: Any) -> None:
    page = pages.get("/ui/login?next=/ui/deals")
    response = pages.post("/ui/login", data={"username": "hunter", "password": PASSWORD, "next": "/ui/deals",
                                             "csrf_token": csrf_of(page.text)})
    assert response.status_code == 303 and response.headers["location"] == "/ui/deals"
    ours = ("voronka_csrf=", "voronka_flash=", "voronka_lang=")
    (session,) = [c.lower() for c in response.headers.get_list("set-cookie") if not c.startswith(ours)]
    assert "httponly" in session and "secure" in session and "samesite" in session
    assert pages.get("/ui/deals").status_code == 200


def test_a_wrong_password_is_refused_and_next_cannot_leave_the_site(pages: Any) -> None:
    page = pages.get("/ui/login")
    wrong = pages.post("/ui/login", data={"username": "hunter", "password": "nope", "csrf_token": csrf_of(page.text)})
    assert wrong.status_code == 401
    assert "Неверное имя пользователя или пароль" in wrong.text
    right = pages.post("/ui/login", data={"username": "hunter", "password": PASSWORD, "next": "https://evil.example/",
                                          "csrf_token": csrf_of(page.text)})
    assert right.headers["location"] == "/ui/inbox"


def test_guessing_passwords_is_slowed_down_with_a_clear_message(pages: Any) -> None:
    token = csrf_of(pages.get("/ui/login").text)
    answers = [pages.post("/ui/login", data={"username": "hunter", "password": f"guess-{n}", "csrf_token": token})
               for n in range(8)]
    assert answers[0].status_code == 401
    assert answers[-1].status_code == 429
    assert "Слишком много неудачных попыток" in answers[-1].text


def test_forms_without_the_token_or_from_another_site_are_refused(pages: Any) -> None:
    sign_in(pages, "hunter")
    token = csrf_of(pages.get("/ui/inbox").text)
    assert pages.post("/ui/logout", data={}).status_code == 403
    assert pages.post("/ui/logout", data={"csrf_token": "forged-token-value-123456"}).status_code == 403
    assert pages.post("/ui/logout", data={"csrf_token": token},
                      headers={"Origin": "https://evil.example"}).status_code == 403
    assert pages.get("/ui/inbox").status_code == 200  # still signed in
    assert pages.post("/ui/logout", data={"csrf_token": token}).status_code == 303
    assert pages.get("/ui/inbox").status_code == 303


def test_the_task_form_shows_the_server_problem_next_to_its_field_then_completes(sales: AppContext,
                                                                                pages: Any) -> None:
    task_id = qualify_task(sales, start_lead(sales, "ООО «Ромашка»"))
    sign_in(pages, "hunter")
    url = f"/ui/tasks/{task_id}"
    page = pages.get(url).text
    assert 'id="f-chance"' in page and 'min="0"' in page and 'max="100"' in page and "required" in page

    refused = post_form(pages, url, f"{url}/complete", {"category": "a", "prospects": "high", "chance": "150"})
    assert refused.status_code == 422
    assert re.search(r'id="f-chance"[^>]*value="150"', refused.text)
    assert 'id="f-chance-error">Значение должно быть не больше 100.' in refused.text

    empty = post_form(pages, url, f"{url}/complete", {"prospects": "high", "chance": "50"})
    assert 'id="f-category-error">Заполните это поле.' in empty.text

    done = post_form(pages, url, f"{url}/complete", {"category": "a", "prospects": "high", "chance": "50",
                                                     "qualified": "true"})
    assert done.status_code == 303 and done.headers["location"] == "/ui/inbox"
    assert "Готово" in pages.get("/ui/inbox").text


def test_claim_and_release_from_the_list_go_back_to_the_list(sales: AppContext, pages: Any) -> None:
    task_id = qualify_task(sales, start_lead(sales, "АО «Север»"))
    sign_in(pages, "hunter")
    claimed = post_form(pages, "/ui/inbox", f"/ui/tasks/{task_id}/claim", {"next": "/ui/inbox?scope=mine"})
    assert claimed.headers["location"] == "/ui/inbox?scope=mine"
    mine = pages.get("/ui/inbox?scope=mine").text
    assert f'data-task-id="{task_id}"' in mine and "Вернуть в группу" in mine and "Вы взяли задачу" in mine
    post_form(pages, "/ui/inbox", f"/ui/tasks/{task_id}/release", {"next": "/ui/inbox"})
    assert f'data-task-id="{task_id}"' not in pages.get("/ui/inbox?scope=mine").text
    assert f'data-task-id="{task_id}"' in pages.get("/ui/inbox?scope=groups").text


def test_overdue_and_escalated_tasks_stand_out(sales: AppContext, pages: Any) -> None:
    late = qualify_task(sales, start_lead(sales, "ООО «Опоздание»"))
    escalated_deal = start_lead(sales, "ООО «Эскалация»")
    escalated = qualify_task(sales, escalated_deal)
    calm = qualify_task(sales, start_lead(sales, "ООО «Спокойствие»"))
    with sales.db.transaction() as session:
        session.get(Task, late).due_at = utcnow() - timedelta(hours=1)
        instance = session.get(ProcessInstance, escalated_deal)
        # What the worker records when the 24-hour SLA timer on the qualification fires.
        add_event(session, instance, EventKind.TIMER_FIRED, actor=SYSTEM, at=utcnow() + timedelta(seconds=1),
                  element_id="Timer_QualifySla")
    sign_in(pages, "hunter")
    page = pages.get("/ui/inbox").text
    rows = {m.group(2): m.group(1) for m in re.finditer(r'<li class="task([^"]*)"\s+data-task-id="([^"]+)"', page)}
    assert "overdue" in rows[late] and "Просрочена" in page
    assert "escalated" in rows[escalated] and "escalated" not in rows[late]
    assert "escalated" not in rows[calm] and "overdue" not in rows[calm]
    assert "Эскалирована" in page
    assert pages.get("/ui/inbox?due=overdue").text.count('class="task-name"') == 1


def test_another_role_neither_lists_nor_opens_the_task(sales: AppContext, pages: Any) -> None:
    task_id = qualify_task(sales, start_lead(sales, "ООО «Ромашка»"))
    sign_in(pages, "accountant")
    assert f'data-task-id="{task_id}"' not in pages.get("/ui/inbox").text
    response = pages.get(f"/ui/tasks/{task_id}")
    assert response.status_code == 404 and "Не найдено" in response.text


def test_filters_narrow_the_inbox(sales: AppContext, pages: Any) -> None:
    start_lead(sales, "ООО «Ромашка»")
    start_lead(sales, "АО «Север»")
    sign_in(pages, "hunter")
    assert pages.get("/ui/inbox").text.count('class="task-name"') == 2
    assert pages.get("/ui/inbox?q=Север").text.count('class="task-name"') == 1
    assert pages.get("/ui/inbox?stage=contract").text.count('class="task-name"') == 0
    assert pages.get("/ui/inbox?due=overdue").text.count('class="task-name"') == 0
    assert pages.get("/ui/inbox?sort=priority&process=sales_deal").text.count('class="task-name"') == 2


def test_only_startable_processes_are_offered(sales: AppContext, pages: Any) -> None:
    deployments.deploy(sales, files=[("closers_only.bpmn", CLOSERS_ONLY.encode())], actor=SYSTEM)
    sign_in(pages, "hunter")
    offered = pages.get("/ui/start").text
    assert "/ui/start/sales_deal" in offered and "/ui/start/closers_only" not in offered
    assert pages.get("/ui/start/closers_only").status_code == 403


def test_a_started_lead_opens_its_first_step_and_the_start_form_is_checked(sales: AppContext,
                                                                          pages: Any) -> None:
    sign_in(pages, "hunter")
    refused = post_form(pages, "/ui/start/sales_deal", "/ui/start/sales_deal", {"company": "ООО «Ромашка»"})
    assert refused.status_code == 422 and 'id="f-source-error"' in refused.text
    started = post_form(pages, "/ui/start/sales_deal", "/ui/start/sales_deal",
                        {"source": "exhibition", "company": "ООО «Ромашка»", "contact": "Иван", "segment": "smb"})
    assert started.status_code == 303 and started.headers["location"].startswith("/ui/tasks/")
    task_page = pages.get(started.headers["location"]).text
    assert "Квалифицировать лид" in task_page and "Выставка" in task_page  # option name, not the id
    deals = pages.get("/ui/deals?q=ромашка").text
    assert "ООО «Ромашка»" in deals and "Квалифицировать лид" in deals


def test_the_deal_page_marks_the_waiting_and_the_passed_elements(sales: AppContext, pages: Any) -> None:
    instance_id = start_lead(sales, "ООО «Ромашка»")
    sign_in(pages, "hunter")
    page = pages.get(f"/ui/deals/{instance_id}").text
    marks = json.loads(re.search(r'data-marks="([^"]+)"', page).group(1).replace("&#34;", '"'))
    assert marks["active"] == ["Task_QualifyLead"]
    assert "StartEvent_Manual" in marks["completed"]
    xml_url = re.search(r'data-xml="([^"]+)"', page).group(1)
    assert pages.get(xml_url).text.startswith("<?xml")


def test_the_language_follows_the_browser_and_the_switch(pages: Any) -> None:
    assert 'lang="en"' in pages.get("/ui/login", headers={"Accept-Language": "en-GB,en;q=0.8"}).text
    assert "Имя пользователя" in pages.get("/ui/login", headers={"Accept-Language": "ru,en;q=0.5"}).text
    assert 'lang="ru"' in pages.get("/ui/login", headers={"Accept-Language": "de-DE"}).text
    sign_in(pages, "hunter")
    post_form(pages, "/ui/inbox", "/ui/language", {"lang": "en", "next": "/ui/deals"})
    page = pages.get("/ui/deals", headers={"Accept-Language": "ru"}).text
    assert 'lang="en"' in page and "<h1>Deals</h1>" in page


def test_designers_deploy_models_and_others_may_not(pages: Any) -> None:
    sign_in(pages, "designer")
    token = csrf_of(pages.get("/ui/models").text)
    bad = pages.post("/ui/models", data={"csrf_token": token}, files=upload(("broken.bpmn", "<nope/>")))
    assert bad.status_code == 400 and "broken.bpmn" in bad.text
    good = pages.post("/ui/models", data={"csrf_token": token}, files=upload(("closers.bpmn", CLOSERS_ONLY)))
    assert good.headers["location"] == "/ui/models/closers_only"
    assert "Повторная продажа" in pages.get("/ui/models/closers_only").text

    sign_in(pages, "hunter")
    listing = pages.get("/ui/models").text
    assert 'enctype="multipart/form-data"' not in listing
    token = csrf_of(listing)
    refused = pages.post("/ui/models", data={"csrf_token": token}, files=upload(("closers.bpmn", CLOSERS_ONLY)))
    assert refused.status_code == 403
