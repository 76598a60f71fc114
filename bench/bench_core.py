"""User-task completions per second: end to end (HTTP + database) next to SpiffWorkflow alone, as a ratio.

    python bench/bench_core.py [--tasks 300] [--postgres URL]

Starts a real uvicorn server on 127.0.0.1 for each database (a fresh SQLite file; PostgreSQL when a URL of an
empty database is given), deploys a process of three sequential user tasks, and completes them over HTTP with one
client. The in-process baseline advances the same model with SpiffWorkflow's own default engine, no storage.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.factories import definitions  # noqa: E402

ADMIN = ("bench", "bench-secret")
MODEL = definitions("""
  <bpmn:process id="bench" name="Bench" isExecutable="true">
    <bpmn:startEvent id="StartEvent" />
    <bpmn:userTask id="A" name="A" camunda:assignee="bench" />
    <bpmn:userTask id="B" name="B" camunda:assignee="bench" />
    <bpmn:userTask id="C" name="C" camunda:assignee="bench" />
    <bpmn:endEvent id="EndEvent" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent" targetRef="A" />
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="B" />
    <bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="C" />
    <bpmn:sequenceFlow id="F4" sourceRef="C" targetRef="EndEvent" />
  </bpmn:process>""")


def in_process(tasks: int) -> float:
    from lxml import etree
    from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
    from SpiffWorkflow.camunda.parser import CamundaParser
    from SpiffWorkflow.util.task import TaskState

    parser = CamundaParser()
    parser.add_bpmn_xml(etree.fromstring(MODEL.encode()), filename="bench.bpmn")
    spec = parser.get_spec("bench")
    done = 0
    started = time.perf_counter()
    while done < tasks:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        while not workflow.is_completed():
            task = workflow.get_tasks(state=TaskState.READY, manual=True)[0]
            task.data["n"] = done
            task.run()
            workflow.do_engine_steps()
            done += 1
    return done / (time.perf_counter() - started)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def end_to_end(database_url: str, tasks: int) -> float:
    env = dict(os.environ, VORONKA_DATABASE_URL=database_url, VORONKA_BOOTSTRAP_ADMIN=":".join(ADMIN),
               VORONKA_EMBEDDED_WORKER="false")
    python = sys.executable
    subprocess.run([python, "-m", "app.cli", "migrate"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([python, "-m", "uvicorn", "app.main:app", "--port", str(port), "--log-level",
                               "warning"], cwd=ROOT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, auth=ADMIN, timeout=30) as client:
            for _ in range(100):
                try:
                    if client.get("/health").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            files = [("files", ("bench.bpmn", MODEL.encode(), "application/xml"))]
            client.post("/api/v1/deployments", files=files).raise_for_status()
            done = 0
            started = time.perf_counter()
            while done < tasks:
                instance = client.post("/api/v1/process-instances", json={"definition_key": "bench"}).json()
                open_tasks = instance["tasks"]
                while open_tasks:
                    response = client.post(f"/api/v1/tasks/{open_tasks[0]['id']}/complete",
                                           json={"variables": {"n": done}})
                    response.raise_for_status()
                    done += 1
                    open_tasks = client.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()["items"]
            return done / (time.perf_counter() - started)
    finally:
        server.terminate()
        server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--postgres", default=os.environ.get("VORONKA_BENCH_POSTGRES_URL"))
    args = parser.parse_args()
    baseline = in_process(args.tasks)
    print(f"{'setup':<34}{'completions/s':>14}{'ratio to in-process':>22}")
    print(f"{'SpiffWorkflow in-process':<34}{baseline:>14.1f}{1.0:>22.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        rate = end_to_end(f"sqlite:///{tmp}/bench.db", args.tasks)
        print(f"{'HTTP + SQLite (uvicorn, 1 proc)':<34}{rate:>14.1f}{rate / baseline:>22.3f}")
    if args.postgres:
        rate = end_to_end(args.postgres, args.tasks)
        print(f"{'HTTP + PostgreSQL (uvicorn, 1 proc)':<34}{rate:>14.1f}{rate / baseline:>22.3f}")
    else:
        print("(PostgreSQL skipped: pass --postgres URL of an empty database)")


if __name__ == "__main__":
    main()
