"""Bulk lead import: upload a table, preview and map its columns onto the start form, queue the import for the
worker (app/services/lead_import_jobs.py), follow its progress, cancel it, download the refused rows.

Hunters and the head of sales import (admins too). An import is seen by who started it and by managers."""

from __future__ import annotations

import csv
import hashlib
import hmac
import io
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, BinaryIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.actor import HEAD_OF_SALES, Actor
from app.auth.permissions import require_may_start
from app.db.base import utcnow
from app.db.models import ImportState, LeadImport, LeadImportRow, ProcessDefinition, RowOutcome
from app.errors import Conflict, Forbidden, InvalidInput, NotFound, Problem
from app.services.context import AppContext
from app.services.deployments import find_definition
from app.services.file_types import safe_name
from app.services.lead_files import count_rows, kind_of, open_table
from app.services.lead_messages import describe
from app.services.lead_rules import propose_mapping
from app.storage import SpooledUpload, spool_dir

IMPORTER_GROUPS = frozenset({"hunter", HEAD_OF_SALES})
ON_DUPLICATE = ("skip", "note", "import")
ASSIGNMENT = ("importer", "round_robin", "group")
PREVIEW_ROWS = 10


@dataclass
class Preview:
    columns: list[str]
    mapping: dict[str, str]
    rows: list[dict[str, Any]]
    total: int
    fields: list[dict[str, Any]]
    file_token: str | None = None  # with keep=True: hands the stored file to create_import (pages' two steps)


@dataclass
class Progress:
    job: LeadImport
    rate: float | None  # rows per second since the import started
    eta_seconds: float | None
    instance_ids: list[str]


def require_may_import(actor: Actor) -> None:
    if not (actor.is_admin or actor.groups & IMPORTER_GROUPS):
        raise Forbidden("importing leads is for hunters and the head of sales")


def lead_form(definition: ProcessDefinition) -> list[dict[str, Any]]:
    """The fields a lead fills: the start form, without file fields (a table cell holds no file)."""
    return [f for f in definition.start_form or [] if f.get("id") and (f.get("type") or "").lower() != "file"]


def preview_import(ctx: AppContext, *, actor: Actor, definition_key: str, source: BinaryIO,
                   filename: str | None, keep: bool = False) -> Preview:
    require_may_import(actor)
    with ctx.db.read() as session:
        definition = find_definition(session, key=definition_key)
        require_may_start(actor, definition)
    spooled = _spool(ctx, source)
    try:
        kind = kind_of(filename, spooled.head)
        headers, total = count_rows(spooled.path, kind)
        table = open_table(spooled.path, kind)
        rows = [dict(zip(headers, _texts(cells), strict=False)) | {"_row": number}
                for number, cells in islice(table.rows, PREVIEW_ROWS)]
        token = None
        if keep:
            ctx.blobs.put_file(spooled.path, spooled.sha256)
            token = _sign(ctx, actor, f"{spooled.sha256}:{kind}:{safe_name(filename)}")
    finally:
        spooled.discard()
    form = lead_form(definition)
    return Preview(headers, propose_mapping(headers, form), rows, total, form, token)


def create_import(ctx: AppContext, *, actor: Actor, definition_key: str, source: BinaryIO, filename: str | None,
                  mapping: dict[str, str] | None = None, on_duplicate: str = "skip", assignment: str = "importer",
                  group: str = "hunter", lead_source: str | None = None) -> LeadImport:
    """Check the file and the choices, keep the file (content-addressed) and queue the import."""
    require_may_import(actor)
    spooled = _spool(ctx, source)
    try:
        return _queue(ctx, actor, spooled, kind_of(filename, spooled.head), filename, definition_key, mapping,
                      {"on_duplicate": on_duplicate, "assignment": assignment, "group": group}, lead_source)
    finally:
        spooled.discard()


def create_import_from_preview(ctx: AppContext, *, actor: Actor, file_token: str, definition_key: str,
                               mapping: dict[str, str], on_duplicate: str = "skip", assignment: str = "importer",
                               group: str = "hunter", lead_source: str | None = None) -> LeadImport:
    """The pages' second step: the file kept by `preview_import(keep=True)`, named by its signed token."""
    require_may_import(actor)
    sha256, kind, filename = _verified(ctx, actor, file_token).split(":", 2)
    spooled = SpooledUpload(io.BytesIO(ctx.blobs.read(sha256)), limit=ctx.settings.max_import_bytes,
                            spool_dir=spool_dir(ctx.settings))
    try:
        return _queue(ctx, actor, spooled, kind, filename, definition_key, mapping,
                      {"on_duplicate": on_duplicate, "assignment": assignment, "group": group}, lead_source)
    finally:
        spooled.discard()


def _queue(ctx: AppContext, actor: Actor, spooled: SpooledUpload, kind: str, filename: str | None,
           definition_key: str, mapping: dict[str, str] | None, choices: dict[str, str],
           lead_source: str | None) -> LeadImport:
    """Check the file and the choices, keep the file (content-addressed) and queue the import."""
    _choice("on_duplicate", choices["on_duplicate"], ON_DUPLICATE)
    _choice("assignment", choices["assignment"], ASSIGNMENT)
    headers, total = count_rows(spooled.path, kind)
    if total > ctx.settings.max_import_rows:
        raise InvalidInput(f"the file has {total} rows; one import takes at most {ctx.settings.max_import_rows}")
    with ctx.db.transaction() as session:
        definition = find_definition(session, key=definition_key)
        require_may_start(actor, definition)
        form = lead_form(definition)
        mapping = _checked_mapping(mapping if mapping is not None else propose_mapping(headers, form),
                                   headers, form)
        defaults = _defaults(form, mapping, lead_source)
        job = LeadImport(
            definition_id=definition.id, definition_key=definition.key, file_name=(filename or "leads")[:255],
            file_sha256=spooled.sha256, file_kind=kind, mapping=mapping, total=total, created_by=actor.username,
            options={**choices, "defaults": defaults, "headers": headers},
            state=ImportState.QUEUED if total else ImportState.COMPLETED, created_at=utcnow(),
            finished_at=None if total else utcnow())
        session.add(job)
        session.flush()
        ctx.blobs.put_file(spooled.path, spooled.sha256)
        return job


def get_progress(ctx: AppContext, *, actor: Actor, import_id: str) -> Progress:
    with ctx.db.read() as session:
        job = _visible(session, actor, import_id)
        ids = list(session.scalars(select(LeadImportRow.instance_id).where(
            LeadImportRow.import_id == job.id, LeadImportRow.outcome == RowOutcome.IMPORTED)
            .order_by(LeadImportRow.row)))
    return Progress(job, *_pace(job), instance_ids=[i for i in ids if i])


def list_imports(ctx: AppContext, *, actor: Actor, limit: int = 20) -> list[LeadImport]:
    with ctx.db.read() as session:
        query = select(LeadImport).order_by(LeadImport.created_at.desc()).limit(limit)
        if not actor.sees_all_work:
            query = query.where(LeadImport.created_by == actor.username)
        return list(session.scalars(query))


def cancel_import(ctx: AppContext, *, actor: Actor, import_id: str) -> LeadImport:
    """Rows already imported stay (each is a deal now); the rest are not read."""
    with ctx.db.transaction() as session:
        job = _visible(session, actor, import_id)
        if job.state not in (ImportState.QUEUED, ImportState.RUNNING):
            raise Conflict(f"the import is already {job.state}")
        job.state = ImportState.CANCELLED
        job.finished_at = utcnow()
        job.lock_owner = job.lock_expires_at = None
        return job


def error_report(ctx: AppContext, *, actor: Actor, import_id: str, lang: str = "en") -> str:
    """The refused rows (invalid, and duplicates that were skipped) as CSV: the original columns plus the
    reason, ready to fix and upload again. UTF-8 with BOM and semicolons, as Russian Excel opens it."""
    with ctx.db.read() as session:
        job = _visible(session, actor, import_id)
        rows = session.scalars(select(LeadImportRow).where(
            LeadImportRow.import_id == job.id,
            LeadImportRow.outcome.in_([RowOutcome.FAILED, RowOutcome.DUPLICATE])).order_by(LeadImportRow.row))
        headers = list(job.options.get("headers") or [])
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
        writer.writerow([*headers, "Строка" if lang == "ru" else "Row", "Ошибка" if lang == "ru" else "Error"])
        for row in rows:
            cells = row.cells or {}
            writer.writerow([_csv_safe(cells.get(h, "")) for h in headers]
                            + [row.row, describe(row.reason or "", lang)])
    return "\ufeff" + out.getvalue()


def _visible(session: Session, actor: Actor, import_id: str) -> LeadImport:
    job = session.get(LeadImport, import_id)
    if job is None or not (actor.sees_all_work or job.created_by == actor.username):
        raise NotFound(f"lead import {import_id} not found")
    return job


def _pace(job: LeadImport) -> tuple[float | None, float | None]:
    if not job.started_at or not job.done:
        return None, None
    end: datetime = job.finished_at or utcnow()
    seconds = max((end - job.started_at).total_seconds(), 0.001)
    rate = job.done / seconds
    left = job.total - job.done if job.state in (ImportState.QUEUED, ImportState.RUNNING) else 0
    return round(rate, 1), round(left / rate, 1)


def _sign(ctx: AppContext, actor: Actor, text: str) -> str:
    """Only who previewed the file may import it by this token (file hashes are not secrets)."""
    mac = hmac.new((ctx.signing_secret or "").encode(), f"{actor.username}\n{text}".encode(), hashlib.sha256)
    return f"{text}:{mac.hexdigest()}"


def _verified(ctx: AppContext, actor: Actor, token: str) -> str:
    text, _, mac = token.rpartition(":")
    if not text or not hmac.compare_digest(_sign(ctx, actor, text).encode(), token.encode()):
        raise InvalidInput("the uploaded file is no longer known: upload it again",
                           problems=[Problem("bad file token", field="file_token")])
    return text


def _spool(ctx: AppContext, source: BinaryIO) -> SpooledUpload:
    spooled = SpooledUpload(source, limit=ctx.settings.max_import_bytes, spool_dir=spool_dir(ctx.settings))
    if spooled.size == 0:
        spooled.discard()
        raise InvalidInput("the file is empty", problems=[Problem("empty file", field="file")])
    return spooled


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidInput(f"{name} must be one of {', '.join(allowed)}", problems=[Problem("invalid", field=name)])


def _checked_mapping(mapping: Any, headers: list[str], form: list[dict[str, Any]]) -> dict[str, str]:
    if not isinstance(mapping, dict):
        raise InvalidInput('mapping must be a JSON object {"column header": "form field"}',
                           problems=[Problem("not an object", field="mapping")])
    fields = {f["id"] for f in form}
    problems = [Problem(f"no column {header!r} in the file; its columns: {', '.join(headers)}", field="mapping")
                for header in mapping if header not in headers]
    problems += [Problem(f"column {header!r} maps to {target!r}, which is not a field of the start form; fields: "
                         f"{', '.join(sorted(fields))}", field="mapping")
                 for header, target in mapping.items() if target and target not in fields]
    targets = [t for t in mapping.values() if t]
    problems += [Problem(f"field {t!r} is mapped from more than one column", field="mapping")
                 for t in sorted(set(targets)) if targets.count(t) > 1]
    if problems:
        raise InvalidInput(problems[0].message, problems=problems)
    return {header: target for header, target in mapping.items() if target}


def _defaults(form: list[dict[str, Any]], mapping: dict[str, str], lead_source: str | None) -> dict[str, Any]:
    """`source` for every row without one; a required field no column fills is refused before any row is read."""
    mapped = set(mapping.values())
    defaults: dict[str, Any] = {}
    if lead_source:
        defaults["source"] = lead_source
    missing = [f["id"] for f in form if f.get("required") and f["id"] not in mapped and f["id"] not in defaults]
    if missing:
        raise InvalidInput(f"required fields of the start form have no column: {', '.join(missing)} (map a column "
                           "to each, or choose the lead source)",
                           problems=[Problem("required field not mapped", field=f"mapping.{m}") for m in missing])
    return defaults


def _texts(cells: list[Any]) -> list[Any]:
    return ["" if c is None else c for c in cells]


def _csv_safe(value: Any) -> Any:
    """Cells starting with = + - @ would run as formulas in Excel: quote them with an apostrophe."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not value[1:2].isdigit():
        return "'" + value
    return value
