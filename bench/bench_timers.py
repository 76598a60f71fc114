"""Timer firing on PostgreSQL: timers fired per second and lag between due time and firing, 1 vs 3 workers.

    python bench/bench_timers.py [--postgres URL] [--timers 600] [--rate 20] [--seconds 10] [--batch 20]

For each worker count, in a fresh schema of the given (existing) database:
- throughput: `--timers` instances wait for one timer that falls due at the same moment, after the last one is
  created; the `voronka worker` processes (already running) fire them all. Timers per second = count divided by
  the time between the first and the last firing (worker start-up is not counted).
- lag: while the workers run, instances are started at `--rate` per second for `--seconds`, each timer due one
  second after its start, so timers fall due at a steady pace; lag = firing time - due time (median and p99),
  from the `timer_fired` history the workers write.
The instances are created by this process, in-process (no HTTP), on the same two cores as the workers.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.actor import SYSTEM  # noqa: E402
from app.db.base import utcnow  # noqa: E402
from app.db.migrate import upgrade  # noqa: E402
from app.db.models import HistoryEvent  # noqa: E402
from app.services import deployments, instances  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.factories import timer_at  # noqa: E402


def schema_url(base: str, schema: str) -> str:
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)


def run_sql(base: str, sql: str) -> None:
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(sql))
    engine.dispose()


def start_workers(url: str, count: int, batch: int, logs: Path) -> list[subprocess.Popen[bytes]]:
    env = {**os.environ, "VORONKA_DATABASE_URL": url, "PYTHONPATH": str(ROOT)}
    workers = []
    for n in range(count):
        with (logs / f"worker{n}.log").open("wb") as out:
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "app.cli", "worker", "--id", f"bench{n}", "--batch-size", str(batch)],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT))
    deadline = time.monotonic() + 30
    while not all(" started " in (logs / f"worker{n}.log").read_text() for n in range(count)):
        if time.monotonic() > deadline:
            raise RuntimeError("workers did not start")
        time.sleep(0.05)
    return workers


def fired(ctx: AppContext, since_id: int = 0) -> list[HistoryEvent]:
    with ctx.db.transaction() as session:
        return list(session.scalars(select(HistoryEvent).where(HistoryEvent.kind == "timer_fired",
                                                               HistoryEvent.id > since_id)))


def count_fired(ctx: AppContext) -> int:
    with ctx.db.transaction() as session:
        return session.scalar(select(func.count()).where(HistoryEvent.kind == "timer_fired")) or 0


def start(ctx: AppContext, due: datetime) -> None:
    instances.start_instance(ctx, actor=SYSTEM, definition_key="due", variables={"due": due.isoformat()})


def wait_fired(ctx: AppContext, total: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while count_fired(ctx) < total:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {count_fired(ctx)} of {total} timers fired")
        time.sleep(0.1)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def measure(base: str, workers: int, args: argparse.Namespace) -> dict[str, float]:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    run_sql(base, f'CREATE SCHEMA "{schema}"')
    url = schema_url(base, schema)
    upgrade(url)
    ctx = AppContext(Settings(database_url=url, embedded_worker=False, _env_file=None))
    processes: list[subprocess.Popen[bytes]] = []
    try:
        deployments.deploy(ctx, files=[("due.bpmn", timer_at().encode())], actor=SYSTEM)
        start(ctx, utcnow() + timedelta(days=1))  # warm: the spec is parsed once per process
        with tempfile.TemporaryDirectory() as logs:
            processes = start_workers(url, workers, args.batch, Path(logs))

            # Throughput: everything falls due at once, after the last instance is created.
            began = time.monotonic()
            for _ in range(10):
                start(ctx, utcnow() + timedelta(days=1))
            per_start = (time.monotonic() - began) / 10
            due = utcnow() + timedelta(seconds=1 + 1.3 * per_start * args.timers)
            for _ in range(args.timers):
                start(ctx, due)
            wait_fired(ctx, args.timers, 120)
            burst = fired(ctx)
            first, last = min(e.at for e in burst), max(e.at for e in burst)
            throughput = len(burst) / max((last - first).total_seconds(), 1e-3)
            burst_lag = [e.data["lag_ms"] for e in burst]
            last_id = max(e.id for e in burst)

            # Lag: timers fall due at a steady pace while the workers run.
            total = int(args.rate * args.seconds)
            began = time.monotonic()
            for n in range(total):
                start(ctx, utcnow() + timedelta(seconds=1))
                pause = began + (n + 1) / args.rate - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            wait_fired(ctx, args.timers + total, 60)
            steady = [e.data["lag_ms"] for e in fired(ctx, last_id)]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(15)
        ctx.close()
        run_sql(base, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    return {"throughput": throughput, "burst_seconds": (last - first).total_seconds(),
            "burst_p50": statistics.median(burst_lag), "lag_p50": statistics.median(steady),
            "lag_p99": percentile(steady, 0.99), "lag_max": max(steady), "steady": len(steady)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get(
        "VORONKA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench"),
        help="an existing database; each run uses a fresh schema in it and drops it afterwards")
    parser.add_argument("--timers", type=int, default=600, help="timers falling due at once (throughput)")
    parser.add_argument("--rate", type=float, default=20.0, help="timers per second falling due (lag)")
    parser.add_argument("--seconds", type=float, default=10.0, help="how long the steady phase lasts")
    parser.add_argument("--batch", type=int, default=20, help="worker batch size")
    args = parser.parse_args()

    results = {n: measure(args.postgres, n, args) for n in (1, 3)}
    print(f"\ntimers on PostgreSQL: {args.timers} due at once; then {args.rate:g}/s for {args.seconds:g} s "
          f"(batch {args.batch})\n")
    print(f"{'':34}{'1 worker':>12}{'3 workers':>12}")
    rows = [("timers fired per second (burst)", "throughput", "{:.0f}"),
            ("burst drained in (s)", "burst_seconds", "{:.1f}"),
            ("steady lag median (ms)", "lag_p50", "{:.0f}"),
            ("steady lag p99 (ms)", "lag_p99", "{:.0f}"),
            ("steady lag max (ms)", "lag_max", "{:.0f}")]
    for label, key, fmt in rows:
        print(f"{label:34}{fmt.format(results[1][key]):>12}{fmt.format(results[3][key]):>12}")


if __name__ == "__main__":
    main()
