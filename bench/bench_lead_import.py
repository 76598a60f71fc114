"""Bulk lead import: rows per second through the worker, on SQLite (and PostgreSQL with --postgres URL).

    python bench/bench_lead_import.py [--rows 10000] [--postgres URL]

Each run makes a fresh database, deploys the shipped sales model, uploads a CSV of `--rows` leads (10 %
duplicates, 5 % invalid) as a hunter and lets one in-process worker import it; then the same file again, which
must import nothing. Prints the seconds, rows per second, and the ratio against the one-minute target for 10,000
rows (rows/s needed: 167). Measures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.actor import SYSTEM, Actor  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.services import deployments, identity, lead_imports  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.services.identity import ensure_role_groups  # noqa: E402
from app.settings import Settings  # noqa: E402
from app.worker.loop import Worker  # noqa: E402
from tests.integration.leads.lead_tables import csv_bytes, lead_rows  # noqa: E402

TARGET_ROWS_PER_SECOND = 10_000 / 60


def run(url: str, rows: int, files: Path) -> None:
    upgrade(url)
    ctx = AppContext(Settings(database_url=url, embedded_worker=False, files_dir=files, _env_file=None))
    ensure_role_groups(ctx)
    deployments.deploy(ctx, files=[(p.name, p.read_bytes()) for p in (ROOT / "bpmn").glob("*.bpmn")], actor=SYSTEM)
    identity.create_user(ctx, actor=SYSTEM, username="hunter", password="bench-password-1", groups=["hunter"])
    hunter = Actor("hunter", frozenset({"hunter"}))
    data = csv_bytes(lead_rows(rows).rows)
    worker = Worker(ctx, worker_id="bench")
    for attempt in ("first upload", "same file again"):
        started = time.perf_counter()
        job = lead_imports.create_import(ctx, actor=hunter, definition_key="sales_deal", source=io.BytesIO(data),
                                         filename="leads.csv", lead_source="cold_call")
        worker.run_until_idle(max_batches=100_000)
        seconds = time.perf_counter() - started
        done = lead_imports.get_progress(ctx, actor=hunter, import_id=job.id).job
        rate = done.done / seconds
        print(f"{ctx.db.engine.dialect.name:10} {attempt:16} rows {done.done:6}  imported {done.imported:6}  "
              f"duplicates {done.duplicates:5}  failed {done.failed:4}  {seconds:6.1f} s  {rate:7.0f} rows/s  "
              f"x{rate / TARGET_ROWS_PER_SECOND:.2f} of the 10,000-rows-a-minute pace")
    ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--postgres", help="an existing database; a fresh schema is made and dropped")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{tmp}/bench.db", args.rows, Path(tmp) / "files")
        if args.postgres:
            base = args.postgres.replace("postgresql://", "postgresql+psycopg://", 1)
            schema = f"bench_{uuid.uuid4().hex[:8]}"
            engine = create_engine(base)
            with engine.begin() as conn:
                conn.execute(text(f'CREATE SCHEMA "{schema}"'))
            url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
            try:
                run(url.render_as_string(hide_password=False), args.rows, Path(tmp) / "pgfiles")
            finally:
                with engine.begin() as conn:
                    conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
                engine.dispose()


if __name__ == "__main__":
    main()
