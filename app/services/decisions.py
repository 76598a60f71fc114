"""DMN decisions: stored per version at deploy, found by key (latest or a version), evaluated by business rule
tasks and by the evaluate endpoints."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.actor import Actor
from app.db.models import DecisionDefinition
from app.engine.dmn import DecisionTable, ParsedDecision
from app.engine.dmn_eval import DecisionFailed, Evaluation, evaluate_decision
from app.engine.xml import utf8_text
from app.errors import InvalidInput, NotFound
from app.services.context import AppContext


def store_decisions(session: Session, parsed: list[ParsedDecision], files: dict[str, bytes],
                    deployment_id: Callable[[], str]) -> tuple[list[DecisionDefinition], bool]:
    """A new version per decision whose table changed; unchanged ones keep their latest version.
    `deployment_id()` is called (and stores the deployment) only when a new version is made."""
    stored: list[DecisionDefinition] = []
    created = False
    for decision in parsed:
        tables = decision.stored()
        digest = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
        latest = latest_decision(session, decision.key)
        if latest is not None and latest.sha256 == digest:
            stored.append(latest)
            continue
        created = True
        row = DecisionDefinition(key=decision.key, version=(latest.version + 1) if latest else 1,
                                 name=decision.name, deployment_id=deployment_id(), filename=decision.filename,
                                 xml=utf8_text(files[decision.filename], filename=decision.filename),
                                 sha256=digest, tables=tables)
        session.add(row)
        stored.append(row)
    return stored, created


def latest_decision(session: Session, key: str) -> DecisionDefinition | None:
    return session.scalar(select(DecisionDefinition).where(DecisionDefinition.key == key)
                          .order_by(DecisionDefinition.version.desc()).limit(1))


def find_decision(session: Session, *, key: str | None = None, version: int | None = None,
                  decision_id: str | None = None) -> DecisionDefinition:
    if decision_id is not None:
        row = session.get(DecisionDefinition, decision_id)
        if row is None:
            raise NotFound(f"decision definition {decision_id} not found")
        return row
    query = select(DecisionDefinition).where(DecisionDefinition.key == key)
    if version is not None:
        query = query.where(DecisionDefinition.version == version)
    row = session.scalar(query.order_by(DecisionDefinition.version.desc()).limit(1))
    if row is None:
        which = f" version {version}" if version is not None else ""
        raise NotFound(f"no decision {key!r}{which} is deployed: deploy the .dmn file that defines it")
    return row


def list_decisions(ctx: AppContext, *, actor: Actor, key: str | None = None, latest_only: bool = True,
                   limit: int = 100, offset: int = 0) -> tuple[list[DecisionDefinition], int]:
    query = select(DecisionDefinition)
    if key is not None:
        query = query.where(DecisionDefinition.key == key)
    if latest_only:
        newest = (select(DecisionDefinition.key, func.max(DecisionDefinition.version).label("version"))
                  .group_by(DecisionDefinition.key).subquery())
        query = query.join(newest, (newest.c.key == DecisionDefinition.key)
                           & (newest.c.version == DecisionDefinition.version))
    with ctx.db.read() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(DecisionDefinition.key, DecisionDefinition.version)
                               .limit(limit).offset(offset)).all()
        return list(rows), total


def get_decision(ctx: AppContext, *, actor: Actor, key: str | None = None, version: int | None = None,
                 decision_id: str | None = None) -> DecisionDefinition:
    with ctx.db.read() as session:
        return find_decision(session, key=key, version=version, decision_id=decision_id)


@dataclass(frozen=True)
class LoadedDecision:
    key: str
    version: int
    table: DecisionTable
    requirements: dict[str, DecisionTable]

    def evaluate(self, variables: dict[str, Any], limits: Any) -> Evaluation:
        evaluation = evaluate_decision(self.table, variables, limits=limits, requirements=self.requirements)
        return evaluation


def _loaded(row: DecisionDefinition) -> LoadedDecision:
    return LoadedDecision(row.key, row.version, DecisionTable.from_dict(row.tables["table"]),
                          {k: DecisionTable.from_dict(t) for k, t in row.tables.get("requirements", {}).items()})


def evaluate(ctx: AppContext, *, actor: Actor, variables: dict[str, Any], key: str | None = None,
             version: int | None = None, decision_id: str | None = None) -> tuple[DecisionDefinition, Evaluation]:
    """Evaluate a deployed decision over `variables` (no instance involved); a failing one is a 400."""
    with ctx.db.read() as session:
        row = find_decision(session, key=key, version=version, decision_id=decision_id)
    try:
        return row, _loaded(row).evaluate(variables, ctx.limits)
    except DecisionFailed as exc:
        raise InvalidInput(exc.detail) from None


class DecisionResolver:
    """The engine's way to the decisions of a business rule task (`SafeScriptEngine.decisions`): the latest
    version (or a given one) by key, read in its own short read-only unit of work; parsed tables are cached
    by row id, which never changes."""

    def __init__(self, ctx: AppContext, size: int = 256) -> None:
        self._ctx = ctx
        self._size = size
        self._cache: OrderedDict[str, LoadedDecision] = OrderedDict()
        self._lock = threading.Lock()

    def __call__(self, key: str, version: int | None = None) -> LoadedDecision:
        with self._ctx.db.read() as session:
            query = select(DecisionDefinition.id).where(DecisionDefinition.key == key)
            if version is not None:
                query = query.where(DecisionDefinition.version == version)
            row_id = session.scalar(query.order_by(DecisionDefinition.version.desc()).limit(1))
            if row_id is None:
                which = f" version {version}" if version is not None else ""
                raise DecisionFailed(f"no decision {key!r}{which} is deployed: deploy the .dmn file that defines it")
            with self._lock:
                cached = self._cache.get(row_id)
            if cached is None:
                cached = _loaded(session.get_one(DecisionDefinition, row_id))
        with self._lock:
            self._cache[row_id] = cached
            self._cache.move_to_end(row_id)
            while len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return cached
