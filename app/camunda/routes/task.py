"""/task: the user-task queries (GET and POST), claim, unclaim, assignee, complete, forms and variables."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import ValidationError

from app.camunda.dates import parse_camunda_date
from app.camunda.deps import Context, CurrentActor, FirstResult, MaxResults, csv, page_size, sort_key
from app.camunda.dto import CompleteTaskIn, CountOut, TaskOut, TaskQueryIn, UserIdIn, task_out
from app.camunda.files import file_response
from app.camunda.variables import decode_variables, encode_value, encode_variables, form_variables
from app.db.models import Task
from app.errors import Conflict, NotFound
from app.services import instances, tasks
from app.services.context import AppContext
from app.services.tasks import TaskFilter

router = APIRouter(tags=["task"])

_SORTS = {"created": "created", "dueDate": "due", "priority": "priority", "name": "name",
          "nameCaseInsensitive": "name", "assignee": "assignee", "id": "id", "instanceId": "instance"}
_LISTS = ("taskIdIn", "processDefinitionKeyIn", "taskDefinitionKeyIn", "assigneeIn", "candidateGroups")


async def query_from_params(request: Request) -> TaskQueryIn:
    """GET parameters by their Camunda names; the `...In` ones and candidateGroups are comma-separated."""
    params: dict[str, Any] = dict(request.query_params)
    for name in _LISTS:
        if name in params:
            params[name] = csv(params[name])
    params.pop("firstResult", None)
    params.pop("maxResults", None)
    try:
        return TaskQueryIn.model_validate(params)
    except ValidationError as exc:  # a malformed boolean or number in the URL: 400 naming it, like a body
        raise RequestValidationError(exc.errors(include_url=False)) from None


ParamQuery = Annotated[TaskQueryIn, Depends(query_from_params)]


def task_filter(query: TaskQueryIn) -> TaskFilter:
    sort_by, sort_order = query.sort_by, query.sort_order
    if query.sorting:
        sort_by, sort_order = query.sorting[0].sort_by, query.sorting[0].sort_order
    sort, descending = sort_key(sort_by, sort_order, _SORTS)
    by_candidate = bool(query.candidate_group or query.candidate_groups or query.candidate_user)
    assigned = query.assigned or None
    if query.unassigned or (by_candidate and not query.include_assigned_tasks):
        assigned = False  # Camunda leaves assigned tasks out of candidate queries unless asked
    groups = list(query.candidate_groups or [])
    if query.candidate_group:
        groups.append(query.candidate_group)
    ids = query.task_id_in
    if query.task_id:
        ids = [i for i in (ids or [query.task_id]) if i == query.task_id]
    return TaskFilter(
        scope="all", state="open", states=[] if query.suspended else None, task_ids=ids,
        assignee=query.assignee, assignees=query.assignee_in, candidate_groups=groups or None,
        candidate_for=query.candidate_user, assigned=assigned, instance_id=query.process_instance_id,
        business_key=query.process_instance_business_key, definition_id=query.process_definition_id,
        definition_key=query.process_definition_key, definition_keys=query.process_definition_key_in,
        element_id=query.task_definition_key, element_ids=query.task_definition_key_in, name=query.name,
        name_like=query.name_like, created_after=_date(query.created_after, "createdAfter"),
        created_before=_date(query.created_before, "createdBefore"), due_after=_date(query.due_after, "dueAfter"),
        due_before=_date(query.due_before, "dueBefore"),
        min_priority=query.priority if query.priority is not None else query.min_priority,
        max_priority=query.priority if query.priority is not None else query.max_priority,
        sort=sort or "created", descending=descending,
    )


def _date(value: str | None, field: str) -> Any:
    return parse_camunda_date(value, field=field) if value else None


def tasks_out(ctx: AppContext, rows: list[Task]) -> list[TaskOut]:
    definitions = instances.definition_ids_of(ctx, instance_ids=[t.instance_id for t in rows])
    return [task_out(t, definitions.get(t.instance_id)) for t in rows]


def _list(ctx: AppContext, actor: CurrentActor, query: TaskQueryIn, first: int, size: int | None) -> list[TaskOut]:
    rows, _total = tasks.list_tasks(ctx, actor=actor, flt=task_filter(query), limit=page_size(size), offset=first)
    return tasks_out(ctx, rows)


@router.get("/task", response_model=list[TaskOut], summary="List open tasks")
def list_tasks(ctx: Context, actor: CurrentActor, query: ParamQuery, first_result: FirstResult = 0,
               max_results: MaxResults = None) -> list[TaskOut]:
    return _list(ctx, actor, query, first_result, max_results)


@router.post("/task", response_model=list[TaskOut], summary="Query open tasks (query body)")
def query_tasks(ctx: Context, actor: CurrentActor, body: TaskQueryIn, first_result: FirstResult = 0,
                max_results: MaxResults = None) -> list[TaskOut]:
    return _list(ctx, actor, body, first_result, max_results)


@router.get("/task/count", response_model=CountOut, summary="Count open tasks")
def count_tasks(ctx: Context, actor: CurrentActor, query: ParamQuery) -> CountOut:
    return CountOut(count=tasks.count_tasks(ctx, actor=actor, flt=task_filter(query)))


@router.post("/task/count", response_model=CountOut, summary="Count open tasks (query body)")
def count_tasks_post(ctx: Context, actor: CurrentActor, body: TaskQueryIn) -> CountOut:
    return CountOut(count=tasks.count_tasks(ctx, actor=actor, flt=task_filter(body)))


def _open_detail(ctx: AppContext, actor: CurrentActor, task_id: str) -> tasks.TaskDetail:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    if detail.task.state != "open":
        raise NotFound(f"No matching task with id {task_id} (it is {detail.task.state})")
    return detail


@router.get("/task/{task_id}", response_model=TaskOut, summary="Get an open task")
def get_task(ctx: Context, actor: CurrentActor, task_id: str) -> TaskOut:
    return tasks_out(ctx, [_open_detail(ctx, actor, task_id).task])[0]


@router.post("/task/{task_id}/claim", status_code=204, summary="Claim a task",
             description="`userId` is the caller (a claim), or another user (managers: an assignment).")
def claim_task(ctx: Context, actor: CurrentActor, task_id: str, body: UserIdIn | None = None) -> Response:
    user_id = body.user_id if body and body.user_id else actor.username
    if user_id == actor.username:
        tasks.claim_task(ctx, actor=actor, task_id=task_id)
    else:
        current = _open_detail(ctx, actor, task_id).task.assignee
        if current is not None and current != user_id:
            raise Conflict(f"Task '{task_id}' is already claimed by someone else.")
        tasks.assign_task(ctx, actor=actor, task_id=task_id, assignee=user_id)
    return Response(status_code=204)


@router.post("/task/{task_id}/unclaim", status_code=204, summary="Release a claimed task")
def unclaim_task(ctx: Context, actor: CurrentActor, task_id: str) -> Response:
    tasks.unclaim_task(ctx, actor=actor, task_id=task_id)
    return Response(status_code=204)


@router.post("/task/{task_id}/assignee", status_code=204, summary="Set the assignee",
             description="Managers reassign; `userId: null` gives the task back to its candidates.")
def set_assignee(ctx: Context, actor: CurrentActor, task_id: str, body: UserIdIn) -> Response:
    tasks.assign_task(ctx, actor=actor, task_id=task_id, assignee=body.user_id)
    return Response(status_code=204)


def _complete(ctx: AppContext, actor: CurrentActor, task_id: str, body: CompleteTaskIn | None) -> Response:
    body = body or CompleteTaskIn()
    task = tasks.complete_task(ctx, actor=actor, task_id=task_id, variables=decode_variables(body.variables))
    if not body.with_variables_in_return:
        return Response(status_code=204)
    view = instances.get_instance(ctx, actor=actor, instance_id=task.instance_id)
    return JSONResponse(encode_variables(view.instance.variables))


@router.post("/task/{task_id}/complete", summary="Complete a task",
             responses={204: {"description": "Completed"}, 200: {"description": "withVariablesInReturn"}})
def complete_task(ctx: Context, actor: CurrentActor, task_id: str, body: CompleteTaskIn | None = None) -> Response:
    return _complete(ctx, actor, task_id, body)


@router.post("/task/{task_id}/submit-form", summary="Complete a task with its form's values",
             responses={204: {"description": "Completed"}, 200: {"description": "withVariablesInReturn"}})
def submit_form(ctx: Context, actor: CurrentActor, task_id: str, body: CompleteTaskIn | None = None) -> Response:
    return _complete(ctx, actor, task_id, body)


@router.get("/task/{task_id}/form", summary="The task's form reference")
def get_form(ctx: Context, actor: CurrentActor, task_id: str) -> dict[str, Any]:
    _open_detail(ctx, actor, task_id)
    return {"key": None, "contextPath": None, "camundaFormRef": None}


@router.get("/task/{task_id}/form-variables", summary="The task's form fields with current values")
def get_form_variables(ctx: Context, actor: CurrentActor, task_id: str,
                       variable_names: Annotated[str | None, Query(alias="variableNames")] = None
                       ) -> dict[str, dict[str, Any]]:
    detail = _open_detail(ctx, actor, task_id)
    names = csv(variable_names)
    return form_variables(detail.task.form or [], detail.data, set(names) if names is not None else None)


@router.get("/task/{task_id}/variables", summary="The variables visible from the task")
def get_variables(ctx: Context, actor: CurrentActor, task_id: str,
                  variable_names: Annotated[str | None, Query(alias="variableNames")] = None
                  ) -> dict[str, dict[str, Any]]:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    names = csv(variable_names)
    return encode_variables(detail.data, set(names) if names is not None else None)


@router.get("/task/{task_id}/variables/{name}", summary="One variable visible from the task")
def get_variable(ctx: Context, actor: CurrentActor, task_id: str, name: str) -> dict[str, Any]:
    detail = tasks.get_task(ctx, actor=actor, task_id=task_id)
    if name not in detail.data:
        raise NotFound(f"task variable with name {name} does not exist")
    return encode_value(detail.data[name])


@router.get("/task/{task_id}/variables/{name}/data", summary="The bytes of a File variable visible from the task",
            response_class=StreamingResponse)
def get_variable_data(ctx: Context, actor: CurrentActor, task_id: str, name: str) -> StreamingResponse:
    task = tasks.get_task(ctx, actor=actor, task_id=task_id).task
    return file_response(ctx, actor, task.instance_id, name)


@router.get("/task/{task_id}/identity-links", summary="Candidates and assignee of a task")
def identity_links(ctx: Context, actor: CurrentActor, task_id: str,
                   type: str | None = None) -> list[dict[str, Any]]:  # noqa: A002 (Camunda's name)
    task = tasks.get_task(ctx, actor=actor, task_id=task_id).task
    links = [{"userId": None, "groupId": g, "type": "candidate"} for g in task.candidate_groups]
    links += [{"userId": u, "groupId": None, "type": "candidate"} for u in task.candidate_users]
    if task.assignee:
        links.append({"userId": task.assignee, "groupId": None, "type": "assignee"})
    return [link for link in links if type is None or link["type"] == type]
