"""Claims, completions and reassignments of one task racing on two server processes (`voronka serve --workers 2`,
real HTTP): exactly one wins, the others get 409, history holds one event (architecture.md, lock order)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx

from app.auth.actor import SYSTEM, Actor
from app.errors import Conflict
from app.services import deployments, instances, jobs, tasks
from app.services.context import AppContext
from tests.factories import lead_sla, make_user, two_lane_deal
from tests.faults import ServeProcess

RACERS = 10
ROUNDS = 3


def race(url: str, requests: list[tuple[tuple[str, str], str, dict[str, Any] | None]], *,
         method: str = "POST") -> list[int]:
    """Send each (auth, path, body) request from its own connection, released together by one barrier."""
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = [0] * len(requests)

    def send(n: int, auth: tuple[str, str], path: str, body: dict[str, Any] | None) -> None:
        with httpx.Client(base_url=url, auth=auth, timeout=60) as client:
            client.get("/api/v1/me")  # connect and authenticate before the race
            barrier.wait()
            statuses[n] = client.request(method, path, json=body).status_code

    threads = [threading.Thread(target=send, args=(n, *request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def new_task(ctx: AppContext) -> tuple[str, str]:
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="deal")
    return view.instance.id, view.open_tasks[0].id


def events(server: ServeProcess, instance_id: str, kind: str) -> list[dict[str, Any]]:
    history = httpx.get(f"{server.url}/api/v1/process-instances/{instance_id}/history",
                        auth=("admin", "admin-secret")).json()["items"]
    return [e for e in history if e["kind"] == kind]


def task(server: ServeProcess, task_id: str) -> dict[str, Any]:
    return dict(httpx.get(f"{server.url}/api/v1/tasks/{task_id}", auth=("admin", "admin-secret")).json())


def test_one_task_raced_by_many_on_two_server_processes_has_one_winner(ctx: AppContext, database_url: str,
                                                                        tmp_path: Path) -> None:
    hunters = [make_user(ctx, f"hunter{n}", ["hunter"]) for n in range(RACERS)]
    deployments.deploy(ctx, actor=SYSTEM, files=[("deal.bpmn", two_lane_deal().encode())])
    done = {"variables": {"company": "Ромашка", "amount": 10}}
    with ServeProcess(database_url, tmp_path / "serve.log", workers=2) as server:
        for _ in range(ROUNDS):
            # Ten hunters claim one task.
            instance_id, task_id = new_task(ctx)
            statuses = race(server.url, [(h, f"/api/v1/tasks/{task_id}/claim", None) for h in hunters])
            assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
            [claimed] = events(server, instance_id, "task_claimed")
            assert task(server, task_id)["assignee"] == claimed["actor"] == hunters[statuses.index(200)][0]

            # Claims race completions: one request wins; a completion never overrides a claim, nor the reverse.
            instance_id, task_id = new_task(ctx)
            requests = [(h, f"/api/v1/tasks/{task_id}/{'complete' if n % 2 else 'claim'}", done if n % 2 else None)
                        for n, h in enumerate(hunters)]
            statuses = race(server.url, requests)
            assert sorted(statuses) == [200] + [409] * (RACERS - 1), statuses
            winner = statuses.index(200)
            final = task(server, task_id)
            assert final["assignee"] == hunters[winner][0]
            if winner % 2:
                assert final["state"] == "completed" and final["completed_by"] == hunters[winner][0]
                assert events(server, instance_id, "task_claimed") == []
            else:
                assert final["state"] == "open" and len(events(server, instance_id, "task_claimed")) == 1
            assert len(events(server, instance_id, "task_completed")) == (winner % 2)

            # Releases and self-assignments of the claimed task race: the holder's release or nothing.
            if final["state"] == "open":
                holder = hunters[winner]
                requests = [(holder, f"/api/v1/tasks/{task_id}/unclaim", None)] + [
                    (h, f"/api/v1/tasks/{task_id}/assign", {"assignee": h[0]}) for h in hunters if h != holder]
                statuses = race(server.url, requests)
                assert statuses[0] == 200 and all(s in (200, 409) for s in statuses[1:]), statuses
                assert statuses.count(200) <= 2
                assigned = events(server, instance_id, "task_assigned")
                assert len(assigned) == statuses.count(200) - 1
                assert task(server, task_id)["assignee"] == (assigned[0]["actor"] if assigned else None)


def test_a_boundary_timer_firing_while_the_task_is_completed_is_one_or_the_other(ctx: AppContext) -> None:
    """The worker (job row, then the instance) and a completion (instance, then task and job rows) take locks
    in one order (services/locks.py): one of them wins, the other finds the work done; never a deadlock."""
    hunter = Actor("hunter0", frozenset({"hunter"}))
    deployments.deploy(ctx, actor=SYSTEM, files=[("lead.bpmn", lead_sla(duration="PT1S", interrupting=True)
                                                  .encode())])
    started = [instances.start_instance(ctx, actor=SYSTEM, definition_key="lead") for _ in range(ROUNDS * 4)]
    time.sleep(1.1)  # every timer is due
    for view in started:
        [job] = jobs.claim_due_jobs(ctx, owner="w", limit=1)
        outcomes: dict[str, object] = {}

        def fire(job_id: str = job.id, outcomes: dict[str, object] = outcomes) -> None:
            outcomes["timer"] = jobs.fire_timer_job(ctx, job_id=job_id, owner="w")

        def complete(task_id: str = view.open_tasks[0].id, outcomes: dict[str, object] = outcomes) -> None:
            try:
                tasks.complete_task(ctx, actor=hunter, task_id=task_id)
                outcomes["completion"] = 200
            except Conflict as exc:
                outcomes["completion"] = exc.detail

        threads = [threading.Thread(target=fire), threading.Thread(target=complete)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if outcomes["completion"] == 200:
            assert outcomes["timer"] in ("fired", "skipped")  # fired nothing: the task was done first
        else:
            assert outcomes["timer"] == "fired" and "deadlock" not in str(outcomes["completion"]), outcomes
        final = instances.get_instance(ctx, actor=SYSTEM, instance_id=view.instance.id)
        assert [t.element_id for t in final.open_tasks] == ([] if outcomes["completion"] == 200 else ["Escalate"])
