"""Deploy BPMN files: parse safely, check every expression, store each executable process as a new version."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, selectinload

from app.auth.actor import Actor
from app.auth.permissions import require_admin, require_can_deploy
from app.db.models import DefinitionState, Deployment, InstanceStatus, ProcessDefinition, ProcessInstance
from app.engine.parser import ParsedProcess, parse_bpmn_files
from app.engine.script_engine import check_spec_expressions
from app.engine.serializer import dump_spec
from app.engine.xml import utf8_text
from app.errors import Conflict, InvalidInput, InvalidModel, NotFound, PayloadTooLarge, Problem
from app.services.approvals import approved_definition, state_for_new_version
from app.services.context import AppContext


@dataclass
class DeployResult:
    deployment: Deployment
    definitions: list[ProcessDefinition]
    created: bool  # False when every process was identical to its latest version


def deploy(ctx: AppContext, *, files: list[tuple[str, bytes]], actor: Actor, name: str | None = None,
           source: str | None = None) -> DeployResult:
    require_can_deploy(actor)
    _check_sizes(ctx, files)
    parsed = parse_bpmn_files(files, max_bytes=ctx.settings.max_upload_bytes)
    _check_expressions(parsed)
    with ctx.db.transaction() as session:
        result = _store(session, parsed, actor=actor, name=name or files[0][0], source=source)
        if result.created:
            from app.services.start_events import register_start_events

            for definition in result.definitions:
                # A new version (not an unchanged one) takes over the start events once it is approved.
                if definition.deployment is result.deployment and definition.state == DefinitionState.APPROVED:
                    register_start_events(ctx, session, definition)
        return result


def _check_sizes(ctx: AppContext, files: list[tuple[str, bytes]]) -> None:
    if not files:
        raise InvalidInput("no files uploaded: send one or more .bpmn files in the multipart field 'files'")
    if len(files) > ctx.settings.max_upload_files:
        raise InvalidInput(f"too many files: {len(files)} (at most {ctx.settings.max_upload_files})")
    for filename, data in files:
        if len(data) > ctx.settings.max_upload_bytes:
            raise PayloadTooLarge(
                f"{filename} is {len(data)} bytes; the limit is {ctx.settings.max_upload_bytes}",
                problems=[Problem("file too large", file=filename)],
            )


def _check_expressions(parsed: Iterable[ParsedProcess]) -> None:
    problems: list[Problem] = []
    for process in parsed:
        for problem in check_spec_expressions(process.spec, process.subprocess_specs):
            problem.file = problem.file or process.filename
            problems.append(problem)
    if problems:
        first = problems[0]
        raise InvalidModel(
            f"{len(problems)} expression problem(s); first in {first.file}, element {first.element_id}: "
            f"{first.message}",
            problems=problems,
        )


def _mark_external_tasks_manual(process: ParsedProcess) -> None:
    """External service tasks wait for a worker outside the server, so the engine must not run them itself."""
    for spec in [process.spec, *process.subprocess_specs.values()]:
        for task_spec in spec.task_specs.values():
            if (getattr(task_spec, "extensions", None) or {}).get("external_topic"):
                task_spec.manual = True


def _store(session: Session, parsed: list[ParsedProcess], *, actor: Actor, name: str,
           source: str | None) -> DeployResult:
    deployment = Deployment(name=name[:255], source=source, created_by=actor.username)
    definitions: list[ProcessDefinition] = []
    created = False
    for process in parsed:
        latest = latest_definition(session, process.key)
        if latest is not None and latest.sha256 == process.sha256:
            definitions.append(latest)
            continue
        _mark_external_tasks_manual(process)
        created = True
        definition = ProcessDefinition(
            key=process.key,
            version=(latest.version + 1) if latest else 1,
            name=process.name,
            deployment=deployment,
            filename=process.filename,
            xml=utf8_text(process.xml, filename=process.filename),
            sha256=process.sha256,
            spec=dump_spec(process.spec, process.subprocess_specs),
            start_form=process.start_form,
            candidate_starter_groups=process.candidate_starter_groups,
            candidate_starter_users=process.candidate_starter_users,
            state=state_for_new_version(session, process.key),
        )
        session.add(definition)
        definitions.append(definition)
    if not created:
        return DeployResult(definitions[0].deployment, definitions, created=False)
    session.add(deployment)
    session.flush()
    return DeployResult(deployment, definitions, created=True)


def latest_definition(session: Session, key: str) -> ProcessDefinition | None:
    """The newest version of `key`, whatever its state (drafts included)."""
    return session.scalar(
        select(ProcessDefinition).where(ProcessDefinition.key == key)
        .order_by(ProcessDefinition.version.desc()).limit(1)
    )


DEFINITION_SORTS = {"key": ProcessDefinition.key, "name": ProcessDefinition.name,
                    "version": ProcessDefinition.version, "id": ProcessDefinition.id,
                    "deployment": ProcessDefinition.deployment_id, "created": ProcessDefinition.created_at}


def list_definitions(ctx: AppContext, *, actor: Actor, latest_only: bool = True, key: str | None = None,
                     limit: int = 100, offset: int = 0, key_like: str | None = None, name: str | None = None,
                     name_like: str | None = None, version: int | None = None, deployment_id: str | None = None,
                     definition_ids: list[str] | None = None, keys: list[str] | None = None,
                     sort: str | None = None, descending: bool = False) -> tuple[list[ProcessDefinition], int]:
    """Definitions, filtered; `*_like` take SQL patterns with `%` (Camunda's convention)."""
    if sort is not None and sort not in DEFINITION_SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(DEFINITION_SORTS)}")
    with ctx.db.transaction() as session:
        query = select(ProcessDefinition)
        if key is not None:
            query = query.where(ProcessDefinition.key == key)
        for column, value in ((ProcessDefinition.name, name), (ProcessDefinition.version, version),
                              (ProcessDefinition.deployment_id, deployment_id)):
            if value is not None:
                query = query.where(column == value)
        for column, pattern in ((ProcessDefinition.key, key_like), (ProcessDefinition.name, name_like)):
            if pattern is not None:
                query = query.where(column.like(pattern))
        if definition_ids is not None:
            query = query.where(ProcessDefinition.id.in_(definition_ids))
        if keys is not None:
            query = query.where(ProcessDefinition.key.in_(keys))
        if latest_only:
            newest = (select(ProcessDefinition.key, func.max(ProcessDefinition.version).label("v"))
                      .group_by(ProcessDefinition.key).subquery())
            query = query.join(newest, (newest.c.key == ProcessDefinition.key)
                               & (newest.c.v == ProcessDefinition.version))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = [ProcessDefinition.key, ProcessDefinition.version.desc()]
        if sort is not None:
            column = DEFINITION_SORTS[sort]
            order = [column.desc() if descending else column.asc(), ProcessDefinition.id]
        rows = session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
        return list(rows), total


def definition_versions(ctx: AppContext, *, key: str, actor: Actor) -> list[ProcessDefinition]:
    with ctx.db.transaction() as session:
        rows = session.scalars(select(ProcessDefinition).where(ProcessDefinition.key == key)
                               .options(selectinload(ProcessDefinition.deployment))  # who deployed each
                               .order_by(ProcessDefinition.version.desc())).all()
    if not rows:
        raise NotFound(f"no process definition with key {key!r}")
    return list(rows)


def get_definition(ctx: AppContext, *, actor: Actor, definition_id: str | None = None, key: str | None = None,
                   version: int | None = None) -> ProcessDefinition:
    with ctx.db.transaction() as session:
        return find_definition(session, definition_id=definition_id, key=key, version=version)


def find_definition(session: Session, *, definition_id: str | None = None, key: str | None = None,
                    version: int | None = None) -> ProcessDefinition:
    if definition_id is not None:
        definition = session.get(ProcessDefinition, definition_id)
        if definition is None:
            raise NotFound(f"process definition {definition_id} not found")
        return definition
    if key is None:
        raise InvalidInput("give definition_key or definition_id")
    if version is None:
        found = approved_definition(session, key)  # the version in force: drafts do not start deals
    else:
        found = session.scalar(select(ProcessDefinition).where(ProcessDefinition.key == key,
                                                               ProcessDefinition.version == version))
    if found is None:
        raise NotFound(f"no process definition with key {key!r}" + (f" version {version}" if version else ""))
    return found


# --- deployments as a whole: list, read, delete -------------------------------------------------------------

DEPLOYMENT_SORTS = {"id": Deployment.id, "name": Deployment.name, "created": Deployment.created_at}


@dataclass
class DeploymentFilter:
    deployment_id: str | None = None
    name: str | None = None
    name_like: str | None = None  # an SQL pattern with `%`
    source: str | None = None
    without_source: bool = False
    after: datetime | None = None
    before: datetime | None = None
    sort: str = "created"
    descending: bool = False


def list_deployments(ctx: AppContext, *, actor: Actor, flt: DeploymentFilter, limit: int = 100,
                     offset: int = 0) -> tuple[list[Deployment], int]:
    if flt.sort not in DEPLOYMENT_SORTS:
        raise InvalidInput(f"sort must be one of {', '.join(DEPLOYMENT_SORTS)}")
    query = select(Deployment)
    for column, value in ((Deployment.id, flt.deployment_id), (Deployment.name, flt.name),
                          (Deployment.source, flt.source)):
        if value is not None:
            query = query.where(column == value)
    if flt.name_like is not None:
        query = query.where(Deployment.name.like(flt.name_like))
    if flt.without_source:
        query = query.where(Deployment.source.is_(None))
    if flt.after is not None:
        query = query.where(Deployment.created_at > flt.after)
    if flt.before is not None:
        query = query.where(Deployment.created_at < flt.before)
    column = DEPLOYMENT_SORTS[flt.sort]
    with ctx.db.transaction() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(column.desc() if flt.descending else column.asc(), Deployment.id)
                               .limit(limit).offset(offset)).all()
        return list(rows), total


def get_deployment(ctx: AppContext, *, actor: Actor, deployment_id: str) -> tuple[Deployment, list[ProcessDefinition]]:
    """A deployment and the definitions (resources) it created."""
    with ctx.db.transaction() as session:
        deployment = session.get(Deployment, deployment_id)
        if deployment is None:
            raise NotFound(f"deployment {deployment_id} not found")
        definitions = session.scalars(select(ProcessDefinition).where(ProcessDefinition.deployment_id == deployment_id)
                                      .order_by(ProcessDefinition.filename, ProcessDefinition.key)).all()
        return deployment, list(definitions)


def delete_deployment(ctx: AppContext, *, actor: Actor, deployment_id: str, cascade: bool = False) -> None:
    """Delete a deployment and its definitions. Instances of them (running or finished) block the deletion
    unless `cascade`, which deletes those instances with their tasks, jobs and history (admins only)."""
    require_can_deploy(actor)
    with ctx.db.transaction() as session:
        if session.get(Deployment, deployment_id) is None:
            raise NotFound(f"deployment {deployment_id} not found")
        definition_ids = select(ProcessDefinition.id).where(ProcessDefinition.deployment_id == deployment_id)
        instances = select(ProcessInstance).where(ProcessInstance.definition_id.in_(definition_ids))
        count = session.scalar(select(func.count()).select_from(instances.subquery())) or 0
        if count and not cascade:
            running = session.scalar(select(func.count()).select_from(instances.where(
                ProcessInstance.status.in_((InstanceStatus.RUNNING, InstanceStatus.FAILED))).subquery())) or 0
            raise Conflict(f"Deletion of deployment {deployment_id} without cascading failed: its definitions have "
                           f"{count} process instance(s), {running} of them running; delete with cascade to remove "
                           "them and their history too")
        if count:
            require_admin(actor)
            # Tasks, jobs, subscriptions, incidents and history go with their instance (ON DELETE CASCADE).
            session.execute(delete(ProcessInstance).where(ProcessInstance.definition_id.in_(definition_ids)))
        session.execute(delete(ProcessDefinition).where(ProcessDefinition.deployment_id == deployment_id))
        session.execute(delete(Deployment).where(Deployment.id == deployment_id))
