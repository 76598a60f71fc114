"""Two requests completing the same task at the same moment: one wins, the other gets 409, nothing doubles."""

from __future__ import annotations

import threading

import httpx

from app.services.context import AppContext
from tests.conftest import ADMIN, LiveServer
from tests.factories import make_user, two_lane_deal, upload

ROUNDS = 8


def test_concurrent_double_completion_is_one_success_and_one_conflict(ctx: AppContext,
                                                                       live_server: LiveServer) -> None:
    seller = make_user(ctx, "seller", ["designer", "hunter", "closer"])
    with httpx.Client(base_url=live_server.url, auth=seller, timeout=30) as client:
        assert client.post("/api/v1/deployments", files=upload(("deal.bpmn", two_lane_deal()))).status_code == 201
        for round_no in range(ROUNDS):
            instance = client.post("/api/v1/process-instances", json={"definition_key": "deal"}).json()
            task_id = instance["tasks"][0]["id"]
            statuses = race(live_server.url, seller, f"/api/v1/tasks/{task_id}/complete",
                            {"variables": {"company": f"Ромашка {round_no}", "amount": 5000}})
            assert sorted(statuses) == [200, 409], statuses
            history = client.get(f"/api/v1/process-instances/{instance['id']}/history").json()["items"]
            assert [e["kind"] for e in history].count("task_completed") == 1
            assert [e["element_id"] for e in history if e["kind"] == "task_created"] == ["Qualify", "Close"]
            open_tasks = client.get("/api/v1/tasks", params={"instance_id": instance["id"]}).json()
            assert [t["element_id"] for t in open_tasks["items"]] == ["Close"]
    with httpx.Client(base_url=live_server.url, auth=ADMIN) as admin:
        assert admin.get("/health").status_code == 200


def race(base_url: str, auth: tuple[str, str], path: str, body: dict) -> list[int]:
    """Fire the same request from two clients released by one barrier."""
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def send() -> None:
        with httpx.Client(base_url=base_url, auth=auth, timeout=30) as client:
            client.get("/health")  # open the connection before the race
            barrier.wait()
            statuses.append(client.post(path, json=body).status_code)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses
