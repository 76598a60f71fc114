"""The Camunda dialect assembled: `/engine-rest` as a sub-application with Camunda's error bodies, plus the
well-known links and the Camunda 8 endpoints on the main application."""

from __future__ import annotations

from fastapi import FastAPI

from app.camunda import errors
from app.camunda.routes import (
    definition,
    deployment,
    external_task,
    history,
    identity,
    instance,
    message,
    meta,
    migration,
    task,
    well_known,
    zeebe,
)

ENGINE_REST = "/engine-rest"
_RESOURCES = (meta, deployment, definition, instance, task, message, external_task, identity, history, migration)

DESCRIPTION = """
The Camunda 7 REST API, translated onto Voronka's services: Camunda Modeler deploys here, Camunda clients and
external-task workers work unchanged. Typed variables, Camunda dates, `{"type", "message"}` errors.
Authenticate as on the native API (HTTP Basic or a bearer token). What is supported: docs/camunda.md.
"""


def create_engine_rest(parent: FastAPI) -> FastAPI:
    sub = FastAPI(title="Voronka: Camunda 7 REST dialect", version=meta.CAMUNDA_VERSION, description=DESCRIPTION)
    # The same state object: the context and credential cache the parent's lifespan and setup put there.
    sub.state = parent.state
    errors.register(sub)
    for module in _RESOURCES:
        sub.include_router(module.router)
    return sub


def mount(app: FastAPI) -> None:
    app.mount(ENGINE_REST, create_engine_rest(app))
    app.include_router(well_known.router)
    app.include_router(zeebe.router)
