"""Migration of running instances to another version: plan, validate, execute (now or as a background batch).

A batch lists its instances as `migration_item` rows; the worker migrates each in its own transaction together
with its row, so a killed worker leaves every instance either migrated or untouched, and the batch resumes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import (
    BatchState,
    DefinitionState,
    EventKind,
    InstanceStatus,
    ItemState,
    MigrationBatch,
    MigrationItem,
    ProcessDefinition,
    ProcessInstance,
)
from app.engine import migration
from app.engine.spec_diff import elements
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from app.services.context import AppContext
from app.services.migration_projection import reproject_open_tasks
from app.services.recording import add_event, record_step

MAX_SYNC_INSTANCES = 1000  # `execute` runs in the request; larger sets go through a batch


@dataclass
class Plan:
    source_definition_id: str
    target_definition_id: str
    instructions: list[dict[str, str]]  # [{"source": element id, "target": element id}]
    unmapped: list[str] = field(default_factory=list)  # source elements with no counterpart (informational)

    @property
    def mapping(self) -> dict[str, str]:
        return {i["source"]: i["target"] for i in self.instructions}


@dataclass
class InstanceCheck:
    instance_id: str
    business_key: str | None
    problems: list[Problem]

    @property
    def valid(self) -> bool:
        return not self.problems


@dataclass
class Selection:
    """Which instances: explicit ids, or the running instances of the plan's source version whose business key
    matches `business_key_like` (SQL LIKE, `*` also accepted as a wildcard); neither means all of them."""

    instance_ids: list[str] | None = None
    business_key_like: str | None = None


def require_may_migrate(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("migrating instances between versions requires the admin role")


def generate_plan(ctx: AppContext, *, actor: Actor, source_definition_id: str, target_definition_id: str,
                  instructions: list[dict[str, str]] | None = None) -> Plan:
    """Same ids map to each other; `instructions` add or replace mappings (renamed elements)."""
    require_may_migrate(actor)
    with ctx.db.read() as session:
        source, target = _pair(ctx, session, source_definition_id, target_definition_id)
        old = elements(source.spec, source.subprocess_specs)
        new = elements(target.spec, target.subprocess_specs)
    mapping = {bpmn_id: bpmn_id for bpmn_id in old if bpmn_id in new}
    for instruction in instructions or []:
        mapping[instruction["source"]] = instruction["target"]
    plan = Plan(source_definition_id, target_definition_id,
                [{"source": s, "target": t} for s, t in sorted(mapping.items())],
                sorted(i for i in old if i not in mapping))
    _check_instructions(ctx, plan)
    return plan


def check_plan(ctx: AppContext, *, actor: Actor, plan: Plan) -> list[Problem]:
    """Problems of the plan itself (elements that do not exist or differ in kind), without raising."""
    require_may_migrate(actor)
    with ctx.db.read() as session:
        source, target = _pair(ctx, session, plan.source_definition_id, plan.target_definition_id)
    return [Problem(o.message, element_id=o.element_id)
            for o in migration.instruction_obstacles(source, target, plan.mapping)]


def _check_instructions(ctx: AppContext, plan: Plan) -> None:
    with ctx.db.read() as session:
        source, target = _pair(ctx, session, plan.source_definition_id, plan.target_definition_id)
    obstacles = migration.instruction_obstacles(source, target, plan.mapping)
    if obstacles:
        raise InvalidInput(f"the migration plan has {len(obstacles)} problem(s); first: {obstacles[0].message}",
                           problems=[Problem(o.message, element_id=o.element_id) for o in obstacles])


def _pair(ctx: AppContext, session: Session, source_id: str, target_id: str) -> tuple[Any, Any]:
    source_row = session.get(ProcessDefinition, source_id)
    target_row = session.get(ProcessDefinition, target_id)
    for definition_id, row in ((source_id, source_row), (target_id, target_row)):
        if row is None:
            raise NotFound(f"process definition {definition_id} not found")
    assert source_row is not None and target_row is not None
    if source_id == target_id:
        raise InvalidInput("the source and target versions are the same")
    if target_row.state != DefinitionState.APPROVED:
        raise Conflict(f"version {target_row.version} of {target_row.key!r} is {target_row.state}: instances "
                       "migrate to approved versions only")
    return ctx.runtimes.get(session, source_id), ctx.runtimes.get(session, target_id)


def validate(ctx: AppContext, *, actor: Actor, plan: Plan, selection: Selection) -> list[InstanceCheck]:
    """Per instance: would it migrate, and if not, why. Nothing is written."""
    _check_instructions(ctx, plan)
    require_may_migrate(actor)
    checks = []
    with ctx.db.read() as session:
        source = ctx.runtimes.get(session, plan.source_definition_id)
        target = ctx.runtimes.get(session, plan.target_definition_id)
        for instance in session.scalars(_selected(plan, selection)):
            problems = _instance_problems(plan, instance)
            if not problems:
                try:
                    migration.migrate(source, target, instance.state, plan.mapping)
                except migration.MigrationRefused as refused:
                    problems = [Problem(o.message, element_id=o.element_id) for o in refused.obstacles]
            checks.append(InstanceCheck(instance.id, instance.business_key, problems))
        _missing_ids(session, selection, checks)
    return checks


def _missing_ids(session: Session, selection: Selection, checks: list[InstanceCheck]) -> None:
    found = {c.instance_id for c in checks}
    for instance_id in selection.instance_ids or []:
        if instance_id not in found:
            instance = session.get(ProcessInstance, instance_id)
            checks.append(InstanceCheck(instance_id, instance.business_key if instance else None,
                                        [Problem(f"process instance {instance_id} not found")] if instance is None
                                        else _instance_problems_of_other(instance)))


def _instance_problems_of_other(instance: ProcessInstance) -> list[Problem]:
    return [Problem(f"the instance runs on another version than the plan's source ({instance.definition_id})")]


def _instance_problems(plan: Plan, instance: ProcessInstance) -> list[Problem]:
    if instance.definition_id != plan.source_definition_id:
        return _instance_problems_of_other(instance)
    if instance.status not in (InstanceStatus.RUNNING, InstanceStatus.FAILED):
        return [Problem(f"the instance is {instance.status}: only running instances migrate")]
    return []


def _selected(plan: Plan, selection: Selection) -> Any:
    query = select(ProcessInstance).where(ProcessInstance.definition_id == plan.source_definition_id)
    if selection.instance_ids is not None:
        query = query.where(ProcessInstance.id.in_(selection.instance_ids))
    else:
        query = query.where(ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.FAILED)))
    if selection.business_key_like:
        query = query.where(ProcessInstance.business_key.like(selection.business_key_like.replace("*", "%")))
    return query.order_by(ProcessInstance.started_at, ProcessInstance.id)


def execute_now(ctx: AppContext, *, actor: Actor, plan: Plan, selection: Selection) -> int:
    """Migrate every selected instance in this request, all or none: any instance that cannot migrate refuses
    the whole call (use a batch to migrate what can and report the rest)."""
    checks = validate(ctx, actor=actor, plan=plan, selection=selection)
    failed = [c for c in checks if not c.valid]
    if failed:
        raise InvalidInput(f"{len(failed)} of {len(checks)} instance(s) cannot migrate; first "
                           f"{failed[0].instance_id}: {failed[0].problems[0].message}",
                           problems=[Problem(p.message, element_id=p.element_id, field=c.instance_id)
                                     for c in failed for p in c.problems])
    if len(checks) > MAX_SYNC_INSTANCES:
        raise InvalidInput(f"{len(checks)} instances are more than {MAX_SYNC_INSTANCES}: start a batch instead")
    with ctx.db.transaction() as session:
        for check in checks:
            instance = session.get(ProcessInstance, check.instance_id, with_for_update=True)
            assert instance is not None
            _migrate_instance(ctx, session, instance, plan, actor=actor, batch_id=None)
    return len(checks)


def start_batch(ctx: AppContext, *, actor: Actor, plan: Plan, selection: Selection) -> MigrationBatch:
    """Queue the selected instances; the worker migrates them one transaction each."""
    _check_instructions(ctx, plan)
    require_may_migrate(actor)
    with ctx.db.transaction() as session:
        ids = list(session.scalars(_selected(plan, selection).with_only_columns(ProcessInstance.id)))
        missing = set(selection.instance_ids or []) - set(ids)
        if missing:
            raise InvalidInput(f"{len(missing)} instance(s) are not running on the plan's source version, e.g. "
                               f"{sorted(missing)[0]}")
        batch = MigrationBatch(source_definition_id=plan.source_definition_id,
                               target_definition_id=plan.target_definition_id, instructions=plan.instructions,
                               total=len(ids), created_by=actor.username,
                               state=BatchState.RUNNING if ids else BatchState.COMPLETED,
                               finished_at=None if ids else utcnow())
        session.add(batch)
        session.flush()
        if ids:
            session.execute(insert(MigrationItem), [{"batch_id": batch.id, "instance_id": i,
                                                     "state": ItemState.PENDING} for i in ids])
        return batch


@dataclass
class Progress:
    batch: MigrationBatch
    done: int
    failed: int
    remaining: int
    failures: list[MigrationItem]


def progress(ctx: AppContext, *, actor: Actor, batch_id: str, failures_limit: int = 100) -> Progress:
    if not actor.sees_all_work:
        raise Forbidden("migration batches are visible to admins and the head of sales")
    with ctx.db.read() as session:
        batch = session.get(MigrationBatch, batch_id)
        if batch is None:
            raise NotFound(f"migration batch {batch_id} not found")
        counts = dict(session.execute(select(MigrationItem.state, func.count())
                                      .where(MigrationItem.batch_id == batch_id)
                                      .group_by(MigrationItem.state)).all())
        failures = list(session.scalars(select(MigrationItem).where(MigrationItem.batch_id == batch_id,
                                                                    MigrationItem.state == ItemState.FAILED)
                                        .order_by(MigrationItem.finished_at).limit(failures_limit)))
        return Progress(batch, counts.get(ItemState.MIGRATED, 0), counts.get(ItemState.FAILED, 0),
                        counts.get(ItemState.PENDING, 0), failures)


def list_batches(ctx: AppContext, *, actor: Actor) -> list[Progress]:
    if not actor.sees_all_work:
        raise Forbidden("migration batches are visible to admins and the head of sales")
    with ctx.db.read() as session:
        ids = list(session.scalars(select(MigrationBatch.id).order_by(MigrationBatch.created_at.desc())
                                   .limit(100)))
    return [progress(ctx, actor=actor, batch_id=i, failures_limit=0) for i in ids]


def run_pending(ctx: AppContext, *, limit: int) -> int:
    """The worker's share: migrate up to `limit` pending instances, each in its own transaction; returns how
    many were handled (migrated or failed)."""

    with ctx.db.read() as session:
        pending = session.execute(
            select(MigrationItem.batch_id, MigrationItem.instance_id)
            .join(MigrationBatch, MigrationBatch.id == MigrationItem.batch_id)
            .where(MigrationBatch.state == BatchState.RUNNING, MigrationItem.state == ItemState.PENDING)
            .limit(limit)).all()
    handled = 0
    for batch_id, instance_id in pending:
        try:
            handled += _run_item(ctx, batch_id, instance_id)
        except Conflict:
            continue  # the instance moved at the same moment: it stays pending and is tried again
    for batch_id in {b for b, _ in pending}:
        _finish_if_done(ctx, batch_id)
    return handled


def _run_item(ctx: AppContext, batch_id: str, instance_id: str) -> int:
    with ctx.db.transaction() as session:
        item_query = select(MigrationItem).where(MigrationItem.batch_id == batch_id,
                                                 MigrationItem.instance_id == instance_id,
                                                 MigrationItem.state == ItemState.PENDING)
        if not ctx.db.is_sqlite:
            item_query = item_query.with_for_update(skip_locked=True)
        item = session.scalar(item_query)
        if item is None:
            return 0  # another worker has it, or it is done
        batch = session.get(MigrationBatch, batch_id)
        instance = session.get(ProcessInstance, instance_id, with_for_update=True)
        assert batch is not None and instance is not None
        plan = Plan(batch.source_definition_id, batch.target_definition_id, list(batch.instructions))
        problems = _instance_problems(plan, instance)
        actor = Actor(batch.created_by or "system", frozenset({"admin"}))
        if not problems:
            try:
                _migrate_instance(ctx, session, instance, plan, actor=actor, batch_id=batch_id)
            except migration.MigrationRefused as refused:
                problems = [Problem(o.message, element_id=o.element_id) for o in refused.obstacles]
        item.state = ItemState.FAILED if problems else ItemState.MIGRATED
        item.reason = "; ".join(p.message for p in problems) or None
        item.finished_at = utcnow()
        return 1


def _finish_if_done(ctx: AppContext, batch_id: str) -> None:
    with ctx.db.transaction() as session:
        left = session.scalar(select(MigrationItem.instance_id).where(
            MigrationItem.batch_id == batch_id, MigrationItem.state == ItemState.PENDING).limit(1))
        if left is None:
            session.execute(update(MigrationBatch).where(MigrationBatch.id == batch_id,
                                                         MigrationBatch.state == BatchState.RUNNING)
                            .values(state=BatchState.COMPLETED, finished_at=utcnow()))


def _migrate_instance(ctx: AppContext, session: Session, instance: ProcessInstance, plan: Plan, *,
                      actor: Actor, batch_id: str | None) -> None:
    source = ctx.runtimes.get(session, plan.source_definition_id)
    target = ctx.runtimes.get(session, plan.target_definition_id)
    step = migration.migrate(source, target, instance.state, plan.mapping)
    versions = dict(session.execute(select(ProcessDefinition.id, ProcessDefinition.version).where(
        ProcessDefinition.id.in_([plan.source_definition_id, plan.target_definition_id]))).all())
    instance.migrated_from_id = instance.migrated_from_id or instance.definition_id
    instance.definition_id = plan.target_definition_id
    add_event(session, instance, EventKind.INSTANCE_MIGRATED, actor=actor,
              data={"from_version": versions[plan.source_definition_id],
                    "to_version": versions[plan.target_definition_id],
                    "from_definition_id": plan.source_definition_id,
                    "to_definition_id": plan.target_definition_id, "batch_id": batch_id})
    record_step(session, instance, step, actor=actor, limits=ctx.limits)
    reproject_open_tasks(session, instance, step, limits=ctx.limits)
