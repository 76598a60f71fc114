"""Start many instances of one process in one call (a lead import): per-item results, one bad item never
stops the others, optionally idempotent on the business key."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.auth.permissions import require_may_start
from app.db.models import ProcessDefinition, ProcessInstance
from app.db.session import refused_value
from app.errors import InvalidInput, Problem, VoronkaError
from app.services.context import AppContext
from app.services.deployments import find_definition
from app.services.instances import start_in_session
from app.services.locks import lock_names
from app.services.variables import check_text, check_variables

MAX_ITEMS = 1000
MAX_KEY_LENGTH = 255
CHUNK = 100  # items per transaction: a crash loses at most one chunk's work, and locks stay short


@dataclass
class StartItem:
    """As the client sent it: checked item by item, so one malformed item fails alone."""

    business_key: Any = None
    variables: Any = field(default_factory=dict)


@dataclass
class StartResult:
    """`status`: `started` (a new instance), `existing` (with `unique_business_key`, an instance of this process
    already had the key: nothing was started) or `failed` (`error` says why; nothing of it was written)."""

    index: int
    business_key: str | None
    status: str
    instance_id: str | None = None
    instance_status: str | None = None  # `failed` when the engine stopped at an incident right away
    error: VoronkaError | None = None


def start_many(ctx: AppContext, *, actor: Actor, items: list[StartItem], definition_key: str | None = None,
               definition_id: str | None = None, unique_business_key: bool = False) -> list[StartResult]:
    """Start every item of the latest version of `definition_key` (or exactly `definition_id`).

    Each item runs in a savepoint, so a failing one (bad variables, an engine failure) is rolled back alone and
    reported; chunks of `CHUNK` items commit together. With `unique_business_key` an item whose business key an
    instance of this process (any version, any status) already carries is not started again: the call can be
    repeated after a timeout without duplicating deals."""
    if not items:
        raise InvalidInput("items must hold at least one start", problems=[Problem("empty", field="items")])
    if len(items) > MAX_ITEMS:
        raise InvalidInput(f"at most {MAX_ITEMS} starts per call; got {len(items)}",
                           problems=[Problem("too many items", field="items")])
    with ctx.db.read() as session:  # 404/403 for the whole call before anything is written
        definition = find_definition(session, definition_id=definition_id, key=definition_key)
        require_may_start(actor, definition)
    results: list[StartResult] = []
    for first in range(0, len(items), CHUNK):
        chunk = list(enumerate(items[first:first + CHUNK], start=first))
        with ctx.db.transaction() as session:
            definition = find_definition(session, definition_id=definition.id)
            results += _start_chunk(ctx, session, definition, chunk, actor=actor, unique=unique_business_key)
    return results


def _start_chunk(ctx: AppContext, session: Session, definition: ProcessDefinition,
                 chunk: list[tuple[int, StartItem]], *, actor: Actor, unique: bool) -> list[StartResult]:
    existing: dict[str, str] = {}
    if unique:
        keys = sorted({item.business_key for _, item in chunk if isinstance(item.business_key, str)})
        _lock_keys(session, definition.key, keys)
        existing = dict(session.execute(
            select(ProcessInstance.business_key, ProcessInstance.id)
            .where(ProcessInstance.definition_key == definition.key, ProcessInstance.business_key.in_(keys))
            .order_by(ProcessInstance.started_at.desc())).all())
    results = []
    for index, item in chunk:
        if unique and item.business_key in existing:
            results.append(StartResult(index, item.business_key, "existing", existing[item.business_key]))
            continue
        try:
            with session.begin_nested():
                variables = _checked_variables(ctx, index, item, unique=unique)
                instance = start_in_session(ctx, session, definition, actor=actor,
                                            business_key=item.business_key, variables=variables)
                session.flush()
        except VoronkaError as exc:
            results.append(StartResult(index, item.business_key, "failed", error=exc))
            continue
        except DataError as exc:  # a value the database refuses: this item's input, not the call's
            results.append(StartResult(index, item.business_key, "failed", error=refused_value(exc)))
            continue
        if unique and item.business_key:
            existing[item.business_key] = instance.id  # a key twice in one call starts once
        results.append(StartResult(index, item.business_key, "started", instance.id, instance.status))
    return results


def _checked_variables(ctx: AppContext, index: int, item: StartItem, *, unique: bool) -> dict[str, Any]:
    where = f"items[{index}]"
    key = item.business_key
    if unique and not key:
        raise InvalidInput(f"{where}.business_key is required: unique_business_key is set",
                           problems=[Problem("required", field=f"{where}.business_key")])
    if key is not None and (not isinstance(key, str) or len(key) > MAX_KEY_LENGTH):
        raise InvalidInput(f"{where}.business_key must be text of at most {MAX_KEY_LENGTH} characters",
                           problems=[Problem("not text of at most 255 characters", field=f"{where}.business_key")])
    check_text(key, f"{where}.business_key")
    try:
        return check_variables(item.variables if item.variables is not None else {},
                               max_bytes=ctx.settings.max_variables_bytes)
    except InvalidInput as exc:
        exc.detail = f"{where}: {exc.detail}"
        for problem in exc.problems:
            problem.field = f"{where}.{problem.field}" if problem.field else where
        raise


def _lock_keys(session: Session, definition_key: str, keys: list[str]) -> None:
    """PostgreSQL: two imports of the same leads at once must not both start a deal; a transaction-scoped
    advisory lock per key (taken in sorted order, so two calls never deadlock) serializes them. SQLite already
    has one writer at a time."""
    lock_names(session, definition_key, keys)
