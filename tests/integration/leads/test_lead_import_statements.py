"""Statement budget of a lead import batch: duplicates cost no statement per row, and a started lead a fixed
number (the deal's own writes), whatever the batch size."""

from __future__ import annotations

import io

import pytest

from app.auth.actor import SYSTEM, Actor
from app.services import deployments, lead_import_jobs, lead_imports
from app.services.context import AppContext
from tests.factories import add_role_users
from tests.integration.leads.lead_model import LEAD_MODEL
from tests.integration.leads.lead_tables import csv_bytes, lead_rows
from tests.integration.ui.test_inbox_queries import counted

pytestmark = pytest.mark.db
HUNTER = Actor("hunter", frozenset({"hunter"}))
PER_STARTED_LEAD = 30  # instance, task, candidates, history, lead keys, the row's outcome, assignment


def import_statements(ctx: AppContext, rows: list[list[object]]) -> int:
    job = lead_imports.create_import(ctx, actor=HUNTER, definition_key="leads", source=io.BytesIO(csv_bytes(rows)),
                                     filename="l.csv", lead_source="cold_call")
    with counted(ctx) as statements:
        lead_import_jobs.run_slice(ctx, owner="test", seconds=600)  # one slice, however slow the machine
    assert lead_imports.get_progress(ctx, actor=HUNTER, import_id=job.id).job.done == len(rows)
    return len(statements)


def test_a_batch_costs_nothing_per_duplicate_and_a_fixed_budget_per_started_lead(ctx: AppContext) -> None:
    add_role_users(ctx, ("hunter",))
    deployments.deploy(ctx, files=[("leads.bpmn", LEAD_MODEL.encode())], actor=SYSTEM)
    small = lead_rows(10, duplicate_every=10_000, invalid_every=10_000).rows
    large = lead_rows(40, duplicate_every=10_000, invalid_every=10_000, offset=100).rows
    started_small = import_statements(ctx, small)
    started_large = import_statements(ctx, large)
    per_lead = (started_large - started_small) / 30
    print(f"statements per started lead: {per_lead:.1f}")
    assert per_lead <= PER_STARTED_LEAD, per_lead
    assert import_statements(ctx, small) == import_statements(ctx, large)  # all duplicates now
