"""The inbox page as one use case: counts, one page of tasks and what makes rows stand out, in one transaction
with a fixed number of statements whatever the page size (no query per row)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.auth.actor import Actor
from app.db.models import EventKind, HistoryEvent, Task
from app.errors import InvalidInput
from app.services.catalog import names_in
from app.services.context import AppContext
from app.services.tasks import SORTS, TaskFilter, task_query


@dataclass
class InboxPage:
    tasks: list[Task]
    total: int
    mine: int  # open tasks assigned to the actor
    groups: int  # open, unassigned tasks of the actor's groups (or candidate user)
    escalated: set[str] = field(default_factory=set)  # task ids whose SLA timer fired while they were open
    process_names: dict[str, str] = field(default_factory=dict)  # every process key -> its latest name


def inbox_page(ctx: AppContext, *, actor: Actor, flt: TaskFilter, limit: int = 50, offset: int = 0) -> InboxPage:
    if flt.sort not in SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(SORTS)}")
    column = SORTS[flt.sort]
    order = column.desc() if flt.descending else column.asc()
    query = task_query(actor, flt)
    with ctx.db.read() as session:
        mine = session.scalar(select(func.count()).select_from(
            task_query(actor, TaskFilter(scope="mine")).subquery())) or 0
        groups = session.scalar(select(func.count()).select_from(
            task_query(actor, TaskFilter(scope="groups")).subquery())) or 0
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = list(session.scalars(query.order_by(order.nulls_last(), Task.created_at, Task.id)
                                    .limit(limit).offset(offset)))
        escalated = _escalated(session, rows)
        names = names_in(session)  # for the rows and for the process filter
    return InboxPage(rows, total, mine, groups, escalated, names)


def _escalated(session: object, rows: list[Task]) -> set[str]:
    """A task is escalated when a timer of its instance fired after the task opened: in a sales model that is a
    non-interrupting boundary timer (an SLA) that has already called in the head of sales."""
    if not rows:
        return set()
    fired: dict[str, datetime] = dict(session.execute(  # type: ignore[attr-defined]
        select(HistoryEvent.instance_id, func.max(HistoryEvent.at))
        .where(HistoryEvent.kind == EventKind.TIMER_FIRED,
               HistoryEvent.instance_id.in_({t.instance_id for t in rows}))
        .group_by(HistoryEvent.instance_id)).all())
    return {t.id for t in rows if t.instance_id in fired and _after(fired[t.instance_id], t.created_at)}


def _after(first: datetime, second: datetime) -> bool:
    # SQLite hands back naive UTC, PostgreSQL aware UTC: compare on the same footing.
    return first.replace(tzinfo=None) > second.replace(tzinfo=None)
