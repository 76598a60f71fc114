"""Bulk lead import: preview, run in the worker, progress, cancel, error report."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from app.api.deps import Context, CurrentActor
from app.api.schemas.leads import ImportCreated, ImportOut, ImportPreviewOut
from app.errors import InvalidInput, Problem
from app.services import lead_imports

router = APIRouter(prefix="/lead-imports", tags=["leads"])


@router.post("", status_code=202, response_model=ImportCreated | ImportPreviewOut, summary="Import leads",
             responses={200: {"model": ImportPreviewOut, "description": "With `preview=true`: nothing imported."}},
             description="Multipart `file` (CSV with any delimiter in UTF-8 or Windows-1251, or XLSX) and "
                         "`definition_key`. `mapping` is JSON `{\"column header\": \"form field\"}` (proposed from "
                         "Russian and English headers when left out); `on_duplicate` = skip | note | import; "
                         "`assignment` = importer | round_robin (over `group`) | group; `source` fills the lead "
                         "source of rows without one. With `preview=true` answers 200 with the columns, the "
                         "proposed mapping and the first rows. Otherwise 202: the worker imports in the "
                         "background; follow `GET /lead-imports/{id}`. Hunters and the head of sales.")
def create(ctx: Context, actor: CurrentActor, response: Response, file: Annotated[UploadFile, File()],
           definition_key: Annotated[str, Form()], mapping: Annotated[str | None, Form()] = None,
           on_duplicate: Annotated[str, Form()] = "skip", assignment: Annotated[str, Form()] = "importer",
           group: Annotated[str, Form()] = "hunter", source: Annotated[str | None, Form()] = None,
           preview: Annotated[bool, Form()] = False) -> Any:
    if preview:
        found = lead_imports.preview_import(ctx, actor=actor, definition_key=definition_key, source=file.file,
                                            filename=file.filename)
        response.status_code = 200
        return ImportPreviewOut(columns=found.columns, mapping=found.mapping, rows=found.rows, total=found.total,
                                fields=found.fields)
    job = lead_imports.create_import(ctx, actor=actor, definition_key=definition_key, source=file.file,
                                     filename=file.filename, mapping=parse_mapping(mapping),
                                     on_duplicate=on_duplicate, assignment=assignment, group=group,
                                     lead_source=source or None)
    return ImportCreated(id=job.id, state=job.state, total=job.total)


@router.get("/{import_id}", response_model=ImportOut, summary="Progress of an import")
def progress(ctx: Context, actor: CurrentActor, import_id: str,
             with_instances: Annotated[bool, Query(description="List the deals started.")] = True) -> ImportOut:
    found = lead_imports.get_progress(ctx, actor=actor, import_id=import_id)
    out = ImportOut.model_validate(found.job)
    out.rate, out.eta_seconds = found.rate, found.eta_seconds
    out.instance_ids = found.instance_ids if with_instances else None
    return out


@router.get("/{import_id}/errors.csv", summary="The refused rows", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}},
            description="The file's columns plus the row number and the reason (`lang=ru` for Russian), for "
                        "rows that failed validation and duplicates that were skipped.")
def errors_csv(ctx: Context, actor: CurrentActor, import_id: str, lang: str = "en") -> Response:
    text = lead_imports.error_report(ctx, actor=actor, import_id=import_id, lang=lang)
    return Response(text.encode("utf-8"), media_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="errors-{import_id[:8]}.csv"'})


@router.post("/{import_id}/cancel", response_model=ImportOut, summary="Cancel an import",
             description="Rows already imported stay; the rest are not read.")
def cancel(ctx: Context, actor: CurrentActor, import_id: str) -> ImportOut:
    return ImportOut.model_validate(lead_imports.cancel_import(ctx, actor=actor, import_id=import_id))


def parse_mapping(text: str | None) -> dict[str, str] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"mapping is not JSON: {exc}", problems=[Problem("not JSON", field="mapping")]) from None
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str | None)
                                              for k, v in value.items()):
        raise InvalidInput('mapping must be {"column header": "form field"}', problems=[
            Problem("not an object of text", field="mapping")])
    return {k: v or "" for k, v in value.items()}
