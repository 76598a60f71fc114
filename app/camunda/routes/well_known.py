"""`/.well-known/camunda-automation-platform/webapps`: where Camunda Modeler links after a deploy.

Anonymous on purpose: the modeler asks without credentials. The links point at our web UI."""

from __future__ import annotations

from fastapi import APIRouter, Request

router = APIRouter(tags=["camunda 7"])


@router.get("/.well-known/camunda-automation-platform/webapps", summary="Web application links (no auth)")
def webapps(request: Request) -> dict[str, str]:
    ui = f"{str(request.base_url).rstrip('/')}/ui/"
    return {"adminUrl": ui, "cockpitUrl": ui, "tasklistUrl": ui}
