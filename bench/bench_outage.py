"""How long a request waits when PostgreSQL goes away or holds a lock, and how fast the server recovers.

    python bench/bench_outage.py [--postgres URL] [--requests 20]

In a fresh schema, a real uvicorn serves the app in-process through a TCP proxy in front of PostgreSQL
(tests/faults.py). Printed, each as median and max over `--requests` requests:
- refused: the proxy refuses connections (as a stopped database host does): time to the 503;
- locked: another session holds the instance table (LOCK ... EXCLUSIVE): time to the 503 of a start, with the
  default VORONKA_DB_LOCK_TIMEOUT_SECONDS (5) and with 1 s;
- recovery: after the proxy listens again, time of the first request (and whether it succeeded).
Before this work a refused database gave 500s and a locked table made requests wait for the lock (40 s in the
issue's experiment) and /health for the pool's 30 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import httpx
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.db.migrate import upgrade  # noqa: E402
from app.main import create_app, prepare_database  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.settings import Settings  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.factories import two_lane_deal, upload  # noqa: E402
from tests.faults import TcpProxy, admin_engine  # noqa: E402

ADMIN = ("admin", "admin-secret")


def timed(call) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    status = call().status_code
    return time.perf_counter() - started, status


def summary(label: str, samples: list[tuple[float, int]]) -> None:
    seconds = [s for s, _ in samples]
    statuses = sorted({code for _, code in samples})
    print(f"{label:<44} median {statistics.median(seconds):6.3f} s   max {max(seconds):6.3f} s   statuses {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=os.environ.get("VORONKA_TEST_POSTGRES_URL",
                                                              "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    base = make_url(args.postgres.replace("postgresql://", "postgresql+psycopg://", 1))
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(base).begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    upgrade(url)
    try:
        for lock_seconds in (5.0, 1.0):
            run(url, lock_seconds, args.requests)
    finally:
        with create_engine(base).begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


def run(url: str, lock_seconds: float, count: int) -> None:
    parsed = make_url(url)
    with TcpProxy(parsed.host or "127.0.0.1", parsed.port or 5432) as proxy:
        settings = Settings(database_url=proxy.proxied_url(url), bootstrap_admin=":".join(ADMIN),
                            embedded_worker=False, fast_password_hashing=True, db_lock_timeout_seconds=lock_seconds,
                            _env_file=None)
        ctx = AppContext(settings)
        prepare_database(ctx)
        with LiveServer(create_app(context=ctx)) as server, \
                httpx.Client(base_url=server.url, auth=ADMIN, timeout=60) as client:
            client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal())))

            def start() -> httpx.Response:
                return client.post("/api/v1/process-instances", json={"definition_key": "deal"})

            if lock_seconds == 5.0:
                proxy.refuse()
                summary("refused: start a deal", [timed(start) for _ in range(count)])
                summary("refused: GET /health", [timed(lambda: client.get("/health")) for _ in range(count)])
                proxy.restore()
                summary("recovery: first request after the return", [timed(start)])
            admin = admin_engine(url)
            with admin.connect() as conn:
                conn.execute(text("BEGIN"))
                conn.execute(text("LOCK TABLE process_instance IN EXCLUSIVE MODE"))
                samples = [timed(start) for _ in range(max(count // 4, 3))]
                summary(f"locked table, lock timeout {lock_seconds:.0f} s: start a deal", samples)
                summary("locked table: GET /health", [timed(lambda: client.get("/health")) for _ in range(count)])
                conn.execute(text("ROLLBACK"))
            admin.dispose()
        ctx.close()


if __name__ == "__main__":
    main()
