"""Migration of running instances between versions: plan, validate, execute as a background batch."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.deps import Context, CurrentActor
from app.api.schemas.common import Page
from app.api.schemas.regulation import (
    BatchCreated,
    BatchOut,
    FailureOut,
    InstanceCheckOut,
    MigrationRequest,
    PlanIn,
    PlanOut,
    ProblemOut,
    ValidationOut,
)
from app.services import migrations

router = APIRouter(prefix="/migrations", tags=["migrations"])


def plan_of(body: PlanIn) -> migrations.Plan:
    return migrations.Plan(body.source_definition_id, body.target_definition_id,
                           [i.model_dump() for i in body.instructions or []])


def selection_of(body: MigrationRequest) -> migrations.Selection:
    return migrations.Selection(instance_ids=body.instance_ids,
                                business_key_like=body.filter.business_key_like if body.filter else None)


def batch_out(progress: migrations.Progress) -> BatchOut:
    b = progress.batch
    return BatchOut(id=b.id, state=b.state, source_definition_id=b.source_definition_id,  # type: ignore[arg-type]
                    target_definition_id=b.target_definition_id, total=b.total, done=progress.done,
                    failed=progress.failed, remaining=progress.remaining, created_by=b.created_by,
                    created_at=b.created_at, finished_at=b.finished_at,
                    failures=[FailureOut(instance_id=f.instance_id, reason=f.reason) for f in progress.failures])


@router.post("/plan", response_model=PlanOut, summary="Generate a migration plan (admins)",
             description="Maps every element of the source version to the element with the same id in the target; "
                         "`instructions` add or replace mappings for renamed elements. 400 names an instruction "
                         "whose element does not exist or is of another kind; the target must be approved.")
def generate(ctx: Context, actor: CurrentActor, body: PlanIn) -> PlanOut:
    plan = migrations.generate_plan(ctx, actor=actor, source_definition_id=body.source_definition_id,
                                    target_definition_id=body.target_definition_id,
                                    instructions=[i.model_dump() for i in body.instructions or []])
    return PlanOut.model_validate(plan)


@router.post("/validate", response_model=ValidationOut, summary="Validate a plan per instance (admins)",
             description="For each selected instance (`instance_ids`, or `filter`; neither: every running instance "
                         "of the source version): would it migrate, and if not, why (an element it waits in has no "
                         "mapping, a timer it waits on changed, a sub-process it waits in changed). Writes nothing.")
def validate(ctx: Context, actor: CurrentActor, body: MigrationRequest) -> ValidationOut:
    plan = plan_of(body.plan)
    plan_problems = migrations.check_plan(ctx, actor=actor, plan=plan)
    checks = [] if plan_problems else migrations.validate(ctx, actor=actor, plan=plan,
                                                           selection=selection_of(body))
    return ValidationOut(
        plan_problems=[ProblemOut(message=p.message, element_id=p.element_id) for p in plan_problems],
        instances=[InstanceCheckOut(instance_id=c.instance_id, business_key=c.business_key, valid=c.valid,
                                    problems=[ProblemOut(message=p.message, element_id=p.element_id)
                                              for p in c.problems]) for c in checks],
        valid=sum(c.valid for c in checks), invalid=sum(not c.valid for c in checks))


@router.post("", status_code=202, response_model=BatchCreated, summary="Migrate instances in the background (admins)",
             description="Queues the selected instances; the worker migrates each in its own transaction (an "
                         "instance that cannot migrate stays untouched on its version, with the reason). Follow "
                         "the progress at `GET /migrations/{id}`.")
def execute(ctx: Context, actor: CurrentActor, body: MigrationRequest) -> BatchCreated:
    batch = migrations.start_batch(ctx, actor=actor, plan=plan_of(body.plan), selection=selection_of(body))
    return BatchCreated(id=batch.id)


@router.get("", response_model=Page[BatchOut], summary="Recent migration batches",
            description="The 100 newest batches with their progress (admins and the head of sales).")
def list_batches(ctx: Context, actor: CurrentActor) -> Page[BatchOut]:
    items = [batch_out(p) for p in migrations.list_batches(ctx, actor=actor)]
    return Page[BatchOut](items=items, total=len(items))


@router.get("/{batch_id}", response_model=BatchOut, summary="Progress of a migration batch",
            description="`state` (running, completed), `total`, `done`, `failed`, `remaining`, and the failures "
                        "with their reasons (the first 100).")
def get_batch(ctx: Context, actor: CurrentActor, batch_id: str) -> BatchOut:
    return batch_out(migrations.progress(ctx, actor=actor, batch_id=batch_id))
