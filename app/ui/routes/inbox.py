"""The inbox: my tasks and my groups' tasks, filters, sorting, a small JSON endpoint the page polls."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from app.auth.actor import Actor
from app.auth.permissions import may_work_task
from app.db.base import utcnow
from app.services import approvals
from app.services.context import AppContext
from app.services.inbox import InboxPage, inbox_page
from app.services.tasks import TaskFilter
from app.ui.deps import Context, PageActor
from app.ui.funnel import STAGES
from app.ui.rendering import PageRoute, render

router = APIRouter(route_class=PageRoute)
PAGE_SIZE = 50
SCOPES = ("inbox", "mine", "groups")
# sort name in the page -> (task field, newest/highest first)
SORTS = {"due": ("due", False), "priority": ("priority", True), "age": ("created", False)}


@dataclass
class InboxQuery:
    scope: str = "inbox"
    process: str = ""
    stage: str = ""
    due: str = ""
    q: str = ""
    sort: str = "due"
    page: int = 1

    @classmethod
    def from_request(cls, request: Request) -> InboxQuery:
        params = request.query_params
        page = params.get("page", "1")
        query = cls(scope=params.get("scope", "inbox"), process=params.get("process", "")[:255],
                    stage=params.get("stage", "")[:64], due=params.get("due", ""), q=params.get("q", "")[:100],
                    sort=params.get("sort", "due"), page=int(page) if page.isdigit() and 0 < int(page) < 10_000 else 1)
        if query.scope not in SCOPES:
            query.scope = "inbox"
        if query.sort not in SORTS:
            query.sort = "due"
        if query.due not in ("", "overdue", "on_time"):
            query.due = ""
        return query

    def task_filter(self) -> TaskFilter:
        field, descending = SORTS[self.sort]
        return TaskFilter(scope=self.scope,  # type: ignore[arg-type]
                          definition_key=self.process or None, funnel_stage=self.stage or None,
                          overdue={"overdue": True, "on_time": False}.get(self.due), search=self.q.strip() or None,
                          sort=field, descending=descending)

    def params(self) -> dict[str, Any]:
        return {"scope": self.scope, "process": self.process, "stage": self.stage, "due": self.due, "q": self.q,
                "sort": self.sort}


def load(ctx: AppContext, actor: Actor, query: InboxQuery) -> InboxPage:
    return inbox_page(ctx, actor=actor, flt=query.task_filter(), limit=PAGE_SIZE,
                      offset=(query.page - 1) * PAGE_SIZE)


def signature(page: InboxPage) -> str:
    """Changes whenever what the list shows would change (a task added, claimed, released, completed)."""
    parts = [str(page.total), str(page.mine), str(page.groups)]
    parts += [f"{t.id}:{t.assignee}:{t.due_at}:{t.priority}:{t.id in page.escalated}" for t in page.tasks]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


@router.get("/inbox")
def inbox(request: Request, ctx: Context, actor: PageActor) -> Response:
    query = InboxQuery.from_request(request)
    page = load(ctx, actor, query)
    partial = bool(request.query_params.get("partial"))
    template = "_inbox_list.html" if partial else "inbox.html"
    # The head of sales' other inbox item: regulation changes that wait for approval.
    drafts = [] if partial else approvals.pending_drafts(ctx, actor=actor)
    return render(request, template, actor=actor, page=page, iq=query, params=query.params(), may_work=may_work_task,
                  stages=STAGES, signature=signature(page), now=utcnow(),
                  page_size=PAGE_SIZE, drafts=drafts)


@router.get("/inbox/poll.json")
def inbox_poll(request: Request, ctx: Context, actor: PageActor) -> JSONResponse:
    page = load(ctx, actor, InboxQuery.from_request(request))
    return JSONResponse({"mine": page.mine, "groups": page.groups, "total": page.total,
                         "signature": signature(page)}, headers={"Cache-Control": "no-store"})
