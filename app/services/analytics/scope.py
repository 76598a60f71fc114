"""The question an analytics call answers (definition, versions, period, manager, lead filters), resolved
against the database and the actor: head of sales and admins see everything, anyone else only their own
figures (the manager filter is forced to themselves)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import ProcessDefinition, ProcessInstance, Task, TaskState
from app.errors import NotFound, Problem, ValidationFailed
from app.services.analytics.model_map import MODEL_MAPS, ModelMap, merge_called

# Variables copied onto the instance row that a funnel may be filtered by.
LEAD_FILTERS = ("source", "segment", "category")


@dataclass(frozen=True)
class Filters:
    """What the caller asked for. `start`/`end` bound a half-open period [start, end)."""

    definition_key: str
    version: int | None = None
    start: datetime | None = None
    end: datetime | None = None
    manager: str | None = None
    source: str | None = None
    segment: str | None = None
    category: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"definition_key": self.definition_key, "version": self.version,
                "from": self.start.isoformat() if self.start else None,
                "to": self.end.isoformat() if self.end else None, "manager": self.manager,
                "source": self.source, "segment": self.segment, "category": self.category}


@dataclass(frozen=True)
class Scope:
    filters: Filters  # as applied: the manager filter forced for a user who may not see others
    definition_ids: list[str]
    versions: dict[str, int]  # definition id -> version
    model: ModelMap  # the elements and stage order of the selected versions (called processes included)
    dialect: str
    sees_all: bool
    now: datetime


def validate(filters: Filters) -> Filters:
    problems = []
    if not filters.definition_key or not filters.definition_key.strip():
        problems.append(Problem("definition_key is required", field="definition_key"))
    if filters.version is not None and filters.version < 1:
        problems.append(Problem("version must be 1 or more", field="version"))
    start, end = _aware(filters.start), _aware(filters.end)
    if start and end and start >= end:
        problems.append(Problem("`to` must be later than `from`", field="to"))
    for name in ("manager", *LEAD_FILTERS):
        value = getattr(filters, name)
        if value is not None and (not value.strip() or len(value) > 255):
            problems.append(Problem(f"{name} must be 1 to 255 characters", field=name))
    if problems:
        raise ValidationFailed("; ".join(p.message for p in problems), problems=problems)
    return replace(filters, definition_key=filters.definition_key.strip(), start=start, end=end)


def resolve(session: Session, actor: Actor, filters: Filters) -> Scope:
    filters = validate(filters)
    sees_all = actor.sees_all_work
    if not sees_all:
        filters = replace(filters, manager=actor.username)
    rows = session.execute(select(ProcessDefinition.id, ProcessDefinition.version)
                           .where(ProcessDefinition.key == filters.definition_key)
                           .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"process definition {filters.definition_key!r} not found")
    versions = {r.id: r.version for r in rows}
    if filters.version is not None:
        versions = {i: v for i, v in versions.items() if v == filters.version}
        if not versions:
            raise ValidationFailed(f"{filters.definition_key!r} has no version {filters.version}",
                                   problems=[Problem(f"no version {filters.version}", field="version")])
    model = model_of(session, list(versions), filters.definition_key)
    return Scope(filters, list(versions), versions, model, session.get_bind().dialect.name, sees_all, utcnow())


def model_of(session: Session, definition_ids: list[str], key: str) -> ModelMap:
    """The merged map of some versions of one key (newest first decides names and stage order)."""
    merged = ModelMap()
    for definition_id in definition_ids:
        model = _model(session, definition_id, key)
        called = {e.called for e in model.elements.values() if e.called}
        children = {}
        for child_key in called:
            child_id = session.scalar(select(ProcessDefinition.id).where(ProcessDefinition.key == child_key)
                                      .order_by(ProcessDefinition.version.desc()).limit(1))
            if child_id is not None:
                children[child_key] = _model(session, child_id, child_key)
        model = merge_called(model, children)
        for element_id, element in model.elements.items():
            merged.elements.setdefault(element_id, element)
        for stage in model.stages:
            if stage not in merged.stages:
                merged.stages.append(stage)
    return merged


def _model(session: Session, definition_id: str, key: str) -> ModelMap:
    cached = MODEL_MAPS.peek(definition_id)
    if cached is not None:
        return cached
    xml = session.scalar(select(ProcessDefinition.xml).where(ProcessDefinition.id == definition_id))
    return MODEL_MAPS.get(definition_id, xml, key)


def deal_conditions(scope: Scope, *, period: bool = True) -> list[ColumnElement[bool]]:
    """The deals a figure is about: of the selected versions, started in the period (a cohort), matching
    the lead filters and, with a manager, the deals that manager started or worked on."""
    f = scope.filters
    conditions: list[ColumnElement[bool]] = [ProcessInstance.definition_key == f.definition_key]
    if f.version is not None:
        conditions.append(ProcessInstance.definition_id.in_(scope.definition_ids))
    if period:
        conditions += in_period(scope, ProcessInstance.started_at)
    for name in LEAD_FILTERS:
        value = getattr(f, name)
        if value is not None:
            conditions.append(getattr(ProcessInstance, name) == value)
    if f.manager is not None:
        conditions.append(manager_deals(f.manager))
    return conditions


def instance_conditions(scope: Scope) -> list[ColumnElement[bool]]:
    """Version and lead filters without the period and the manager (for figures that bound time and person
    on their own rows: tasks completed, timers fired)."""
    f = scope.filters
    conditions: list[ColumnElement[bool]] = [ProcessInstance.definition_key == f.definition_key]
    if f.version is not None:
        conditions.append(ProcessInstance.definition_id.in_(scope.definition_ids))
    for name in LEAD_FILTERS:
        value = getattr(f, name)
        if value is not None:
            conditions.append(getattr(ProcessInstance, name) == value)
    return conditions


def needs_instance(scope: Scope) -> bool:
    """Whether task or history figures must join the instance row (a version or a lead filter)."""
    f = scope.filters
    return f.version is not None or any(getattr(f, name) is not None for name in LEAD_FILTERS)


def in_period(scope: Scope, column: Any) -> list[ColumnElement[bool]]:
    conditions = []
    if scope.filters.start is not None:
        conditions.append(column >= scope.filters.start)
    if scope.filters.end is not None:
        conditions.append(column < scope.filters.end)
    return conditions


def manager_deals(manager: str) -> ColumnElement[bool]:
    worked = select(Task.instance_id).where(Task.completed_by == manager)
    holding = select(Task.instance_id).where(Task.assignee == manager, Task.state == TaskState.OPEN)
    return or_(ProcessInstance.started_by == manager, ProcessInstance.id.in_(worked.union(holding)))


def manager_tasks(manager: str) -> ColumnElement[bool]:
    """A person's tasks: those they completed and those they hold open."""
    return or_(Task.completed_by == manager, (Task.state == TaskState.OPEN) & (Task.assignee == manager))


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
