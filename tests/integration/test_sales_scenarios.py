"""Whole sales_deal instances over the HTTP API, each step worked by its role (tests/integration/sales_desk.py):
won deals and lost deals. Timers are in test_sales_scenarios_timers.py, repeat orders and key clients in
test_sales_scenarios_clients.py."""

from __future__ import annotations

from tests.integration import sales_playbook as play
from tests.integration.sales_desk import SalesDesk

DISCOUNT_SENT_BACK = ["Task_PrepareProposal", "Task_DecideDiscountApproval", "Gateway_DiscountCheck",
                      "Task_ApproveDiscount", "Gateway_DiscountApproved"]
WARMING = ["StartEvent_Manual", "Task_QualifyLead", "Gateway_Qualified", "Task_IdentifyNeeds",
           "Gateway_ClientCategory"]
CLOSING = ["Task_Negotiate", "Gateway_NegotiationOutcome", "Task_CalculatePrice", "Task_ChooseTerms",
           "Task_DraftContract", "Task_ApproveContract", "Gateway_ContractApproved", "Task_SignContract"]
PAYMENT = ["ServiceTask_CreateInvoice", "Task_SendInvoice", "Gateway_AwaitPayment", "Event_PaymentReceived",
           "Task_CloseDocuments"]
RETENTION = ["Task_FulfilContract", "Task_AddToMailing", "Task_CongratulateDates", "Task_SatisfactionSurvey",
             "Task_InviteToEvent", "Task_OfferRepeatOrder", "Gateway_RepeatOrder"]


def assert_ended(desk: SalesDesk, deal: str, *, outcome: str, stage: str) -> dict:
    final = desk.instance(deal)
    assert (final["status"], final["outcome"], final["funnel_stage"]) == ("completed", outcome, stage)
    assert final["ended_at"] and final["tasks"] == [] and final["incidents"] == []
    assert desk.jobs(deal) == []  # no timer or external task outlives the deal
    return dict(final["variables"])


def test_standard_client_deal_is_won_through_every_stage(desk: SalesDesk) -> None:
    company = "ООО «Ромашка»"
    deal = desk.start_deal(company)
    assert desk.instance(deal)["funnel_stage"] == "lead"
    [sla] = desk.jobs(deal)
    assert (sla["kind"], sla["element_id"]) == ("timer", "Timer_QualifySla")
    play.qualify(desk, deal)
    assert desk.jobs(deal) == []  # worked in time: the SLA timer went with the task
    play.identify_needs(desk, deal)
    play.propose(desk, deal, discount=5)
    play.warm_up(desk, deal)
    assert desk.instance(deal)["funnel_stage"] == "negotiation"
    play.after_handover(desk, deal, company)

    assert desk.path(deal) == [
        *WARMING, "Task_PrepareProposal", "Task_DecideDiscountApproval", "Gateway_DiscountCheck", "Gateway_Tender",
        "Task_PreliminaryNegotiations", "Task_HandOverToCloser", *CLOSING, *PAYMENT, *RETENTION, "End_Won"]
    assert desk.decisions(deal) == {
        "Gateway_Qualified": ["Task_IdentifyNeeds"], "Gateway_ClientCategory": ["Gateway_ProposalJoin"],
        "Gateway_DiscountCheck": ["Gateway_DiscountJoin"], "Gateway_Tender": ["Gateway_TenderJoin"],
        "Gateway_NegotiationOutcome": ["Task_CalculatePrice"], "Gateway_ContractApproved": ["Task_SignContract"],
        "Gateway_RepeatOrder": ["End_Won"]}
    assert desk.stages(deal) == play.ALL_STAGES
    roles = {step.element_id: step.role for step in desk.worked[deal]}
    assert roles["Task_ApproveContract"] == "head_of_sales" and roles["Task_CloseDocuments"] == "accounting"
    assert {step.work_kind for step in desk.worked[deal]} == {"main", "auxiliary"}

    variables = assert_ended(desk, deal, outcome="won", stage="retained")
    assert variables["company"] == company and variables["source"] == "exhibition"
    assert {k: variables[k] for k in ("category", "discount", "deal_amount", "contract_number", "invoice_number",
                                      "invoice_amount", "paid_amount", "satisfaction", "repeat_order")} == {
        "category": "b", "discount": 5, "deal_amount": 1_140_000, "contract_number": "Д-2030/17",
        "invoice_number": "СЧ-101", "invoice_amount": 1_140_000, "paid_amount": 1_140_000, "satisfaction": 9,
        "repeat_order": False}
    assert "discount_approved" not in variables and "tender_platform" not in variables
    [external] = desk.events(deal, "external_task_completed")
    assert external["actor"] == "accounting_system" and external["data"]["topic"] == "invoice.create"
    [paid] = desk.events(deal, "message_correlated")
    assert paid["actor"] == "accounting_system" and paid["data"]["name"] == "payment_received"
    assert desk.deals_of(company) == [desk.instance(deal)]  # no repeat order, no second deal


def test_web_lead_with_a_big_discount_and_a_tender_is_won_after_the_head_of_sales_approves(
        desk: SalesDesk) -> None:
    """The head of sales sends back both the discount and the contract once before approving them."""
    company = "АО «Техносфера»"
    deal = desk.capture_lead(company, source="yandex_direct", segment="enterprise")
    assert desk.instance(deal)["started_by"] == "accounting_system"
    play.qualify(desk, deal, category="a")
    play.identify_needs(desk, deal, is_tender=True)
    # 25 % is above the 10 % threshold: the head of sales rejects, the hunter comes back with 15 %, approved.
    play.propose(desk, deal, discount=25)
    desk.work(deal, "Task_ApproveDiscount", "head_of_sales", discount_approved=False,
              discount_comment="Слишком много")
    play.propose(desk, deal, discount=15)
    desk.work(deal, "Task_ApproveDiscount", "head_of_sales", discount_approved=True, discount_comment="Согласовано")
    desk.work(deal, "Task_PrepareTenderDocs", "hunter", tender_platform="roseltorg", tender_number="32412345678",
              tender_deadline="2030-06-15", tender_docs_submitted=True)
    play.warm_up(desk, deal)
    play.after_handover(desk, deal, company, contract_rework=True)

    rework = ["Task_DraftContract", "Task_ApproveContract", "Gateway_ContractApproved"]
    closing = CLOSING[:4] + rework + CLOSING[4:]
    assert desk.path(deal) == [
        "StartEvent_LeadCaptured", *WARMING[1:],
        *DISCOUNT_SENT_BACK, *DISCOUNT_SENT_BACK,
        "Gateway_Tender", "Task_PrepareTenderDocs",
        "Task_PreliminaryNegotiations", "Task_HandOverToCloser", *closing, *PAYMENT, *RETENTION, "End_Won"]
    decisions = desk.decisions(deal)
    assert decisions["Gateway_DiscountCheck"] == ["Task_ApproveDiscount", "Task_ApproveDiscount"]
    assert decisions["Gateway_DiscountApproved"] == ["Gateway_ProposalJoin", "Gateway_DiscountJoin"]
    assert decisions["Gateway_Tender"] == ["Task_PrepareTenderDocs"]
    assert decisions["Gateway_ContractApproved"] == ["Gateway_ContractJoin", "Task_SignContract"]
    assert desk.stages(deal) == play.ALL_STAGES
    approvals = [s for s in desk.worked[deal] if s.element_id == "Task_ApproveDiscount"]
    assert [(s.role, s.funnel_stage, s.work_kind) for s in approvals] == [("head_of_sales", "proposal",
                                                                          "auxiliary")] * 2

    variables = assert_ended(desk, deal, outcome="won", stage="retained")
    assert (variables["source"], variables["segment"], variables["category"]) == ("yandex_direct", "enterprise", "a")
    assert (variables["discount"], variables["discount_approved"], variables["discount_comment"]) == (
        15, True, "Согласовано")
    assert (variables["is_tender"], variables["tender_platform"], variables["tender_docs_submitted"]) == (
        True, "roseltorg", True)
    assert (variables["contract_number"], variables["contract_approved"]) == ("Д-2030/17", True)


def test_disqualified_lead_ends_lost_at_qualification_with_its_reason(desk: SalesDesk) -> None:
    company = "ИП Сидоров"
    deal = desk.start_deal(company, source="cold_call", segment="smb")
    desk.work(deal, "Task_QualifyLead", "hunter", category="c", prospects="low", chance=5, qualified=False,
              lost_reason="Нет бюджета")

    assert desk.path(deal) == ["StartEvent_Manual", "Task_QualifyLead", "Gateway_Qualified", "End_LostDisqualified"]
    assert desk.decisions(deal) == {"Gateway_Qualified": ["End_LostDisqualified"]}
    assert desk.stages(deal) == ["lead"]
    variables = assert_ended(desk, deal, outcome="lost", stage="lead")
    assert (variables["qualified"], variables["lost_reason"], variables["chance"]) == (False, "Нет бюджета", 5)
    assert "needs" not in variables
    assert all(desk.inbox(role) == set() for role in ("hunter", "closer", "head_of_sales"))


def test_client_declines_in_the_second_round_of_negotiations_and_the_deal_is_lost(desk: SalesDesk) -> None:
    company = "ООО «Северный ветер»"
    deal = desk.start_deal(company, source="conference")
    play.qualify(desk, deal)
    play.identify_needs(desk, deal)
    play.propose(desk, deal)
    play.warm_up(desk, deal)
    first = desk.task_of(deal, "Task_Negotiate")["id"]
    play.negotiate(desk, deal, "another_round", objections="Нужно согласовать с владельцем")
    second = desk.task_of(deal, "Task_Negotiate")["id"]
    assert second != first and desk.instance(deal)["funnel_stage"] == "negotiation"
    play.negotiate(desk, deal, "decline", objections="Владелец против", lost_reason="Выбрали конкурента")

    assert desk.path(deal) == [
        *WARMING, "Task_PrepareProposal", "Task_DecideDiscountApproval", "Gateway_DiscountCheck", "Gateway_Tender",
        "Task_PreliminaryNegotiations", "Task_HandOverToCloser",
        "Task_Negotiate", "Gateway_NegotiationOutcome", "Task_Negotiate", "Gateway_NegotiationOutcome",
        "End_LostNegotiation"]
    assert desk.decisions(deal)["Gateway_NegotiationOutcome"] == ["Gateway_NegotiationJoin", "End_LostNegotiation"]
    assert [s.role for s in desk.worked[deal] if s.element_id == "Task_Negotiate"] == ["closer", "closer"]
    assert desk.stages(deal) == ["lead", "qualified", "proposal", "negotiation"]
    variables = assert_ended(desk, deal, outcome="lost", stage="negotiation")
    assert (variables["decision"], variables["objections"], variables["lost_reason"]) == (
        "decline", "Владелец против", "Выбрали конкурента")
    assert "deal_amount" not in variables
