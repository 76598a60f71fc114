"""Helpers for page tests: users with roles, signing in through the form, reading the CSRF token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from app.auth.passwords import hash_password
from app.db.models import User
from app.services.context import AppContext
from app.services.identity import ensure_groups

BPMN_DIR = Path(__file__).resolve().parents[1] / "bpmn"
SALES_FILES = ("sales_deal.bpmn", "vip_service.bpmn")
PASSWORD = "correct-horse-1"
USERS = {"hunter": ["hunter"], "closer": ["closer"], "accountant": ["accounting"], "boss": ["head_of_sales"],
         "designer": ["designer"]}
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_users(ctx: AppContext, users: dict[str, list[str]] | None = None) -> None:
    """Users with the given groups, all with PASSWORD (written directly: user management is another issue)."""
    hashed = hash_password(PASSWORD)
    with ctx.db.transaction() as session:
        for username, groups in (users or USERS).items():
            user = User(username=username, password_hash=hashed, display_name=username.capitalize())
            user.groups = ensure_groups(session, groups)
            session.add(user)


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
    """The shipped sales models (sales_deal calls vip_service, so they go together)."""
    return [(name, (BPMN_DIR / name).read_bytes()) for name in SALES_FILES]
