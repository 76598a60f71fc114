"""The inbox costs the same number of SQL statements for 5 tasks as for 50: no query per row."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from app.services.context import AppContext
from tests.ui_support import sign_in, start_lead

pytestmark = pytest.mark.db


@contextmanager
def counted(ctx: AppContext) -> Iterator[list[str]]:
    statements: list[str] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(ctx.db.engine, "before_cursor_execute", before)
    try:
        yield statements
    finally:
        event.remove(ctx.db.engine, "before_cursor_execute", before)


def open_leads(ctx: AppContext, count: int) -> None:
    for number in range(count):
        start_lead(ctx, f"Клиент {number:02d}")


def inbox_statements(ctx: AppContext, pages: Any) -> list[str]:
    with counted(ctx) as statements:
        response = pages.get("/ui/inbox")
    assert response.status_code == 200
    return statements


def test_the_inbox_page_needs_the_same_queries_for_50_tasks_as_for_5(sales: AppContext, pages: Any) -> None:
    ctx = sales
    sign_in(pages, "hunter")
    open_leads(ctx, 5)
    few = inbox_statements(ctx, pages)
    open_leads(ctx, 45)
    many = inbox_statements(ctx, pages)

    assert pages.get("/ui/inbox").text.count('class="task-name"') == 50
    assert len(many) == len(few), "\n".join(many)
    # The signed-in user (loaded per request), then one transaction: counts (mine, groups, filtered), the rows,
    # their candidates, escalations, process names.
    assert len([s for s in many if s.lstrip().upper().startswith("SELECT")]) <= 8


def test_the_poll_answer_changes_when_a_task_arrives(sales: AppContext, pages: Any) -> None:
    ctx = sales
    sign_in(pages, "hunter")
    before = pages.get("/ui/inbox/poll.json").json()
    open_leads(ctx, 1)
    after = pages.get("/ui/inbox/poll.json").json()

    assert before["groups"] == 0 and after["groups"] == 1
    assert before["signature"] != after["signature"]
    assert pages.get("/ui/inbox/poll.json").json()["signature"] == after["signature"]
