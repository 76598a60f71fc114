"""create_app(): the FastAPI application with its lifespan (schema check, bootstrap admin, worker)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import RedirectResponse

from app.api import errors
from app.api.cors import NoCredentialsForNullOrigin
from app.api.gate import CredentialsFirst
from app.api.limits import BodyLimitMiddleware
from app.api.retry import RetryLostConnection
from app.api.routes import (
    analytics,
    auth,
    definitions,
    deployments,
    documents,
    external_tasks,
    health,
    incidents,
    instances,
    jobs,
    lead_imports,
    leads,
    messages,
    metrics,
    migrations,
    tasks,
    users,
)
from app.auth.basic import CredentialCache
from app.camunda.app import mount as mount_camunda
from app.db.migrate import schema_is_current, upgrade
from app.db.startup_lock import startup_lock
from app.observability.middleware import RequestObservability
from app.observability.setup import instrument
from app.services.context import AppContext
from app.services.identity import ensure_bootstrap_admin, ensure_role_groups
from app.services.logins import ensure_signing_secret
from app.settings import Settings, get_settings
from app.ui.router import mount_ui

log = logging.getLogger(__name__)

DESCRIPTION = """
Voronka runs a company's sales process as BPMN: deploy models, start deals, work user tasks by role.

Authenticate with a bearer token from `POST /api/v1/auth/token` (OAuth2 password flow), HTTP Basic, or the
UI's session cookie. Errors are RFC 9457 problem details.
"""


class SchemaBehind(RuntimeError):
    pass


def prepare_database(context: AppContext) -> None:
    settings = context.settings
    with startup_lock(context.db.engine):  # `serve --workers N` and replicas start at once: one at a time here
        if not schema_is_current(context.db.engine, settings.database_url):
            if not settings.auto_migrate:
                raise SchemaBehind("the database schema is not up to date: run `voronka migrate` "
                                   "(or set VORONKA_AUTO_MIGRATE=true)")
            upgrade(settings.database_url)
        ensure_role_groups(context)
        ensure_bootstrap_admin(context)
        ensure_signing_secret(context)
    if settings.fast_password_hashing:
        log.warning("VORONKA_FAST_PASSWORD_HASHING is on: password hashes are cheap to crack (tests only)")


# Route functions live at module level: FastAPI caches facts about endpoint callables process-wide, so a closure
# over one app would keep every app ever created alive (tests create hundreds).
def root() -> RedirectResponse:
    return RedirectResponse("/ui/inbox", status_code=303)


def create_app(settings: Settings | None = None, context: AppContext | None = None) -> FastAPI:
    settings = settings or (context.settings if context else get_settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ctx = context or AppContext(settings)
        prepare_database(ctx)
        instrument(ctx.db.engine)
        app.state.context = ctx
        worker = None
        if ctx.settings.embedded_worker:
            from app.worker.loop import WorkerThread

            worker = WorkerThread(ctx)
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
            if context is None:
                ctx.close()

    app = FastAPI(title="Voronka", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.credential_cache = CredentialCache(ttl=settings.basic_cache_seconds)
    if context is not None:
        app.state.context = context
    errors.register(app)

    app.include_router(health.router)
    app.include_router(metrics.router)
    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    for router in (auth.router, users.users, users.groups, deployments.router, definitions.router,
                   instances.router, tasks.router, messages.router, external_tasks.router, jobs.router,
                   incidents.router, analytics.router, migrations.router, documents.router,
                   lead_imports.router, leads.router):
        app.include_router(router, prefix="/api/v1")
    mount_camunda(app)
    mount_ui(app)

    app.add_middleware(CredentialsFirst)  # inside CORS, so its 401/403 carry CORS headers
    app.add_middleware(CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=True,
                       allow_methods=["*"], allow_headers=["*"])
    app.add_middleware(NoCredentialsForNullOrigin)
    app.add_middleware(BodyLimitMiddleware, json_limit=settings.max_payload_bytes,
                       upload_limit=settings.max_upload_bytes * settings.max_upload_files + 65536)
    app.add_middleware(RetryLostConnection)
    app.add_middleware(RequestObservability)  # outermost: every answer has an X-Request-ID and a log line
    return app


# `uvicorn app.main:app`: settings come from the environment when the server starts.
app = create_app()
