"""/migration and /batch: Camunda's instance migration (generate, validate, execute, executeAsync) and the batch
that reports an asynchronous migration's progress, on the same services as the native /api/v1/migrations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from pydantic import Field

from app.camunda.dates import camunda_date
from app.camunda.deps import Context, CurrentActor
from app.camunda.dto import CamundaModel, InstanceQueryIn
from app.camunda.errors import camunda_error
from app.errors import Problem
from app.services import migrations

router = APIRouter(tags=["migration"])
BATCH_TYPE = "instance-migration"


class InstructionDto(CamundaModel):
    source_activity_ids: list[str] = Field(min_length=1, max_length=1)
    target_activity_ids: list[str] = Field(min_length=1, max_length=1)
    update_event_trigger: bool = False


class PlanDto(CamundaModel):
    source_process_definition_id: str = Field(min_length=1, max_length=64)
    target_process_definition_id: str = Field(min_length=1, max_length=64)
    instructions: list[InstructionDto] = Field(default_factory=list, max_length=10000)
    variables: dict[str, Any] | None = None


class GenerationDto(CamundaModel):
    source_process_definition_id: str = Field(min_length=1, max_length=64)
    target_process_definition_id: str = Field(min_length=1, max_length=64)
    update_event_triggers: bool = False
    variables: dict[str, Any] | None = None


class ExecutionDto(CamundaModel):
    migration_plan: PlanDto
    process_instance_ids: list[str] | None = Field(default=None, max_length=100000)
    process_instance_query: InstanceQueryIn | None = None
    skip_custom_listeners: bool = False
    skip_io_mappings: bool = False


class BatchDto(CamundaModel):
    id: str
    type: str = BATCH_TYPE
    total_jobs: int
    jobs_created: int
    batch_jobs_per_seed: int = 100
    invocations_per_batch_job: int = 1
    seed_job_definition_id: str | None = None
    monitor_job_definition_id: str | None = None
    batch_job_definition_id: str | None = None
    suspended: bool = False
    tenant_id: str | None = None
    create_user_id: str | None = None
    start_time: str | None = None
    execution_start_time: str | None = None


class BatchStatisticsDto(BatchDto):
    remaining_jobs: int
    completed_jobs: int
    failed_jobs: int


def _plan(dto: PlanDto) -> migrations.Plan:
    return migrations.Plan(dto.source_process_definition_id, dto.target_process_definition_id,
                           [{"source": i.source_activity_ids[0], "target": i.target_activity_ids[0]}
                            for i in dto.instructions])


def _plan_dto(plan: migrations.Plan) -> dict[str, Any]:
    return {"sourceProcessDefinitionId": plan.source_definition_id,
            "targetProcessDefinitionId": plan.target_definition_id,
            "instructions": [{"sourceActivityIds": [i["source"]], "targetActivityIds": [i["target"]],
                              "updateEventTrigger": False} for i in plan.instructions],
            "variables": None}


def _instruction_reports(plan: migrations.Plan, problems: list[Problem]) -> list[dict[str, Any]]:
    by_source: dict[str | None, list[str]] = {}
    for problem in problems:
        by_source.setdefault(problem.element_id, []).append(problem.message)
    return [{"instruction": {"sourceActivityIds": [i["source"]], "targetActivityIds": [i["target"]],
                             "updateEventTrigger": False}, "failures": by_source[i["source"]]}
            for i in plan.instructions if i["source"] in by_source]


def _selection(body: ExecutionDto) -> migrations.Selection:
    query = body.process_instance_query
    ids = body.process_instance_ids
    if query is not None and query.process_instance_ids:
        ids = [*(ids or []), *query.process_instance_ids]
    return migrations.Selection(instance_ids=ids, business_key_like=query.business_key_like if query else None)


def _plan_refusal(ctx: Any, actor: Any, plan: migrations.Plan) -> JSONResponse | None:
    """Camunda's answer to a plan whose instructions do not hold, or None when they do."""
    problems = migrations.check_plan(ctx, actor=actor, plan=plan)
    if not problems:
        return None
    return camunda_error(400, "MigrationPlanValidationException",
                         f"Migration plan for process definition '{plan.source_definition_id}' to "
                         f"'{plan.target_definition_id}' is not valid: " + "; ".join(p.message for p in problems),
                         validationReport={"instructionReports": _instruction_reports(plan, problems),
                                           "variableReports": {}})


def _batch(progress: migrations.Progress) -> dict[str, Any]:
    b = progress.batch
    return BatchStatisticsDto(
        id=b.id, total_jobs=b.total, jobs_created=b.total, create_user_id=b.created_by,
        start_time=camunda_date(b.created_at), execution_start_time=camunda_date(b.created_at),
        remaining_jobs=progress.remaining, completed_jobs=progress.done + progress.failed,
        failed_jobs=progress.failed).model_dump(by_alias=True)


@router.post("/migration/generate", summary="Generate a migration plan",
             description="Maps the activities with the same id in both versions.")
def generate(ctx: Context, actor: CurrentActor, body: GenerationDto) -> dict[str, Any]:
    plan = migrations.generate_plan(ctx, actor=actor, source_definition_id=body.source_process_definition_id,
                                    target_definition_id=body.target_process_definition_id)
    return _plan_dto(plan)


@router.post("/migration/validate", summary="Validate a migration plan",
             description="The plan's instruction reports: instructions whose activities do not exist or differ.")
def validate(ctx: Context, actor: CurrentActor, body: PlanDto) -> dict[str, Any]:
    plan = _plan(body)
    problems = migrations.check_plan(ctx, actor=actor, plan=plan)
    return {"instructionReports": _instruction_reports(plan, problems), "variableReports": {}}


@router.post("/migration/execute", status_code=204, response_class=Response, summary="Migrate instances now",
             description="All or none: an instance that cannot migrate refuses the call with its report.")
def execute(ctx: Context, actor: CurrentActor, body: ExecutionDto) -> Response:
    plan = _plan(body.migration_plan)
    refusal = _plan_refusal(ctx, actor, plan)
    if refusal is not None:
        return refusal
    checks = migrations.validate(ctx, actor=actor, plan=plan, selection=_selection(body))
    failed = [c for c in checks if not c.valid]
    if failed:
        first = failed[0]
        return camunda_error(400, "MigratingProcessInstanceValidationException",
                             f"Cannot migrate process instance '{first.instance_id}': "
                             + "; ".join(p.message for p in first.problems),
                             validationReport={"processInstanceId": first.instance_id,
                                               "failures": [p.message for p in first.problems],
                                               "activityInstanceValidationReports": [],
                                               "transitionInstanceValidationReports": []})
    migrations.execute_now(ctx, actor=actor, plan=plan, selection=_selection(body))
    return Response(status_code=204)


@router.post("/migration/executeAsync", summary="Migrate instances in a batch",
             description="Returns the batch; its progress is at GET /batch/{id} and /batch/statistics.")
def execute_async(ctx: Context, actor: CurrentActor, body: ExecutionDto) -> Any:
    plan = _plan(body.migration_plan)
    refusal = _plan_refusal(ctx, actor, plan)
    if refusal is not None:
        return refusal
    batch = migrations.start_batch(ctx, actor=actor, plan=plan, selection=_selection(body))
    progress = migrations.progress(ctx, actor=actor, batch_id=batch.id, failures_limit=0)
    return {k: v for k, v in _batch(progress).items()
            if k not in ("remainingJobs", "completedJobs", "failedJobs")}


@router.get("/batch/statistics", summary="Batches with their progress")
def statistics(ctx: Context, actor: CurrentActor) -> list[dict[str, Any]]:
    return [_batch(p) for p in migrations.list_batches(ctx, actor=actor)]


@router.get("/batch/{batch_id}", summary="A batch")
def get_batch(ctx: Context, actor: CurrentActor, batch_id: str) -> dict[str, Any]:
    data = _batch(migrations.progress(ctx, actor=actor, batch_id=batch_id, failures_limit=0))
    return {k: v for k, v in data.items() if k not in ("remainingJobs", "completedJobs", "failedJobs")}
