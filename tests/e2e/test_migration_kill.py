"""A `voronka worker` process killed with SIGKILL in the middle of a migration batch: every instance is either
moved (with exactly one `instance_migrated` event) or untouched, and a new worker finishes the batch."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.auth.actor import SYSTEM
from app.db.models import HistoryEvent, ItemState, MigrationItem, ProcessInstance
from app.services import deployments, instances, migrations
from app.services.context import AppContext
from tests.e2e.test_worker_processes import wait_for
from tests.integration.regulation.models import steps

pytestmark = [pytest.mark.e2e, pytest.mark.db]
ROOT = Path(__file__).resolve().parents[2]
DEALS = 300


def start_worker(url: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "VORONKA_DATABASE_URL": url, "VORONKA_WORKER_POLL_SECONDS": "0.1",
           "PYTHONPATH": str(ROOT)}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "app.cli", "worker", "--batch-size", "5"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def item_counts(ctx: AppContext, batch_id: str) -> Counter[str]:
    with ctx.db.read() as session:
        return Counter(dict(session.execute(select(MigrationItem.state, func.count())
                                            .where(MigrationItem.batch_id == batch_id)
                                            .group_by(MigrationItem.state)).all()))


def assert_moved_or_untouched(ctx: AppContext, ids: list[str], target_id: str, batch_id: str) -> int:
    with ctx.db.read() as session:
        on = dict(session.execute(select(ProcessInstance.id, ProcessInstance.definition_id)
                                  .where(ProcessInstance.id.in_(ids))).all())
        events = Counter(session.scalars(select(HistoryEvent.instance_id).where(
            HistoryEvent.kind == "instance_migrated", HistoryEvent.instance_id.in_(ids))))
        items = dict(session.execute(select(MigrationItem.instance_id, MigrationItem.state)
                                     .where(MigrationItem.batch_id == batch_id)).all())
    moved = 0
    for instance_id in ids:
        if on[instance_id] == target_id:
            assert events[instance_id] == 1 and items[instance_id] == ItemState.MIGRATED
            moved += 1
        else:
            assert events[instance_id] == 0 and items[instance_id] == ItemState.PENDING
    return moved


def test_a_killed_worker_leaves_each_instance_moved_or_untouched_and_the_batch_resumes(
        ctx: AppContext, database_url: str, tmp_path: Path) -> None:
    deployments.deploy(ctx, files=[("steps.bpmn", steps(1).encode())], actor=SYSTEM)
    ids = [instances.start_instance(ctx, actor=SYSTEM, definition_key="steps").instance.id for _ in range(DEALS)]
    source = deployments.get_definition(ctx, actor=SYSTEM, key="steps")
    target = deployments.deploy(ctx, files=[("steps.bpmn", steps(2).encode())], actor=SYSTEM).definitions[0]
    plan = migrations.generate_plan(ctx, actor=SYSTEM, source_definition_id=source.id, target_definition_id=target.id)
    batch = migrations.start_batch(ctx, actor=SYSTEM, plan=plan, selection=migrations.Selection())

    log = tmp_path / "worker.log"
    worker = start_worker(database_url, log)
    try:
        assert wait_for(lambda: item_counts(ctx, batch.id)[ItemState.MIGRATED] >= 20, 60), log.read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    moved = assert_moved_or_untouched(ctx, ids, target.id, batch.id)
    assert 20 <= moved < DEALS, "the kill came after the batch had finished: nothing was tested"

    worker = start_worker(database_url, log)
    try:
        assert wait_for(lambda: migrations.progress(ctx, actor=SYSTEM, batch_id=batch.id).batch.state == "completed",
                        120), log.read_text()
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(10)
    assert assert_moved_or_untouched(ctx, ids, target.id, batch.id) == DEALS
    progress = migrations.progress(ctx, actor=SYSTEM, batch_id=batch.id)
    assert (progress.batch.state, progress.done, progress.failed) == ("completed", DEALS, 0)
