"""Helpers for page tests: users with roles, signing in through the form, reading the CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.auth.actor import SYSTEM, Actor
from app.services.context import AppContext
from app.services.identity import create_user
from app.services.instances import get_instance, start_instance
from app.services.tasks import complete_task

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
SALES_FILES = ("sales_deal.bpmn", "vip_service.bpmn", "discount_approval.dmn")
PASSWORD = "correct-horse-1"
USERS = {"hunter": ["hunter"], "closer": ["closer"], "accountant": ["accounting"], "boss": ["head_of_sales"],
         "designer": ["designer"]}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(ctx: AppContext, users: dict[str, list[str]] | None = None) -> None:
    """Users with the given groups, all with PASSWORD, created through the identity service."""
    for username, groups in (users or USERS).items():
        create_user(ctx, actor=SYSTEM, username=username, password=PASSWORD, display_name=username.capitalize(),
                    groups=groups)


def csrf_of(html: str) -> str:
    found = _TOKEN.search(html)
    assert found, "the page has no CSRF token"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    page = client.get("/ui/login")
    return client.post("/ui/login", data={"username": username, "password": password,
                                          "csrf_token": csrf_of(page.text), "next": "/ui/inbox"})


def post_form(client: Any, page_url: str, action: str, data: dict[str, Any]) -> Any:
    """Submit a form the way a browser does: take the token from the page it is on."""
    token = csrf_of(client.get(page_url).text)
    return client.post(action, data={**data, "csrf_token": token})


def sales_files() -> list[tuple[str, bytes]]:
    """The shipped sales models (sales_deal calls vip_service and the discount_approval decision)."""
    return [(name, (BPMN_DIR / name).read_bytes()) for name in SALES_FILES]


# Valid answers for the hunter's steps of sales_deal, so tests can bring a deal to the closer quickly.
HUNTER_STEPS: dict[str, dict[str, Any]] = {
    "Task_QualifyLead": {"category": "a", "prospects": "high", "chance": 60, "qualified": True},
    "Task_IdentifyNeeds": {"needs": "CRM для отдела продаж", "pains": "Теряются лиды", "budget": 500000,
                           "is_tender": False},
    "Task_PrepareProposal": {"price": 450000, "discount": 5, "proposal_terms": "Оплата 50/50"},
    "Task_PreliminaryNegotiations": {"preliminary_result": "Интерес есть", "client_interest": "high"},
    "Task_HandOverToCloser": {"handover_note": "Готов к переговорам"},
}
HUNTER = Actor("hunter", frozenset({"hunter"}))


def start_lead(ctx: AppContext, company: str, *, actor: Actor = HUNTER) -> str:
    view = start_instance(ctx, actor=actor, definition_key="sales_deal", business_key=company,
                          variables={"source": "cold_call", "company": company, "contact": "Мария Петрова",
                                     "segment": "smb"})
    return view.instance.id


def work_hunter_steps(ctx: AppContext, instance_id: str, *, until: str | None = None) -> None:
    """Complete the hunter's open steps of a deal in order, stopping before `until` (or at the closer)."""
    while True:
        view = get_instance(ctx, actor=HUNTER, instance_id=instance_id)
        step = next((t for t in view.open_tasks if t.element_id in HUNTER_STEPS and t.element_id != until), None)
        if step is None:
            return
        complete_task(ctx, actor=HUNTER, task_id=step.id, variables=HUNTER_STEPS[step.element_id])
