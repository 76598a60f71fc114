"""Migration of running instances between versions over HTTP: plan, validate, batch with progress."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from app.auth.actor import Actor
from app.services.context import AppContext
from app.worker.loop import Worker
from tests.integration.regulation.models import lead_process, steps, steps_renamed, with_subprocess
from tests.integration.regulation.test_approval_and_diff import as_user, deploy

pytestmark = pytest.mark.db
ADMIN_ACTOR = Actor("admin", frozenset({"admin"}))


def start(client: TestClient, key: str, business_key: str) -> str:
    response = client.post("/api/v1/process-instances", json={"definition_key": key, "business_key": business_key})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def complete_open(client: TestClient, instance_id: str, variables: dict | None = None,
                  element: str | None = None) -> str:
    tasks = client.get("/api/v1/tasks", params={"instance_id": instance_id}).json()["items"]
    task = next(t for t in tasks if element is None or t["element_id"] == element)
    if task["assignee"] != "admin":
        assert client.post(f"/api/v1/tasks/{task['id']}/assign", json={"assignee": "admin"}).status_code == 200
    response = client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": variables or {}})
    assert response.status_code == 200, response.text
    return task["element_id"]


def open_elements(client: TestClient, instance_id: str) -> list[str]:
    tasks = client.get("/api/v1/tasks", params={"instance_id": instance_id}).json()["items"]
    return sorted(t["element_id"] for t in tasks)


def test_validation_refuses_only_the_instances_waiting_where_the_plan_cannot_follow(client: TestClient) -> None:
    v1 = deploy(client, lead_process(1))
    at_qualify = start(client, "reg", "q")
    at_call = start(client, "reg", "c")
    complete_open(client, at_call, {"amount": 10})
    at_obsolete = start(client, "reg", "o")
    complete_open(client, at_obsolete, {"amount": 10})
    complete_open(client, at_obsolete)
    at_close = start(client, "reg", "big")
    complete_open(client, at_close, {"amount": 99999})
    complete_open(client, at_close)
    assert open_elements(client, at_close) == ["Close"] and open_elements(client, at_obsolete) == ["Obsolete"]
    v2 = deploy(client, lead_process(2))

    plan = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                        "target_definition_id": v2["id"]})
    assert plan.status_code == 200, plan.text
    assert plan.json()["unmapped"] == ["F_Obs", "Obsolete"] or "Obsolete" in plan.json()["unmapped"]
    checked = client.post("/api/v1/migrations/validate", json={"plan": plan.json()})
    assert checked.status_code == 200, checked.text
    by_key = {c["business_key"]: c for c in checked.json()["instances"]}
    assert by_key["q"]["valid"] and by_key["big"]["valid"]
    assert not by_key["o"]["valid"] and by_key["o"]["problems"][0]["element_id"] == "Obsolete"
    assert not by_key["c"]["valid"] and by_key["c"]["problems"][0]["element_id"] == "Sla"  # its timer changed
    assert (checked.json()["valid"], checked.json()["invalid"]) == (2, 2)

    listed = client.post("/api/v1/migrations/validate", json={"plan": plan.json(), "instance_ids": [at_qualify]})
    assert [c["instance_id"] for c in listed.json()["instances"]] == [at_qualify]
    by_filter = client.post("/api/v1/migrations/validate", json={"plan": plan.json(),
                                                                 "filter": {"business_key_like": "b*"}})
    assert [c["business_key"] for c in by_filter.json()["instances"]] == ["big"]


def test_a_batch_migrates_what_it_can_reprojects_tasks_and_deals_finish_on_the_new_version(
        client: TestClient, ctx: AppContext) -> None:
    v1 = deploy(client, lead_process(1))
    at_qualify = start(client, "reg", "q")
    at_call = start(client, "reg", "c")
    complete_open(client, at_call, {"amount": 10})
    at_close = start(client, "reg", "big")
    complete_open(client, at_close, {"amount": 99999})
    complete_open(client, at_close)
    before_call = client.get(f"/api/v1/process-instances/{at_call}").json()
    v2 = deploy(client, lead_process(2))
    plan = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                        "target_definition_id": v2["id"]}).json()
    batch_id = client.post("/api/v1/migrations", json={"plan": plan}).json()["id"]
    assert client.get(f"/api/v1/migrations/{batch_id}").json()["remaining"] == 3
    Worker(ctx, batch_size=10).run_until_idle()
    progress = client.get(f"/api/v1/migrations/{batch_id}").json()
    assert (progress["state"], progress["total"], progress["done"], progress["failed"], progress["remaining"]) == (
        "completed", 3, 2, 1, 0)
    assert progress["failures"][0]["instance_id"] == at_call and "timer" in progress["failures"][0]["reason"]
    after_call = client.get(f"/api/v1/process-instances/{at_call}").json()
    assert after_call["definition_version"] == 1 and after_call["variables"] == before_call["variables"]

    qualify = client.get(f"/api/v1/process-instances/{at_qualify}").json()
    assert qualify["definition_version"] == 2
    task = client.get("/api/v1/tasks", params={"instance_id": at_qualify}).json()["items"][0]
    assert task["name"] == "Квалифицировать лид"  # re-projected from the new version
    history = client.get(f"/api/v1/process-instances/{at_qualify}/history").json()
    migrated = [e for e in history["items"] if e["kind"] == "instance_migrated"] if isinstance(history, dict) else [
        e for e in history if e["kind"] == "instance_migrated"]
    assert migrated and migrated[0]["data"]["from_version"] == 1 and migrated[0]["data"]["to_version"] == 2
    assert migrated[0]["actor"] == "admin"

    complete_open(client, at_qualify, {"amount": 3000})  # 3000 < 5000: v2's threshold sends it to the small end
    call_task = client.get("/api/v1/tasks", params={"instance_id": at_qualify}).json()["items"][0]
    assert call_task["candidate_groups"] == ["closer"]
    complete_open(client, at_qualify, element="Call")
    assert client.get(f"/api/v1/process-instances/{at_qualify}").json()["status"] == "completed"

    complete_open(client, at_close)  # Close, then v2's new Proposal task
    assert open_elements(client, at_close) == ["Proposal"]
    complete_open(client, at_close)
    assert client.get(f"/api/v1/process-instances/{at_close}").json()["status"] == "completed"


def test_many_deals_over_several_waiting_elements_migrate_with_progress(client: TestClient, ctx: AppContext) -> None:
    from app.auth.actor import SYSTEM
    from app.services import instances, tasks

    v1 = deploy(client, steps(1))
    ids = []
    for number in range(500):
        view = instances.start_instance(ctx, actor=SYSTEM, definition_key="steps", business_key=f"d{number}")
        if number % 2:  # half wait in A, half in B
            task_id = view.open_tasks[0].id
            tasks.assign_task(ctx, actor=SYSTEM, task_id=task_id, assignee="admin")
            tasks.complete_task(ctx, actor=ADMIN_ACTOR, task_id=task_id, variables={})
        ids.append(view.instance.id)
    v2 = deploy(client, steps(2))
    plan = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                        "target_definition_id": v2["id"]}).json()
    batch_id = client.post("/api/v1/migrations", json={"plan": plan, "filter": {"business_key_like": "d*"}}
                           ).json()["id"]
    worker = Worker(ctx, batch_size=100)
    seen = []
    while True:
        if worker.run_once() == 0:
            break
        seen.append(client.get(f"/api/v1/migrations/{batch_id}").json()["done"])
    assert seen[:4] == [100, 200, 300, 400] and seen[-1] == 500
    final = client.get(f"/api/v1/migrations/{batch_id}").json()
    assert (final["state"], final["done"], final["failed"], final["remaining"]) == ("completed", 500, 0, 0)
    for instance_id in ids:  # every deal goes on to its end on the new version, through the new step C
        walked = []
        while True:
            open_tasks = tasks.list_tasks(ctx, actor=SYSTEM, flt=tasks.TaskFilter(instance_id=instance_id,
                                                                                   scope="all"))[0]
            if not open_tasks:
                break
            tasks.assign_task(ctx, actor=SYSTEM, task_id=open_tasks[0].id, assignee="admin")
            tasks.complete_task(ctx, actor=ADMIN_ACTOR, task_id=open_tasks[0].id, variables={})
            walked.append(open_tasks[0].element_id)
        assert walked[-1] == "C"
        view = instances.get_instance(ctx, actor=SYSTEM, instance_id=instance_id)
        assert (view.instance.status, view.definition_version) == ("completed", 2)


def test_a_renamed_element_moves_once_the_plan_maps_it_and_the_funnel_counts_moved_deals(
        client: TestClient, ctx: AppContext) -> None:
    v1 = deploy(client, steps(1))
    waiting = start(client, "steps", "r1")
    complete_open(client, waiting)  # now in B
    v2 = deploy(client, steps_renamed())
    plain = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                         "target_definition_id": v2["id"]}).json()
    assert "B" in plain["unmapped"]
    refused = client.post("/api/v1/migrations/validate", json={"plan": plain}).json()["instances"][0]
    assert not refused["valid"] and "map it" in refused["problems"][0]["message"]
    wrong = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                         "target_definition_id": v2["id"],
                                                         "instructions": [{"source": "B", "target": "Nope"}]})
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["element_id"] == "B"
    mapped = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                          "target_definition_id": v2["id"],
                                                          "instructions": [{"source": "B", "target": "B2"}]}).json()
    assert {"source": "B", "target": "B2"} in mapped["instructions"] and mapped["unmapped"] == []
    batch_id = client.post("/api/v1/migrations", json={"plan": mapped, "instance_ids": [waiting]}).json()["id"]
    Worker(ctx).run_until_idle()
    assert client.get(f"/api/v1/migrations/{batch_id}").json()["done"] == 1
    assert open_elements(client, waiting) == ["B2"]
    complete_open(client, waiting)
    assert client.get(f"/api/v1/process-instances/{waiting}").json()["status"] == "completed"
    start(client, "steps", "fresh")  # started on version 2
    figures = client.get("/api/v1/analytics/versions", params={"definition_key": "steps", "a": 1, "b": 2}).json()
    rows = {r["figure"]: r for r in figures["items"]}
    assert (rows["deals_migrated_in"]["a"], rows["deals_migrated_in"]["b"]) == (0, 1)
    assert rows["deals_started_on_version"]["b"] == 1 and rows["deals"]["b"] == 2


def test_a_draft_is_no_migration_target_and_only_admins_migrate(client: TestClient, ctx: AppContext) -> None:
    v1 = deploy(client, steps(1, key="sales_deal"))
    draft = deploy(client, steps(2, key="sales_deal"))
    refused = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                           "target_definition_id": draft["id"]})
    assert refused.status_code == 409 and "approved" in refused.json()["detail"]
    head = as_user(client, ctx, "boss", ["head_of_sales"])
    assert head.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                      "target_definition_id": draft["id"]}).status_code == 403
    assert client.get("/api/v1/migrations/nope").status_code == 404
    assert client.post("/api/v1/migrations/plan", json={"source_definition_id": "x",
                                                        "target_definition_id": v1["id"]}).status_code == 404
    both = client.post("/api/v1/migrations/validate", json={
        "plan": {"source_definition_id": v1["id"], "target_definition_id": v1["id"]},
        "instance_ids": [], "filter": {}})
    assert both.status_code == 422


def test_a_deal_inside_a_changed_sub_process_stays_one_before_it_moves(client: TestClient, ctx: AppContext) -> None:
    v1 = deploy(client, with_subprocess(1))
    before = start(client, "sub", "before")
    inside = start(client, "sub", "inside")
    complete_open(client, inside)  # now inside the sub-process
    assert open_elements(client, inside) == ["Inner"]
    v2 = deploy(client, with_subprocess(2))
    plan = client.post("/api/v1/migrations/plan", json={"source_definition_id": v1["id"],
                                                        "target_definition_id": v2["id"]}).json()
    checks = {c["business_key"]: c for c in client.post("/api/v1/migrations/validate",
                                                        json={"plan": plan}).json()["instances"]}
    assert checks["before"]["valid"]
    assert not checks["inside"]["valid"] and "sub-process" in checks["inside"]["problems"][0]["message"]
    client.post("/api/v1/migrations", json={"plan": plan})
    Worker(ctx).run_until_idle()
    complete_open(client, before)  # into the new sub-process: Inner, then the added Inner2
    complete_open(client, before)
    assert open_elements(client, before) == ["Inner2"]
