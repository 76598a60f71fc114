"""Starts per second: one `POST /process-instances` per deal against `POST /process-instances/batch`.

    python bench/bench_bulk_start.py [--postgres URL] [--starts 500] [--batch 500]

Both run through HTTP (FastAPI TestClient, in-process, HTTP Basic auth) on a fresh schema of the given existing
PostgreSQL database (`--sqlite` for a temporary SQLite file), with the shipped `sales_deal` model; each start
runs the engine until the first user task waits. Printed side by side with the ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

from fastapi.testclient import TestClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.db.migrate import upgrade  # noqa: E402
from app.main import create_app, prepare_database  # noqa: E402
from app.services.context import AppContext  # noqa: E402
from app.settings import Settings  # noqa: E402
from bench.bench_timers import run_sql, schema_url  # noqa: E402
from tests.conftest import basic_auth  # noqa: E402

MODELS = sorted((ROOT / "bpmn").glob("*.bpmn"))  # sales_deal calls other shipped processes


def measure(url: str, args: argparse.Namespace) -> dict[str, float]:
    upgrade(url)
    ctx = AppContext(Settings(database_url=url, embedded_worker=False, bootstrap_admin="admin:admin-secret",
                              fast_password_hashing=True, _env_file=None))
    prepare_database(ctx)
    try:
        with TestClient(create_app(context=ctx), headers=basic_auth("admin", "admin-secret")) as client:
            deployed = client.post("/api/v1/deployments", files=[
                ("files", (path.name, path.read_bytes(), "application/xml")) for path in MODELS])
            assert deployed.status_code == 201, deployed.text
            key = "sales_deal"
            client.post("/api/v1/process-instances", json={"definition_key": key})  # warm caches
            began = time.perf_counter()
            for n in range(args.starts):
                response = client.post("/api/v1/process-instances", json={
                    "definition_key": key, "business_key": f"single-{n}", "variables": {"source": "web"}})
                assert response.status_code == 201, response.text
            single = args.starts / (time.perf_counter() - began)
            items = [{"business_key": f"batch-{n}", "variables": {"source": "web"}} for n in range(args.starts)]
            began = time.perf_counter()
            for first in range(0, args.starts, args.batch):
                response = client.post("/api/v1/process-instances/batch", json={
                    "definition_key": key, "unique_business_key": True, "items": items[first:first + args.batch]})
                assert response.status_code == 200 and response.json()["failed"] == 0, response.text
            batch = args.starts / (time.perf_counter() - began)
    finally:
        ctx.close()
    return {"single": single, "batch": batch}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get(
        "VORONKA_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/voronka_bench"))
    parser.add_argument("--sqlite", action="store_true", help="a temporary SQLite file instead of PostgreSQL")
    parser.add_argument("--starts", type=int, default=500)
    parser.add_argument("--batch", type=int, default=500, help="items per batch request (at most 1,000)")
    args = parser.parse_args()
    if args.sqlite:
        with tempfile.TemporaryDirectory() as folder:
            result = measure(f"sqlite:///{folder}/bench.db", args)
    else:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        run_sql(args.postgres, f'CREATE SCHEMA "{schema}"')
        try:
            result = measure(schema_url(args.postgres, schema), args)
        finally:
            run_sql(args.postgres, f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    print(f"\n{args.starts} starts of sales_deal over HTTP ({'SQLite' if args.sqlite else 'PostgreSQL'})\n")
    print(f"{'single POST /process-instances':40}{result['single']:>10.1f} starts/s")
    print(f"{'POST /process-instances/batch':40}{result['batch']:>10.1f} starts/s")
    print(f"{'ratio batch / single':40}{result['batch'] / result['single']:>10.2f}")


if __name__ == "__main__":
    main()
