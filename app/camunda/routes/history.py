"""/history: process instances and tasks, running and ended (from the same rows the runtime reads)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.camunda.dates import camunda_date
from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, SortBy, SortOrder, page_size, sort_key
from app.camunda.dto import CountOut, duration_ms
from app.db.models import EventKind, HistoryEvent, InstanceStatus, Task, TaskState
from app.services import deployments, instances, tasks
from app.services.context import AppContext
from app.services.instances import InstanceView
from app.services.tasks import TaskFilter

router = APIRouter(tags=["history"])

_INSTANCE_STATES = {InstanceStatus.RUNNING: "ACTIVE", InstanceStatus.FAILED: "ACTIVE",
                    InstanceStatus.COMPLETED: "COMPLETED", InstanceStatus.TERMINATED: "EXTERNALLY_TERMINATED"}
_ENDED = [InstanceStatus.COMPLETED, InstanceStatus.TERMINATED]


class InstanceHistoryQuery:
    def __init__(
        self,
        process_instance_id: Annotated[str | None, Query(alias="processInstanceId")] = None,
        business_key: Annotated[str | None, Query(alias="processInstanceBusinessKey")] = None,
        business_key_like: Annotated[str | None, Query(alias="processInstanceBusinessKeyLike")] = None,
        definition_id: Annotated[str | None, Query(alias="processDefinitionId")] = None,
        definition_key: Annotated[str | None, Query(alias="processDefinitionKey")] = None,
        started_by: Annotated[str | None, Query(alias="startedBy")] = None,
        finished: bool = False, unfinished: bool = False,
        sort_by: SortBy = None, sort_order: SortOrder = None,
    ) -> None:
        statuses: list[str] | None = None
        if finished and unfinished:
            statuses = []
        elif finished:
            statuses = list(_ENDED)
        elif unfinished:
            statuses = [InstanceStatus.RUNNING, InstanceStatus.FAILED]
        _sort, descending = sort_key(sort_by, sort_order, {"startTime": "started"})
        self.kwargs: dict[str, Any] = dict(
            instance_ids=[process_instance_id] if process_instance_id else None, business_key=business_key,
            business_key_like=business_key_like, definition_id=definition_id, definition_key=definition_key,
            started_by=started_by, statuses=statuses, oldest_first=not descending)


def _historic_instances(ctx: AppContext, actor: CurrentActor, views: list[InstanceView]) -> list[dict[str, Any]]:
    ids = list({v.instance.definition_id for v in views})
    names = {}
    if ids:
        rows, _ = deployments.list_definitions(ctx, actor=actor, latest_only=False, definition_ids=ids,
                                               limit=len(ids))
        names = {d.id: d.name for d in rows}
    out = []
    for view in views:
        i = view.instance
        out.append({
            "id": i.id, "businessKey": i.business_key, "processDefinitionId": i.definition_id,
            "processDefinitionKey": i.definition_key, "processDefinitionName": names.get(i.definition_id),
            "processDefinitionVersion": view.definition_version, "startTime": camunda_date(i.started_at),
            "endTime": camunda_date(i.ended_at), "removalTime": None,
            "durationInMillis": duration_ms(i.started_at, i.ended_at), "startUserId": i.started_by,
            "startActivityId": None, "deleteReason": None, "rootProcessInstanceId": i.id,
            "superProcessInstanceId": None, "superCaseInstanceId": None, "caseInstanceId": None,
            "tenantId": None, "state": _INSTANCE_STATES.get(i.status, "ACTIVE"),
        })
    return out


InstanceFilter = Annotated[InstanceHistoryQuery, Depends()]


@router.get("/history/process-instance", summary="Process instances, running and ended")
def list_historic_instances(ctx: Context, actor: CurrentActor, query: InstanceFilter, first_result: FirstResult = 0,
                            max_results: MaxResults = None) -> list[dict[str, Any]]:
    views, _total = instances.list_instances(ctx, actor=actor, limit=page_size(max_results), offset=first_result,
                                             **query.kwargs)
    return _historic_instances(ctx, actor, views)


@router.get("/history/process-instance/count", response_model=CountOut, summary="Count process instances")
def count_historic_instances(ctx: Context, actor: CurrentActor, query: InstanceFilter) -> CountOut:
    _views, total = instances.list_instances(ctx, actor=actor, limit=0, **query.kwargs)
    return CountOut(count=total)


@router.get("/history/process-instance/{instance_id}", summary="One process instance, running or ended")
def get_historic_instance(ctx: Context, actor: CurrentActor, instance_id: str) -> dict[str, Any]:
    return _historic_instances(ctx, actor, [instances.get_instance(ctx, actor=actor, instance_id=instance_id)])[0]


_TASK_SORTS = {"startTime": "created", "taskId": "id", "taskName": "name", "assignee": "assignee",
               "priority": "priority", "dueDate": "due", "processInstanceId": "instance"}


def task_history_filter(
    task_id: Annotated[str | None, Query(alias="taskId")] = None,
    process_instance_id: Annotated[str | None, Query(alias="processInstanceId")] = None,
    business_key: Annotated[str | None, Query(alias="processInstanceBusinessKey")] = None,
    definition_id: Annotated[str | None, Query(alias="processDefinitionId")] = None,
    definition_key: Annotated[str | None, Query(alias="processDefinitionKey")] = None,
    task_definition_key: Annotated[str | None, Query(alias="taskDefinitionKey")] = None,
    task_name: Annotated[str | None, Query(alias="taskName")] = None,
    task_name_like: Annotated[str | None, Query(alias="taskNameLike")] = None,
    task_assignee: Annotated[str | None, Query(alias="taskAssignee")] = None,
    finished: bool = False, unfinished: bool = False,
    sort_by: SortBy = None, sort_order: SortOrder = None,
) -> TaskFilter:
    states: list[str] | None = None
    if finished and unfinished:
        states = []
    elif finished:
        states = [TaskState.COMPLETED, TaskState.CANCELLED]
    elif unfinished:
        states = [TaskState.OPEN]
    sort, descending = sort_key(sort_by, sort_order, _TASK_SORTS)
    return TaskFilter(scope="all", state=None, states=states, task_ids=[task_id] if task_id else None,
                      instance_id=process_instance_id, business_key=business_key, definition_id=definition_id,
                      definition_key=definition_key, element_id=task_definition_key, name=task_name,
                      name_like=task_name_like, assignee=task_assignee, sort=sort or "created",
                      descending=descending)


TaskHistoryFilter = Annotated[TaskFilter, Depends(task_history_filter)]
_DELETE_REASONS = {TaskState.COMPLETED: "completed", TaskState.CANCELLED: "deleted"}


def _historic_task(task: Task, definition_id: str | None) -> dict[str, Any]:
    return {
        "id": task.id, "processDefinitionKey": task.definition_key, "processDefinitionId": definition_id,
        "processInstanceId": task.instance_id, "executionId": task.instance_id, "caseDefinitionKey": None,
        "caseDefinitionId": None, "caseInstanceId": None, "caseExecutionId": None, "activityInstanceId": None,
        "name": task.name, "description": task.documentation, "deleteReason": _DELETE_REASONS.get(task.state),
        "owner": None, "assignee": task.assignee or task.completed_by, "startTime": camunda_date(task.created_at),
        "endTime": camunda_date(task.completed_at), "duration": duration_ms(task.created_at, task.completed_at),
        "taskDefinitionKey": task.element_id, "priority": task.priority, "due": camunda_date(task.due_at),
        "parentTaskId": None, "followUp": None, "tenantId": None, "removalTime": None,
        "rootProcessInstanceId": task.instance_id, "taskState": _DELETE_REASONS.get(task.state, "Created").title(),
    }


@router.get("/history/task", summary="Tasks, open and ended")
def list_historic_tasks(ctx: Context, actor: CurrentActor, flt: TaskHistoryFilter, first_result: FirstResult = 0,
                        max_results: MaxResults = None) -> list[dict[str, Any]]:
    rows, _total = tasks.list_tasks(ctx, actor=actor, flt=flt, limit=page_size(max_results), offset=first_result)
    definitions = instances.definition_ids_of(ctx, instance_ids=[t.instance_id for t in rows])
    return [_historic_task(t, definitions.get(t.instance_id)) for t in rows]


@router.get("/history/task/count", response_model=CountOut, summary="Count tasks, open and ended")
def count_historic_tasks(ctx: Context, actor: CurrentActor, flt: TaskHistoryFilter) -> CountOut:
    return CountOut(count=tasks.count_tasks(ctx, actor=actor, flt=flt))


def _activity(event: HistoryEvent) -> dict[str, Any]:
    return {
        "id": str(event.id), "parentActivityInstanceId": None, "activityId": event.element_id,
        "activityName": event.element_name, "activityType": _activity_type(event.element_type),
        "processDefinitionKey": None, "processDefinitionId": event.definition_id,
        "processInstanceId": event.instance_id, "executionId": event.instance_id, "taskId": event.task_id,
        "assignee": event.actor, "calledProcessInstanceId": None, "calledCaseInstanceId": None,
        "startTime": camunda_date(event.at), "endTime": camunda_date(event.at), "durationInMillis": 0,
        "canceled": event.kind == EventKind.TASK_CANCELLED, "completeScope": False, "tenantId": None,
        "removalTime": None, "rootProcessInstanceId": event.instance_id, "voronkaEvent": event.kind,
    }


def _activity_type(element_type: str | None) -> str | None:
    """SpiffWorkflow's class name (UserTask, ExclusiveGateway) as Camunda's activity type (userTask, ...)."""
    return element_type[0].lower() + element_type[1:] if element_type else None


@router.get("/history/activity-instance", summary="An instance's history, one element event per row",
            description="Requires `processInstanceId`; pages with `firstResult`/`maxResults`, oldest first.")
def list_activity_instances(ctx: Context, actor: CurrentActor,
                            process_instance_id: Annotated[str, Query(alias="processInstanceId")],
                            first_result: FirstResult = 0, max_results: MaxResults = None) -> list[dict[str, Any]]:
    events, _total = instances.instance_history(ctx, actor=actor, instance_id=process_instance_id,
                                                limit=page_size(max_results), offset=first_result,
                                                elements_only=True)
    return [_activity(e) for e in events]


@router.get("/history/activity-instance/count", response_model=CountOut, summary="Count an instance's element events")
def count_activity_instances(ctx: Context, actor: CurrentActor,
                             process_instance_id: Annotated[str, Query(alias="processInstanceId")]) -> CountOut:
    _events, total = instances.instance_history(ctx, actor=actor, instance_id=process_instance_id, limit=0,
                                                elements_only=True)
    return CountOut(count=total)
