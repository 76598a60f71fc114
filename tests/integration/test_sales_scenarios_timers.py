"""sales_deal's timers over the HTTP API on a moved clock: the lead's SLA escalation, the payment reminder and the
fulfilment breach warning. The job worker runs once after each move, as the server's worker would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from app.auth.actor import SYSTEM
from app.services import identity
from tests.integration import sales_playbook as play
from tests.integration.sales_desk import PASSWORD, SalesDesk


def due(job: dict) -> datetime:
    return datetime.fromisoformat(job["due_at"])


def test_unworked_lead_is_escalated_after_24_hours_while_the_hunter_keeps_the_task(desk: SalesDesk) -> None:
    identity.create_user(desk.ctx, actor=SYSTEM, username="hunter_2", password=PASSWORD, groups=["hunter"])
    company = "ООО «Медленный старт»"
    deal = desk.start_deal(company)
    lead = desk.task_of(deal, "Task_QualifyLead")
    [sla] = desk.jobs(deal)
    assert sla["element_id"] == "Timer_QualifySla"
    assert timedelta(hours=23, minutes=59) < due(sla) - datetime.fromisoformat(lead["created_at"]) <= timedelta(
        hours=24, seconds=1)
    # The hunter takes the lead and goes quiet. At 23 hours nothing happens; at 25 the SLA timer fires once.
    assert desk.client.post(f"/api/v1/tasks/{lead['id']}/claim", headers=desk.auth("hunter")).status_code == 200
    assert desk.later(timedelta(hours=23)) == 0
    assert desk.waiting(deal) == ["Task_QualifyLead"]
    assert desk.later(timedelta(hours=2)) == 1
    assert desk.waiting(deal) == ["Task_EscalateLead", "Task_QualifyLead"]
    assert desk.later(timedelta(hours=25)) == 0  # non-interrupting and not a cycle: one escalation only
    assert desk.waiting(deal) == ["Task_EscalateLead", "Task_QualifyLead"]

    # The hunter's task is the same task, still the hunter's; the escalation is the head of sales' alone.
    still = desk.task_of(deal, "Task_QualifyLead")
    assert (still["id"], still["assignee"]) == (lead["id"], "hunter")
    assert lead["id"] in {t["id"] for t in desk.get("/api/v1/tasks", "hunter", scope="mine")["items"]}
    assert desk.events(deal, "task_cancelled") == []
    [fired] = desk.events(deal, "timer_fired")
    assert (fired["element_id"], fired["actor"], fired["data"]["worker"]) == ("Timer_QualifySla", "system",
                                                                              "scenario-worker")
    escalation = desk.task_of(deal, "Task_EscalateLead")
    assert (escalation["funnel_stage"], escalation["work_kind"]) == ("lead", "auxiliary")
    assert desk.instance(deal)["funnel_stage"] == "lead"

    # The head of sales hands the lead to another hunter and closes the escalation; hunter_2 qualifies it.
    moved = desk.client.post(f"/api/v1/tasks/{lead['id']}/assign", json={"assignee": "hunter_2"},
                             headers=desk.auth("head_of_sales"))
    assert moved.status_code == 200 and moved.json()["assignee"] == "hunter_2"
    assert desk.client.get(f"/api/v1/tasks/{lead['id']}", headers=desk.auth("hunter")).status_code == 404
    desk.work(deal, "Task_EscalateLead", "head_of_sales", escalation_action="reassigned",
              escalation_comment="Передан второму хантеру")
    assert desk.waiting(deal) == ["Task_QualifyLead"]
    play.qualify(desk, deal, user="hunter_2")
    assert desk.jobs(deal) == []
    # From here the deal runs its ordinary course; the client declines in the first round.
    play.identify_needs(desk, deal)
    play.propose(desk, deal)
    play.warm_up(desk, deal)
    play.negotiate(desk, deal, "decline", lost_reason="Долго не перезванивали")

    assert desk.path(deal) == [
        "StartEvent_Manual", "Timer_QualifySla", "Task_EscalateLead", "End_EscalationHandled",
        "Task_QualifyLead", "Gateway_Qualified", "Task_IdentifyNeeds", "Gateway_ClientCategory",
        "Task_PrepareProposal", "Task_DecideDiscountApproval", "Gateway_DiscountCheck", "Gateway_Tender",
        "Task_PreliminaryNegotiations", "Task_HandOverToCloser", "Task_Negotiate", "Gateway_NegotiationOutcome",
        "End_LostNegotiation"]
    assert [(s.element_id, s.role) for s in desk.worked[deal][:2]] == [("Task_EscalateLead", "head_of_sales"),
                                                                      ("Task_QualifyLead", "hunter")]
    history = desk.get(f"/api/v1/tasks/{lead['id']}/history")["items"]
    assert [(e["kind"], e["actor"]) for e in history] == [
        ("task_created", "hunter"), ("task_claimed", "hunter"), ("task_assigned", "head_of_sales"),
        ("task_completed", "hunter_2")]
    assert desk.stages(deal) == ["lead", "qualified", "proposal", "negotiation"]
    final = desk.instance(deal)
    assert (final["status"], final["outcome"], final["funnel_stage"]) == ("completed", "lost", "negotiation")
    assert final["variables"]["escalation_action"] == "reassigned"
    assert final["variables"]["lost_reason"] == "Долго не перезванивали"


def test_payment_reminder_comes_first_then_the_payment_and_a_late_fulfilment_is_warned(desk: SalesDesk) -> None:
    company = "ООО «Должник»"
    deal = desk.start_deal(company)
    play.qualify(desk, deal)
    play.identify_needs(desk, deal)
    play.propose(desk, deal)
    play.warm_up(desk, deal)
    play.negotiate(desk, deal)
    play.contract(desk, deal)
    play.invoice(desk, deal, company)
    [overdue] = desk.jobs(deal)  # SpiffWorkflow waits at the event-based gateway: the job is the gateway's
    assert overdue["element_id"] == "Gateway_AwaitPayment"
    assert timedelta(days=6, hours=23) < due(overdue) - datetime.now(UTC) <= timedelta(days=7)  # travelled clock

    # Seven days without payment: the closer gets the reminder; then the gateway waits again, a new week.
    assert desk.later(timedelta(days=6)) == 0
    assert desk.later(timedelta(days=2)) == 1
    assert desk.waiting(deal) == ["Task_RemindPayment"]
    assert desk.instance(deal)["funnel_stage"] == "invoiced"
    desk.work(deal, "Task_RemindPayment", "closer", reminder_result="Обещали оплатить до пятницы",
              promised_payment_date="2030-06-14")
    [again] = desk.jobs(deal)
    assert again["element_id"] == "Gateway_AwaitPayment" and due(again) > due(overdue) + timedelta(days=1)
    # A payment for somebody else's deal reaches nobody.
    stranger = desk.client.post("/api/v1/messages", headers=desk.auth("integration"), json={
        "name": "payment_received", "business_key": "ООО «Другой»", "variables": {"paid_amount": 1}})
    assert stranger.status_code == 404
    play.pay(desk, deal, company)
    assert desk.instance(deal)["variables"]["paid_amount"] == 1_140_000

    # Fulfilment runs late: after 14 days the account manager is warned, and fulfilment goes on.
    [breach] = desk.jobs(deal)
    assert breach["element_id"] == "Timer_FulfilmentBreach"
    assert desk.later(timedelta(days=15)) == 1
    assert desk.waiting(deal) == ["Task_FulfilContract", "Task_WarnBreach"]
    desk.work(deal, "Task_WarnBreach", "account_manager", breach_actions="Предупредили клиента о сдвиге сроков")
    play.fulfil_and_retain(desk, deal)

    path = desk.path(deal)
    paying = path[path.index("Task_SendInvoice"):path.index("Task_CloseDocuments") + 1]
    assert paying == ["Task_SendInvoice", "Gateway_AwaitPayment", "Event_PaymentOverdue", "Task_RemindPayment",
                      "Gateway_AwaitPayment", "Event_PaymentReceived", "Task_CloseDocuments"]
    fulfilling = path[path.index("Task_CloseDocuments") + 1:]
    assert fulfilling[:4] == ["Timer_FulfilmentBreach", "Task_WarnBreach", "End_BreachWarned",
                              "Task_FulfilContract"]
    assert fulfilling[-2:] == ["Gateway_RepeatOrder", "End_Won"]
    assert [e["element_id"] for e in desk.events(deal, "timer_fired")] == ["Gateway_AwaitPayment",
                                                                           "Timer_FulfilmentBreach"]
    reminder = next(s for s in desk.worked[deal] if s.element_id == "Task_RemindPayment")
    assert (reminder.role, reminder.funnel_stage, reminder.work_kind) == ("closer", "invoiced", "main")
    assert desk.stages(deal) == play.ALL_STAGES
    final = desk.instance(deal)
    assert (final["status"], final["outcome"], final["funnel_stage"]) == ("completed", "won", "retained")
    assert final["variables"]["promised_payment_date"] == "2030-06-14"
    assert final["variables"]["breach_actions"].startswith("Предупредили")
    assert desk.jobs(deal) == []
