"""The worker's side of a lead import: claim a queued (or abandoned) import, take its rows in batches.

Exactly once: each batch is one transaction that writes the rows' outcomes, the deals they started and the
import's counters and position together; a worker killed mid-batch loses the batch whole, and whoever resumes
(after `VORONKA_IMPORT_LOCK_SECONDS`) starts from the last committed row. The lock is renewed with every batch,
and a cancel is seen at the next batch."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.base import utcnow
from app.db.models import ImportState, LeadImport, LeadImportRow, ProcessDefinition, ProcessInstance, RowOutcome
from app.errors import VoronkaError
from app.services.context import AppContext
from app.services.lead_dedupe import find_matches, first_match
from app.services.lead_files import open_table
from app.services.lead_imports import lead_form
from app.services.lead_intake import add_note, assign_open_tasks, group_members, start_lead
from app.services.lead_messages import reason
from app.services.lead_rules import Lead, build_lead
from app.services.logins import load_actor
from app.storage import spool_dir

log = logging.getLogger(__name__)
BATCH = 50  # rows per transaction: short enough that requests never wait long for the write lock
SLICE_SECONDS = 5.0
# An open reader per import this process is working on, so a long import is not re-read from the top each slice.
_readers: dict[str, tuple[int, Iterator[tuple[int, list[Any]]]]] = {}


def claim_import(ctx: AppContext, *, owner: str) -> str | None:
    now = utcnow()
    with ctx.db.transaction() as session:
        query = (select(LeadImport.id)
                 .where(LeadImport.state.in_([ImportState.QUEUED, ImportState.RUNNING]),
                        or_(LeadImport.lock_expires_at.is_(None), LeadImport.lock_expires_at < now))
                 .order_by(LeadImport.created_at).limit(1))
        if not ctx.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        import_id = session.scalar(query)
        if import_id is None:
            return None
        session.execute(update(LeadImport).where(LeadImport.id == import_id).values(
            state=ImportState.RUNNING, lock_owner=owner, lock_expires_at=_expiry(ctx)))
        job = session.get(LeadImport, import_id)
        if job is not None and job.started_at is None:
            job.started_at = now
        return import_id


def run_slice(ctx: AppContext, *, owner: str, seconds: float = SLICE_SECONDS) -> int:
    """Claim one import and work on it for about `seconds`; returns the rows taken (0: nothing to do)."""
    import_id = claim_import(ctx, owner=owner)
    if import_id is None:
        return 0
    done = 0
    deadline = time.monotonic() + seconds
    try:
        rows = _rows(ctx, import_id)
        while time.monotonic() < deadline:
            batch = [row for _, row in zip(range(BATCH), rows, strict=False)]
            taken = _take_batch(ctx, import_id, owner, batch)
            if taken is None or not batch:
                break
            done += taken
        else:  # out of time: keep the reader where it is for this process's next slice
            _readers[import_id] = (batch[-1][0], rows)
    except Exception as exc:  # a broken file or store: the import fails with the reason, the worker goes on
        log.exception("lead import %s failed", import_id)
        _fail(ctx, import_id, owner, f"{type(exc).__name__}: {exc}")
    finally:
        _release(ctx, import_id, owner)
    return max(done, 1)


def _rows(ctx: AppContext, import_id: str) -> Iterator[tuple[int, list[Any]]]:
    with ctx.db.read() as session:
        job = session.get(LeadImport, import_id)
        assert job is not None
        last_row, sha256, kind = job.last_row, job.file_sha256, job.file_kind
    cached = _readers.pop(import_id, None)
    if cached is not None and cached[0] == last_row:
        return cached[1]
    path = spool_dir(ctx.settings) / f"import-{import_id}"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(ctx.blobs.read(sha256))
    try:
        table = open_table(path, kind)
        rows = list(table.rows)  # the whole table is read once per resume (bounded by max_import_bytes)
    finally:
        path.unlink(missing_ok=True)
    return iter([r for r in rows if r[0] > last_row])


def _take_batch(ctx: AppContext, import_id: str, owner: str, batch: list[tuple[int, list[Any]]]) -> int | None:
    """One transaction; None when the import is no longer ours (cancelled, or another worker took it over)."""
    with ctx.db.transaction() as session:
        job = session.get(LeadImport, import_id, with_for_update=True)
        if job is None or job.state != ImportState.RUNNING or job.lock_owner != owner:
            return None
        if not batch:
            job.state = ImportState.COMPLETED
            job.finished_at = utcnow()
            return 0
        definition = session.get(ProcessDefinition, job.definition_id)
        importer = load_actor(ctx, username=job.created_by)
        if definition is None or importer is None:
            job.state, job.error = ImportState.FAILED, "the process or the importing user no longer exists"
            job.finished_at = utcnow()
            return None
        try:
            with session.begin_nested():  # one savepoint per batch, not per lead
                _Batch(ctx, session, job, definition, importer, careful=False).take(batch)
        except _Careful:
            _Batch(ctx, session, job, definition, importer, careful=True).take(batch)
        job.last_row = batch[-1][0]
        job.lock_expires_at = _expiry(ctx)
    return len(batch)


class _Careful(Exception):
    """A start failed in a batch run without savepoints: run the batch again, one savepoint per lead."""


class _Batch:
    def __init__(self, ctx: AppContext, session: Session, job: LeadImport, definition: ProcessDefinition,
                 importer: Actor, *, careful: bool) -> None:
        self.ctx, self.session, self.job, self.definition, self.importer = ctx, session, job, definition, importer
        self.careful = careful
        self.form = lead_form(definition)
        self.headers: list[str] = list(job.options.get("headers") or [])
        self.columns = {target: header for header, target in job.mapping.items()}
        self.on_duplicate = job.options.get("on_duplicate", "skip")
        self.rows_of: dict[str, int] = {instance_id: row for instance_id, row in session.execute(
            select(LeadImportRow.instance_id, LeadImportRow.row).where(
                LeadImportRow.import_id == job.id, LeadImportRow.outcome == RowOutcome.IMPORTED))}
        self.members: list[str] | None = None
        self.names: dict[str, str | None] = {}

    def take(self, batch: list[tuple[int, list[Any]]]) -> None:
        leads = [(number, cells, self._lead(cells)) for number, cells in batch]
        matches = find_matches(self.session, definition_key=self.job.definition_key,
                               keys=[k for _, _, lead in leads if not lead.problems for k in lead.keys],
                               window_days=self.ctx.settings.lead_dedupe_days)
        self.names = dict(self.session.execute(select(ProcessInstance.id, ProcessInstance.business_key).where(
            ProcessInstance.id.in_(set(matches.values()) - set(self.rows_of)))).all()) if matches else {}
        for number, cells, lead in leads:
            outcome, instance_id, why = self._one(number, lead, matches)
            self.job.done += 1
            self.job.imported += outcome == RowOutcome.IMPORTED
            self.job.failed += outcome == RowOutcome.FAILED
            self.job.duplicates += outcome != RowOutcome.FAILED and why is not None
            keep = outcome in (RowOutcome.FAILED, RowOutcome.DUPLICATE)
            self.session.add(LeadImportRow(
                import_id=self.job.id, row=number, outcome=outcome, instance_id=instance_id, reason=why,
                cells=dict(zip(self.headers, [("" if c is None else c) for c in cells], strict=False))
                if keep else None))
            if outcome == RowOutcome.IMPORTED and instance_id:
                for key in lead.keys:
                    matches.setdefault(key, instance_id)

    def _lead(self, cells: list[Any]) -> Lead:
        values = {self.job.mapping[h]: cells[i] for i, h in enumerate(self.headers)
                  if h in self.job.mapping and i < len(cells)}
        return build_lead(self.form, values, columns=self.columns, defaults=self.job.options.get("defaults"))

    def _one(self, number: int, lead: Lead, matches: dict[tuple[str, str], str]
             ) -> tuple[RowOutcome, str | None, str | None]:
        if lead.problems:
            column, code, args = lead.problems[0]
            return RowOutcome.FAILED, None, reason(code, row=number, column=column, **args)
        match = first_match(lead.keys, matches)
        duplicate = None
        if match is not None:
            kind, deal_id = match
            duplicate = self._duplicate_reason(number, kind, deal_id)
            if self.on_duplicate == "skip":
                return RowOutcome.DUPLICATE, deal_id, duplicate
            if self.on_duplicate == "note":
                add_note(self.session, deal_id, actor=self.importer, lead=lead,
                         data={"import_id": self.job.id, "row": number, "file": self.job.file_name})
                return RowOutcome.NOTED, deal_id, duplicate
        try:
            instance = start_lead(self.ctx, self.session, self.definition, lead, actor=self.importer,
                                  event_data={"lead_import": self.job.id, "row": number}, savepoint=self.careful)
        except VoronkaError as exc:
            if not self.careful:
                raise _Careful from exc
            return RowOutcome.FAILED, None, reason("start_failed", row=number, detail=exc.detail)
        assignee = self._assignee()
        if assignee:
            assign_open_tasks(self.session, instance, assignee, actor=self.importer)
        self.rows_of[instance.id] = number
        return RowOutcome.IMPORTED, instance.id, duplicate

    def _duplicate_reason(self, number: int, kind: str, deal_id: str) -> str:
        if deal_id in self.rows_of:
            return reason("duplicate_row", row=number, kind=kind, other=self.rows_of[deal_id], deal_id=deal_id)
        return reason("duplicate_deal", row=number, kind=kind, deal_id=deal_id,
                      deal=self.names.get(deal_id) or deal_id, link=f"/ui/deals/{deal_id}")

    def _assignee(self) -> str | None:
        assignment = self.job.options.get("assignment", "importer")
        if assignment == "importer":
            return self.importer.username
        if assignment == "round_robin":
            if self.members is None:
                self.members = group_members(self.session, self.job.options.get("group") or "hunter")
            if self.members:
                member = self.members[self.job.rr_index % len(self.members)]
                self.job.rr_index += 1
                return member
        return None


def _expiry(ctx: AppContext) -> Any:
    return utcnow() + timedelta(seconds=ctx.settings.import_lock_seconds)


def _release(ctx: AppContext, import_id: str, owner: str) -> None:
    """Between slices the import is free again: this or any worker picks it up at once."""
    try:
        with ctx.db.transaction() as session:
            session.execute(update(LeadImport).where(and_(LeadImport.id == import_id, LeadImport.lock_owner == owner))
                            .values(lock_owner=None, lock_expires_at=None))
    except Exception:
        log.exception("could not release lead import %s; its lock expires", import_id)


def _fail(ctx: AppContext, import_id: str, owner: str, error: str) -> None:
    _readers.pop(import_id, None)
    try:
        with ctx.db.transaction() as session:
            job = session.get(LeadImport, import_id)
            if job is not None and job.lock_owner == owner:
                job.state, job.error, job.finished_at = ImportState.FAILED, error[:4000], utcnow()
    except Exception:
        log.exception("could not record the failure of lead import %s", import_id)
