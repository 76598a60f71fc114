"""The pages under /ui: one router per page group, static files, and `/` sending people to their inbox."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from app.ui.routes import analytics, auth, inbox, instances, leads, models, regulation, start, tasks
from app.ui.security import UI_PREFIX

STATIC_DIR = Path(__file__).parent / "static"


def home() -> RedirectResponse:
    return RedirectResponse(f"{UI_PREFIX}/inbox", status_code=303)


def mount_ui(app: FastAPI) -> None:
    router = APIRouter(prefix=UI_PREFIX, include_in_schema=False)
    router.add_api_route("", home, methods=["GET"])
    router.add_api_route("/", home, methods=["GET"])
    for module in (auth, inbox, tasks, start, leads, instances, regulation, models, analytics):
        router.include_router(module.router)
    app.include_router(router)
    app.mount(f"{UI_PREFIX}/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="ui-static")
