"""Dependencies of the pages: the signed-in actor (remembered for the error page) and the CSRF check on POSTs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.datastructures import UploadFile

from app.api.deps import Context, CurrentActor
from app.auth.actor import Actor
from app.ui.security import CSRF_FIELD, check_csrf

__all__ = ["Context", "PageActor", "CheckedForm", "FormFiles"]


def page_actor(request: Request, actor: CurrentActor) -> Actor:
    request.state.actor = actor
    return actor


async def checked_form(request: Request) -> dict[str, str]:
    """The submitted form of a POST, once its CSRF token has been checked (file fields left out)."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    check_csrf(request, token if isinstance(token, str) else None)
    return {key: value for key, value in form.items() if isinstance(value, str)}


async def form_files(request: Request) -> dict[str, list[UploadFile]]:
    """The files of a multipart POST by field name (empty file inputs left out); the CSRF check is CheckedForm's."""
    form = await request.form()
    files: dict[str, list[UploadFile]] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile) and value.filename:
            files.setdefault(key, []).append(value)
    return files


PageActor = Annotated[Actor, Depends(page_actor)]
CheckedForm = Annotated[dict[str, str], Depends(checked_form)]
FormFiles = Annotated[dict[str, list[UploadFile]], Depends(form_files)]
