"""SLA breaches from boundary timers that really fire (the worker, on the shipped model with its 24-hour SLA
shortened to two seconds), overdue tasks from due dates, escalations and reassignments, per stage and manager."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.auth.actor import SYSTEM
from app.db.models import Job, JobKind
from app.services import analytics, deployments, instances, tasks
from app.services.analytics import Filters
from app.services.context import AppContext
from app.worker.loop import Worker
from tests.clock import controlled_clock
from tests.factories import role_relay
from tests.integration.analytics.world import ACTORS, BPMN, HOUR, add_people, deploy_sales_models, start_deal


def test_boundary_timer_breaches_escalations_and_reassignments_per_stage_and_manager(ctx: AppContext) -> None:
    add_people(ctx)
    xml = (BPMN / "sales_deal.bpmn").read_text(encoding="utf-8")
    assert xml.count(">PT24H<") == 1
    base = datetime.now(UTC)
    with controlled_clock(base) as clock:
        deploy_sales_models(ctx, xml.replace(">PT24H<", ">PT2S<"))
        late_hanna = start_deal(ctx, clock, "hanna", "ООО Поздно")
        tasks.claim_task(ctx, actor=ACTORS["hanna"], task_id=late_hanna.open_task("Task_QualifyLead"))
        late_pool = start_deal(ctx, clock, "igor", "ООО Ничей")
        in_time = start_deal(ctx, clock, "igor", "ООО Вовремя")
        in_time.do("Task_QualifyLead", "igor", wait=0, work=0)  # done before the SLA timer is due
        with ctx.db.read() as session:  # the engine's timers run on the system clock: wait for the later one
            due = max(session.scalars(select(Job.due_at).where(Job.kind == JobKind.TIMER,
                                                               Job.element_id == "Timer_QualifySla")))
        time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.2)
        clock.set(base + timedelta(hours=25))  # the worker's clock: a day later, both timers are due
        assert Worker(ctx, worker_id="analytics-test").run_until_idle() == 2
        # the head of sales handles one escalation within an hour and gives the unclaimed lead to igor
        escalation = late_hanna.open_task("Task_EscalateLead")
        late_hanna.do("Task_EscalateLead", "boss", wait=0.5, work=0.5)
        tasks.assign_task(ctx, actor=ACTORS["boss"], task_id=late_pool.open_task("Task_QualifyLead"),
                          assignee="igor")
        late_pool.do("Task_QualifyLead", "igor", wait=1, work=1)
        late_hanna.do("Task_QualifyLead", "hanna", wait=0, work=1)
        assert tasks.get_task(ctx, actor=SYSTEM, task_id=escalation).task.state == "completed"

        report = analytics.sla(ctx, actor=SYSTEM, filters=Filters("sales_deal"))
        lead = {r["stage"]: r for r in report.table(None).rows}["lead"]
        assert lead == {"stage": "lead", "sla_breaches": 2, "overdue_completed": 0, "overdue_open": 0,
                        "escalations": 2, "escalations_handled": 1, "escalation_median_seconds": 1 * HOUR,
                        "reassignments": 1}
        assert report.tables["managers"].rows == [
            {"manager": "hanna", "sla_breaches": 1, "overdue_completed": 0, "overdue_open": 0},
            {"manager": "igor", "sla_breaches": 1, "overdue_completed": 0, "overdue_open": 0}]
        timers = {r["element_id"]: r for r in report.tables["timers"].rows}
        assert timers["Timer_QualifySla"]["fired"] == 2 and timers["Timer_QualifySla"]["stage"] == "lead"
        assert timers["Timer_FulfilmentBreach"]["fired"] == 0
        assert report.summary == {"sla_breaches": 2, "overdue": 0, "escalations": 2, "reassignments": 1}

        # a hunter sees their own breaches only; the period bounds when the timers fired
        own = analytics.sla(ctx, actor=ACTORS["hanna"], filters=Filters("sales_deal"))
        assert own.tables["managers"].rows == [
            {"manager": "hanna", "sla_breaches": 1, "overdue_completed": 0, "overdue_open": 0}]
        before = analytics.sla(ctx, actor=SYSTEM, filters=Filters("sales_deal", end=base + timedelta(hours=1)))
        assert before.summary["sla_breaches"] == 0


def test_tasks_past_their_due_date_count_per_manager_whether_done_late_or_still_open(ctx: AppContext) -> None:
    add_people(ctx)
    start = datetime(2025, 4, 7, 9, tzinfo=UTC)
    with controlled_clock(start) as clock:
        deployments.deploy(ctx, files=[("relay.bpmn", role_relay(due="P1D").encode())], actor=SYSTEM)

        def hunt(who: str, after_hours: float) -> None:
            view = instances.start_instance(ctx, actor=ACTORS[who], definition_key="relay")
            task_id = view.open_tasks[0].id
            clock.advance(hours=after_hours)
            tasks.claim_task(ctx, actor=ACTORS[who], task_id=task_id)
            tasks.complete_task(ctx, actor=ACTORS[who], task_id=task_id)

        hunt("hanna", 30)  # due after 24 hours: late
        hunt("hanna", 2)
        hunt("igor", 25)  # late
        view = instances.start_instance(ctx, actor=ACTORS["igor"], definition_key="relay")
        tasks.claim_task(ctx, actor=ACTORS["igor"], task_id=view.open_tasks[0].id)
        clock.advance(hours=48)  # igor's last one is now a day past due

        report = analytics.sla(ctx, actor=SYSTEM, filters=Filters("relay"))
        assert report.tables["managers"].rows == [
            {"manager": "igor", "sla_breaches": 0, "overdue_completed": 1, "overdue_open": 1},
            {"manager": "hanna", "sla_breaches": 0, "overdue_completed": 1, "overdue_open": 0}]
        assert report.summary["overdue"] == 3
        rows = analytics.people(ctx, actor=SYSTEM, filters=Filters("relay")).table(None).rows
        people = {r["username"]: r for r in rows}
        assert (people["hanna"]["overdue"], people["igor"]["overdue"]) == (1, 2)
