"""Durable timers: jobs survive restarts, fire exactly once, boundary timers escalate or interrupt, timer
start events start instances; the worker loop survives a bad job."""

from __future__ import annotations

import time
from collections import Counter
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from app.auth.actor import SYSTEM, Actor
from app.db.base import utcnow
from app.db.models import HistoryEvent, Job, JobKind, JobState
from app.main import create_app
from app.services import deployments, instances, jobs
from app.services.context import AppContext
from app.settings import Settings
from app.worker.loop import Worker
from tests.conftest import ADMIN, basic_auth
from tests.factories import lead_sla, timer_start, timer_wait

HUNTER = Actor("hanna", frozenset({"hunter"}))


def deploy(ctx: AppContext, xml: str, name: str = "model.bpmn") -> None:
    deployments.deploy(ctx, files=[(name, xml.encode())], actor=SYSTEM)


def history(ctx: AppContext, instance_id: str) -> list[HistoryEvent]:
    return instances.instance_history(ctx, actor=SYSTEM, instance_id=instance_id, limit=10_000)[0]


def open_elements(ctx: AppContext, instance_id: str) -> list[str]:
    view = instances.get_instance(ctx, actor=SYSTEM, instance_id=instance_id)
    return sorted(t.element_id for t in view.open_tasks)


def run_due(ctx: AppContext, seconds: float, worker_id: str = "test-worker") -> int:
    """Wait until `seconds` from now, then run everything due."""
    time.sleep(seconds)
    return Worker(ctx, worker_id=worker_id).run_until_idle()


def firings(ctx: AppContext) -> Counter[tuple[str, str | None]]:
    with ctx.db.transaction() as session:
        rows = session.execute(select(HistoryEvent.instance_id, HistoryEvent.task_id)
                               .where(HistoryEvent.kind == "timer_fired")).all()
    return Counter((r.instance_id, r.task_id) for r in rows)


def test_waiting_timer_is_a_job_with_its_due_time_and_is_not_claimed_early(ctx: AppContext) -> None:
    deploy(ctx, timer_wait(duration="PT1S"))
    before = utcnow()
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="wait")
    rows, total = jobs.list_jobs(ctx, actor=SYSTEM, instance_id=view.instance.id)
    assert total == 1 and rows[0].kind == JobKind.TIMER and rows[0].element_id == "Wait"
    assert before + timedelta(seconds=1) <= rows[0].due_at <= utcnow() + timedelta(seconds=1)
    assert Worker(ctx, worker_id="early").run_until_idle() == 0
    assert open_elements(ctx, view.instance.id) == []


def test_timers_survive_a_restart_and_each_fires_exactly_once(settings: Settings) -> None:
    first = AppContext(settings)
    try:
        with TestClient(create_app(context=first), headers=basic_auth(*ADMIN)) as client:
            client.post("/api/v1/deployments", files=[("files", ("w.bpmn", timer_wait(duration="PT1S").encode()))])
            client.post("/api/v1/deployments", files=[("files", ("l.bpmn", lead_sla(duration="PT1S").encode()))])
            ids = [client.post("/api/v1/process-instances", json={"definition_key": key}).json()["id"]
                   for key in ("wait", "wait", "wait", "lead", "lead")]
    finally:
        first.close()
    # A new context is a new process as far as the database is concerned: the embedded worker of the restarted
    # server finds the waiting timers in the job table.
    restarted = AppContext(settings.model_copy(update={"embedded_worker": True, "worker_poll_seconds": 0.2}))
    try:
        with TestClient(create_app(context=restarted), headers=basic_auth(*ADMIN)):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and sum(firings(restarted).values()) < len(ids):
                time.sleep(0.1)
        # Another worker coming late finds nothing left to fire.
        assert Worker(restarted, worker_id="late").run_until_idle() == 0
        fired = firings(restarted)
        assert sorted(i for i, _ in fired) == sorted(ids)
        assert set(fired.values()) == {1}
        for instance_id in ids[:3]:
            assert open_elements(restarted, instance_id) == ["After"]
        for instance_id in ids[3:]:
            assert open_elements(restarted, instance_id) == ["Call", "Escalate"]
        with restarted.db.transaction() as session:
            assert session.scalars(select(Job).where(Job.kind == JobKind.TIMER)).all() == []
    finally:
        restarted.close()


def test_non_interrupting_boundary_timer_escalates_without_cancelling_the_task(ctx: AppContext) -> None:
    deploy(ctx, lead_sla(duration="PT1S", interrupting=False))
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="lead")
    assert open_elements(ctx, view.instance.id) == ["Call"]
    assert run_due(ctx, 1.1) == 1
    assert open_elements(ctx, view.instance.id) == ["Call", "Escalate"]
    escalation = next(t for t in instances.get_instance(ctx, actor=SYSTEM, instance_id=view.instance.id).open_tasks
                      if t.element_id == "Escalate")
    assert escalation.candidate_groups == ["head_of_sales"]
    kinds = [e.kind for e in history(ctx, view.instance.id)]
    assert kinds.count("timer_fired") == 1 and "task_cancelled" not in kinds


def test_interrupting_boundary_timer_cancels_the_task(ctx: AppContext) -> None:
    deploy(ctx, lead_sla(duration="PT1S", interrupting=True))
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="lead")
    assert run_due(ctx, 1.1) == 1
    assert open_elements(ctx, view.instance.id) == ["Escalate"]
    events = history(ctx, view.instance.id)
    cancelled = [e for e in events if e.kind == "task_cancelled"]
    assert [e.element_id for e in cancelled] == ["Call"]
    assert [e.element_id for e in events if e.kind == "timer_fired"] == ["Sla"]


def test_completing_the_task_in_time_removes_its_boundary_timer(ctx: AppContext) -> None:
    from app.services import tasks

    deploy(ctx, lead_sla(duration="PT1S"))
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="lead")
    call = view.open_tasks[0]
    tasks.complete_task(ctx, actor=HUNTER, task_id=call.id, variables={})
    assert jobs.list_jobs(ctx, actor=SYSTEM, instance_id=view.instance.id)[1] == 0
    assert run_due(ctx, 1.1) == 0
    final = instances.get_instance(ctx, actor=SYSTEM, instance_id=view.instance.id)
    assert final.instance.status == "completed"
    assert "timer_fired" not in [e.kind for e in history(ctx, view.instance.id)]


def test_a_completion_that_beats_a_lagging_worker_wins_and_the_timer_job_goes(ctx: AppContext) -> None:
    from app.services import tasks

    deploy(ctx, lead_sla(duration="PT1S", interrupting=True))
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="lead")
    time.sleep(1.1)
    # Due, but no worker has fired it yet: the request's command runs first, which cancels the boundary timer.
    tasks.complete_task(ctx, actor=HUNTER, task_id=view.open_tasks[0].id, variables={})
    assert Worker(ctx, worker_id="w").run_until_idle() == 0
    assert "timer_fired" not in [e.kind for e in history(ctx, view.instance.id)]
    assert instances.get_instance(ctx, actor=SYSTEM, instance_id=view.instance.id).instance.status == "completed"


def test_cycle_timer_start_event_starts_an_instance_per_firing_and_then_stops(ctx: AppContext) -> None:
    deploy(ctx, timer_start(timer="<bpmn:timeCycle>R2/PT1S</bpmn:timeCycle>"))
    rows, total = jobs.list_jobs(ctx, actor=SYSTEM, kind=JobKind.START_TIMER)
    assert total == 1 and rows[0].instance_id is None and rows[0].element_id == "Tick"
    assert run_due(ctx, 1.1) == 1
    assert run_due(ctx, 1.0) == 1
    assert run_due(ctx, 1.0) == 0
    started, count = instances.list_instances(ctx, actor=SYSTEM, definition_key="daily")
    assert count == 2
    for view in started:
        assert [t.element_id for t in view.open_tasks] == ["Review"]
        kinds = [e.kind for e in history(ctx, view.instance.id)]
        assert kinds[:2] == ["instance_started", "timer_fired"]
    assert jobs.list_jobs(ctx, actor=SYSTEM, kind=JobKind.START_TIMER)[1] == 0


def test_date_start_timer_fires_once_and_a_new_version_replaces_the_old_start_timer(ctx: AppContext) -> None:
    past = (utcnow() - timedelta(minutes=1)).isoformat()
    deploy(ctx, timer_start(timer="<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"))
    deploy(ctx, timer_start(timer=f"<bpmn:timeDate>{past}</bpmn:timeDate>"))
    rows, total = jobs.list_jobs(ctx, actor=SYSTEM, kind=JobKind.START_TIMER)
    assert total == 1 and rows[0].schedule is None
    assert Worker(ctx, worker_id="w").run_until_idle() == 1
    views, count = instances.list_instances(ctx, actor=SYSTEM, definition_key="daily")
    assert count == 1 and views[0].definition_version == 2
    assert jobs.list_jobs(ctx, actor=SYSTEM, kind=JobKind.START_TIMER)[1] == 0


def test_a_process_with_only_a_timer_start_can_still_be_started_by_hand(ctx: AppContext) -> None:
    deploy(ctx, timer_start(timer="<bpmn:timeCycle>R/PT1H</bpmn:timeCycle>"))
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="daily")
    assert [t.element_id for t in view.open_tasks] == ["Review"]


def test_a_failing_job_is_retried_with_backoff_then_becomes_an_incident_and_the_loop_goes_on(
        ctx: AppContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"job_retries": 2, "job_retry_seconds": 0.0})
    deploy(ctx, timer_wait(duration="PT1S"))
    good = instances.start_instance(ctx, actor=SYSTEM, definition_key="wait").instance.id
    bad = instances.start_instance(ctx, actor=SYSTEM, definition_key="wait").instance.id
    with ctx.db.transaction() as session:
        from app.db.models import ProcessInstance

        broken = session.get(ProcessInstance, bad)
        assert broken is not None
        broken.state = {"not": "a workflow"}  # a corrupt row: loading it raises
    time.sleep(1.1)
    worker = Worker(ctx, worker_id="w")
    worker.run_until_idle()
    assert worker.counts["fired"] == 1 and worker.counts["error"] == 2
    assert open_elements(ctx, good) == ["After"]
    job = jobs.list_jobs(ctx, actor=SYSTEM, instance_id=bad)[0][0]
    assert job.state == JobState.FAILED and job.retries == 0 and job.error_message
    failed = instances.get_instance(ctx, actor=SYSTEM, instance_id=bad)
    assert failed.instance.status == "failed"
    assert [(i.kind, i.element_id, i.job_id) for i in failed.incidents] == [("failed_job", "Wait", job.id)]


def test_worker_thread_stops_promptly_on_request(ctx: AppContext) -> None:
    from app.worker.loop import WorkerThread

    thread = WorkerThread(ctx, worker_id="t")
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    thread.stop(timeout=5)
    assert not thread.thread.is_alive() and time.monotonic() - started < 2


def test_jobs_of_a_dead_worker_are_claimed_again_after_their_lock_expires(ctx: AppContext) -> None:
    ctx.settings = ctx.settings.model_copy(update={"job_lock_seconds": 0.5})
    deploy(ctx, timer_wait(duration="PT1S"))
    instance_id = instances.start_instance(ctx, actor=SYSTEM, definition_key="wait").instance.id
    time.sleep(1.1)
    claimed = jobs.claim_due_jobs(ctx, owner="dead", limit=10)  # ... and then the worker dies
    assert len(claimed) == 1
    assert Worker(ctx, worker_id="alive").run_until_idle() == 0  # locked: not yet
    time.sleep(0.6)
    assert Worker(ctx, worker_id="alive").run_until_idle() == 1
    assert jobs.fire_timer_job(ctx, job_id=claimed[0].id, owner="dead") == "skipped"  # came back to life: too late
    fired = [e for e in history(ctx, instance_id) if e.kind == "timer_fired"]
    assert len(fired) == 1 and fired[0].data["worker"] == "alive"


def test_a_timer_already_due_when_reached_fires_at_once_and_is_recorded(ctx: AppContext) -> None:
    from tests.factories import timer_at

    deploy(ctx, timer_at())
    past = (utcnow() - timedelta(seconds=5)).isoformat()
    view = instances.start_instance(ctx, actor=SYSTEM, definition_key="due", variables={"due": past})
    assert [t.element_id for t in view.open_tasks] == ["After"]
    [fired] = [e for e in history(ctx, view.instance.id) if e.kind == "timer_fired"]
    assert fired.element_id == "Wait" and fired.data["job_id"] is None
