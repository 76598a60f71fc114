"""Where Camunda Modeler links after a deploy or start: `/.well-known/camunda-automation-platform/webapps`
(anonymous on purpose: the modeler asks without credentials), and the "cockpit" links it builds from it, which
redirect to the matching page of our web UI (an instance to its deal page, a deployment to the models)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

router = APIRouter(tags=["camunda 7"])

# Not ending in `cockpit/`: the modeler would rewrite that to Camunda's `cockpit/default/#/` (a fragment).
COCKPIT_LINKS = "/camunda/cockpit-links"


@router.get("/.well-known/camunda-automation-platform/webapps", summary="Web application links (no auth)")
def webapps(request: Request) -> dict[str, str]:
    base = str(request.base_url).rstrip("/")
    return {"adminUrl": f"{base}/ui/", "cockpitUrl": f"{base}{COCKPIT_LINKS}/", "tasklistUrl": f"{base}/ui/inbox"}


@router.get(COCKPIT_LINKS + "/process-instance/{instance_id}", include_in_schema=False)
def instance_link(instance_id: str) -> RedirectResponse:
    return RedirectResponse(f"/ui/deals/{instance_id}", status_code=303)


@router.get(COCKPIT_LINKS + "/repository", include_in_schema=False)
def deployment_link() -> RedirectResponse:
    return RedirectResponse("/ui/models", status_code=303)


@router.get(COCKPIT_LINKS + "/", include_in_schema=False)
def home_link() -> RedirectResponse:
    return RedirectResponse("/ui/", status_code=303)
