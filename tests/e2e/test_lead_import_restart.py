"""A lead import survives `kill -9` of the server: after a restart the worker resumes from the last committed
batch, the import completes, and no row is imported twice (on SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import signal
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from app.db.models import LeadImportRow, ProcessInstance
from app.services.context import AppContext
from tests.factories import add_role_users, password_of
from tests.faults import ServeProcess
from tests.integration.leads.lead_model import LEAD_MODEL
from tests.integration.leads.lead_tables import csv_bytes, lead_rows

pytestmark = [pytest.mark.e2e, pytest.mark.db]
ROWS = 300


def progress(server: ServeProcess, import_id: str) -> dict[str, object]:
    answer = httpx.get(f"{server.url}/api/v1/lead-imports/{import_id}?with_instances=false",
                       auth=("hunter", password_of("hunter")), timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()


def wait_until(server: ServeProcess, import_id: str, condition, timeout: float) -> dict[str, object]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = progress(server, import_id)
        if condition(state):
            return state
        time.sleep(0.1)
    raise AssertionError(f"the import did not get there in {timeout} s: {state}")


def test_kill_9_in_the_middle_of_an_import_and_the_restarted_server_finishes_it_exactly_once(
        ctx: AppContext, tmp_path: Path) -> None:
    add_role_users(ctx, ("hunter",))
    from app.auth.actor import SYSTEM
    from app.services import deployments

    deployments.deploy(ctx, files=[("leads.bpmn", LEAD_MODEL.encode())], actor=SYSTEM)
    plan = lead_rows(ROWS)
    env = {"VORONKA_FILES_DIR": str(ctx.settings.files_dir), "VORONKA_IMPORT_LOCK_SECONDS": "1",
           "VORONKA_WORKER_POLL_SECONDS": "0.2"}
    log = tmp_path / "serve.log"
    server = ServeProcess(ctx.settings.database_url, log, workers=1, embedded_worker=True, env=env).start()
    try:
        created = httpx.post(f"{server.url}/api/v1/lead-imports", auth=("hunter", password_of("hunter")),
                             files={"file": ("leads.csv", io.BytesIO(csv_bytes(plan.rows)))},
                             data={"definition_key": "leads", "source": "cold_call"}, timeout=30)
        assert created.status_code == 202, created.text
        import_id = created.json()["id"]
        before = wait_until(server, import_id, lambda s: int(s["done"]) >= 50, 60)  # type: ignore[call-overload]
        assert server.process is not None
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(10)
    finally:
        server.stop()
    assert int(before["done"]) < ROWS, "the import finished before the kill: nothing was tested"  # type: ignore[call-overload]

    restarted = ServeProcess(ctx.settings.database_url, log, workers=1, embedded_worker=True, env=env).start()
    try:
        done = wait_until(restarted, import_id, lambda s: s["state"] == "completed", 180)
    finally:
        restarted.stop()
    assert (done["done"], done["imported"], done["duplicates"], done["failed"]) == (
        ROWS, plan.valid, plan.duplicates, plan.invalid)
    with ctx.db.read() as session:
        deals = session.scalar(select(func.count()).select_from(ProcessInstance)) or 0
        keys = Counter(session.scalars(select(ProcessInstance.business_key)))
        rows = session.scalar(select(func.count()).select_from(LeadImportRow)) or 0
    assert deals == plan.valid and rows == ROWS
    assert max(keys.values()) == 1, "a row was imported twice"
