"""Camunda 7 REST shapes (camelCase on the wire) and the translations from our rows into them.

Every field a Camunda client may read is present, `null` where we have no such concept (tenants, cases,
suspension), because strict clients (pycamunda) index the keys directly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer
from pydantic.alias_generators import to_camel

from app.camunda.dates import camunda_date
from app.db.models import Deployment, ProcessDefinition, ProcessInstance, Task


class CamundaModel(BaseModel):
    """camelCase on the wire, unknown request fields ignored (clients send many we do not use)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore")


# --- requests ---------------------------------------------------------------------------------------------


class StartInstanceIn(CamundaModel):
    business_key: str | None = Field(default=None, max_length=255)
    variables: dict[str, Any] | None = None
    with_variables_in_return: bool = False


class SubmitFormIn(CamundaModel):
    business_key: str | None = Field(default=None, max_length=255)
    variables: dict[str, Any] | None = None


class CompleteTaskIn(CamundaModel):
    variables: dict[str, Any] | None = None
    with_variables_in_return: bool = False


class UserIdIn(CamundaModel):
    user_id: str | None = None


# --- responses --------------------------------------------------------------------------------------------


class CountOut(CamundaModel):
    count: int


class VersionOut(CamundaModel):
    version: str


class DeploymentOut(CamundaModel):
    links: list[dict[str, Any]] = Field(default_factory=list)
    id: str
    name: str | None
    source: str | None
    deployment_time: str | None
    tenant_id: str | None = None


class ProcessDefinitionOut(CamundaModel):
    id: str
    key: str
    category: str | None = None
    description: str | None = None
    name: str | None
    version: int
    resource: str | None
    deployment_id: str
    diagram: str | None = None
    suspended: bool = False
    tenant_id: str | None = None
    version_tag: str | None = None
    history_time_to_live: int | None = None
    startable_in_tasklist: bool = True


class DeploymentWithDefinitionsOut(DeploymentOut):
    deployed_process_definitions: dict[str, ProcessDefinitionOut] | None = None
    deployed_case_definitions: dict[str, Any] | None = None
    deployed_decision_definitions: dict[str, Any] | None = None
    deployed_decision_requirements_definitions: dict[str, Any] | None = None


class ResourceOut(CamundaModel):
    id: str
    name: str
    deployment_id: str


class XmlOut(CamundaModel):
    id: str
    bpmn20_xml: str = Field(alias="bpmn20Xml")


class ProcessInstanceOut(CamundaModel):
    links: list[dict[str, Any]] = Field(default_factory=list)
    id: str
    definition_id: str
    definition_key: str | None = None
    business_key: str | None
    case_instance_id: str | None = None
    ended: bool
    suspended: bool = False
    tenant_id: str | None = None
    variables: dict[str, dict[str, Any]] | None = None

    @model_serializer(mode="wrap")
    def _variables_only_when_asked(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # Camunda sends `variables` only with withVariablesInReturn; clients read the key when present.
        data = handler(self)
        if self.variables is None:
            data.pop("variables", None)
        return data


class TaskOut(CamundaModel):
    id: str
    name: str | None
    assignee: str | None
    owner: str | None = None
    created: str | None
    last_updated: str | None = None
    due: str | None
    follow_up: str | None = None
    delegation_state: str | None = None
    description: str | None
    execution_id: str | None
    parent_task_id: str | None = None
    priority: int
    process_definition_id: str | None
    process_instance_id: str
    task_definition_key: str
    case_execution_id: str | None = None
    case_instance_id: str | None = None
    case_definition_id: str | None = None
    suspended: bool = False
    form_key: str | None = None
    camunda_form_ref: dict[str, Any] | None = None
    tenant_id: str | None = None
    task_state: str | None = None


# --- translations -----------------------------------------------------------------------------------------


def deployment_out(deployment: Deployment) -> DeploymentOut:
    return DeploymentOut(id=deployment.id, name=deployment.name, source=deployment.source,
                         deployment_time=camunda_date(deployment.created_at))


def definition_out(definition: ProcessDefinition) -> ProcessDefinitionOut:
    return ProcessDefinitionOut(id=definition.id, key=definition.key, name=definition.name,
                                version=definition.version, resource=definition.filename,
                                deployment_id=definition.deployment_id,
                                # A draft or rejected version starts no instances: Camunda calls that suspended.
                                suspended=definition.state != "approved")


def instance_out(instance: ProcessInstance, variables: dict[str, dict[str, Any]] | None = None
                 ) -> ProcessInstanceOut:
    return ProcessInstanceOut(id=instance.id, definition_id=instance.definition_id,
                              definition_key=instance.definition_key, business_key=instance.business_key,
                              ended=instance.ended_at is not None, variables=variables)


_TASK_STATES = {"open": "Created", "completed": "Completed", "cancelled": "Deleted"}


def task_out(task: Task, definition_id: str | None) -> TaskOut:
    state = _TASK_STATES.get(task.state)
    if task.state == "open" and task.assignee:
        state = "Assigned"
    return TaskOut(
        id=task.id, name=task.name, assignee=task.assignee, created=camunda_date(task.created_at),
        last_updated=camunda_date(task.claimed_at), due=camunda_date(task.due_at),
        description=task.documentation, execution_id=task.instance_id, priority=task.priority,
        process_definition_id=definition_id, process_instance_id=task.instance_id,
        task_definition_key=task.element_id, task_state=state,
    )


def duration_ms(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None:
        return None
    return int((end - start).total_seconds() * 1000)


class InstanceQueryIn(CamundaModel):
    """Runtime process instance query (GET parameters or POST body)."""

    process_instance_ids: list[str] | None = None
    business_key: str | None = None
    business_key_like: str | None = None
    process_definition_id: str | None = None
    process_definition_key: str | None = None
    active: bool | None = None
    suspended: bool | None = None
    with_incident: bool | None = None


class SortingIn(CamundaModel):
    sort_by: str
    sort_order: str = "asc"


class TaskQueryIn(CamundaModel):
    """Task query (GET parameters or POST body); the parameters not listed here are ignored."""

    task_id: str | None = None
    task_id_in: list[str] | None = None
    process_instance_id: str | None = None
    process_instance_business_key: str | None = None
    process_definition_id: str | None = None
    process_definition_key: str | None = None
    process_definition_key_in: list[str] | None = None
    task_definition_key: str | None = None
    task_definition_key_in: list[str] | None = None
    name: str | None = None
    name_like: str | None = None
    assignee: str | None = None
    assignee_in: list[str] | None = None
    candidate_group: str | None = None
    candidate_groups: list[str] | None = None
    candidate_user: str | None = None
    include_assigned_tasks: bool = False
    assigned: bool | None = None
    unassigned: bool | None = None
    created_after: str | None = None
    created_before: str | None = None
    due_after: str | None = None
    due_before: str | None = None
    priority: int | None = None
    min_priority: int | None = None
    max_priority: int | None = None
    suspended: bool | None = None
    sort_by: str | None = None
    sort_order: str | None = None
    sorting: list[SortingIn] | None = None


class UserProfileIn(CamundaModel):
    id: str
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None


class UserCredentialsIn(CamundaModel):
    password: str
    authenticated_user_password: str | None = None


class UserCreateIn(CamundaModel):
    profile: UserProfileIn
    credentials: UserCredentialsIn


class UserProfileOut(CamundaModel):
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None


class GroupIn(CamundaModel):
    id: str
    name: str | None = None
    type: str | None = None


class GroupOut(CamundaModel):
    id: str
    name: str | None
    type: str | None = None
