"""sales_deal for returning and key clients over the HTTP API: a repeat order starts a new deal for the same
client; a key client goes through vip_service (a call activity) before the closer's negotiations."""

from __future__ import annotations

from tests.integration import sales_playbook as play
from tests.integration.sales_desk import SalesDesk


def test_repeat_order_ends_the_won_deal_and_starts_a_new_deal_for_the_same_client(desk: SalesDesk) -> None:
    company = "ООО «Постоянный клиент»"
    first = desk.start_deal(company, contact="Мария Иванова", segment="enterprise")
    play.qualify(desk, first, category="a")
    play.identify_needs(desk, first)
    play.propose(desk, first)
    play.warm_up(desk, first)
    play.after_handover(desk, first, company, repeat_order=True)

    path = desk.path(first)
    assert path[-3:] == ["Task_OfferRepeatOrder", "Gateway_RepeatOrder", "End_WonRepeatOrder"]
    assert desk.decisions(first)["Gateway_RepeatOrder"] == ["End_WonRepeatOrder"]
    assert desk.stages(first) == play.ALL_STAGES
    won = desk.instance(first)
    assert (won["status"], won["outcome"], won["funnel_stage"]) == ("completed", "won", "retained")
    assert (won["variables"]["repeat_order"], won["variables"]["repeat_order_note"]) == (True, "Ещё два склада")

    # The end event threw repeat_order; it started a new sales_deal with the same business key.
    deals = desk.deals_of(company)
    assert [d["id"] for d in deals][0] == first and len(deals) == 2
    second = deals[1]["id"]
    [thrown] = desk.events(first, "message_thrown")
    assert (thrown["data"]["name"], thrown["data"]["started"], thrown["data"]["delivered_to"]) == (
        "repeat_order", [second], [])
    new_deal = desk.instance(second)
    assert (new_deal["status"], new_deal["business_key"], new_deal["funnel_stage"]) == ("running", company, "lead")
    assert new_deal["variables"] == {"company": company, "contact": "Мария Иванова", "segment": "enterprise",
                                     "source": "repeat", "category": "a", "repeat_order_note": "Ещё два склада"}
    assert desk.path(second) == ["StartEvent_RepeatOrder"]
    assert [j["element_id"] for j in desk.jobs(second)] == ["Timer_QualifySla"]  # a fresh SLA for the new lead

    # The new deal is the hunter's again, from the qualification, and runs like any other.
    play.qualify(desk, second, category="a")
    assert desk.waiting(second) == ["Task_IdentifyNeeds"]
    assert desk.stages(second) == ["lead"]
    assert desk.instance(second)["variables"]["source"] == "repeat"


def test_key_client_gets_individual_terms_through_vip_service_and_the_deal_is_won(desk: SalesDesk) -> None:
    company = "ПАО «Ключевой партнёр»"
    deal = desk.start_deal(company, source="conference", segment="enterprise")
    play.qualify(desk, deal, category="key")
    play.identify_needs(desk, deal)
    # vip_service: the head of sales names the dedicated account manager, the account manager agrees terms,
    # the head of sales sends them back once and then approves.
    assigned = desk.work(deal, "Task_AssignAccountManager", "head_of_sales", key_account_manager="account_manager")
    assert assigned["instance_id"] == deal  # the called process's tasks belong to the deal
    terms = {"individual_price": 5_000_000, "individual_terms": "Выделенная линия поддержки 24/7",
             "service_level": "dedicated"}
    desk.work(deal, "Task_AgreeIndividualTerms", "account_manager", individual_discount=20, **terms)
    desk.work(deal, "Task_ApproveIndividualTerms", "head_of_sales", vip_terms_approved=False,
              vip_comment="Скидка 20 % велика")
    desk.work(deal, "Task_AgreeIndividualTerms", "account_manager", individual_discount=12, **terms)
    desk.work(deal, "Task_ApproveIndividualTerms", "head_of_sales", vip_terms_approved=True)
    assert desk.waiting(deal) == ["Task_Negotiate"]  # straight to the closer: no standard proposal
    play.after_handover(desk, deal, company)

    path = desk.path(deal)
    assert path[:5] == ["StartEvent_Manual", "Task_QualifyLead", "Gateway_Qualified", "Task_IdentifyNeeds",
                        "Gateway_ClientCategory"]
    vip = path[5:path.index("Task_Negotiate")]
    assert [e for e in vip if e != "CallActivity_VipService"] == [
        "StartEvent_VipService", "Task_AssignAccountManager", "Task_AgreeIndividualTerms",
        "Task_ApproveIndividualTerms", "Gateway_TermsApproved", "Task_AgreeIndividualTerms",
        "Task_ApproveIndividualTerms", "Gateway_TermsApproved", "End_VipTermsAgreed"]
    assert "CallActivity_VipService" in vip
    assert not {"Task_PrepareProposal", "Task_ApproveDiscount", "Task_PrepareTenderDocs",
                "Task_HandOverToCloser"} & set(path)
    decisions = desk.decisions(deal)
    assert decisions["Gateway_ClientCategory"] == ["CallActivity_VipService"]
    assert decisions["Gateway_TermsApproved"] == ["Gateway_TermsJoin", "End_VipTermsAgreed"]
    assert path[-2:] == ["Gateway_RepeatOrder", "End_Won"]

    vip_roles = [(s.element_id, s.role, s.funnel_stage) for s in desk.worked[deal][2:7]]
    assert vip_roles == [
        ("Task_AssignAccountManager", "head_of_sales", "qualified"),
        ("Task_AgreeIndividualTerms", "account_manager", "proposal"),
        ("Task_ApproveIndividualTerms", "head_of_sales", "proposal"),
        ("Task_AgreeIndividualTerms", "account_manager", "proposal"),
        ("Task_ApproveIndividualTerms", "head_of_sales", "proposal")]
    assert desk.stages(deal) == play.ALL_STAGES
    final = desk.instance(deal)
    assert (final["status"], final["outcome"], final["funnel_stage"]) == ("completed", "won", "retained")
    variables = final["variables"]
    # Everything the called process produced came back to the deal (camunda:out variables="all").
    assert {k: variables[k] for k in ("category", "key_account_manager", "individual_price", "individual_discount",
                                      "service_level", "vip_terms_approved", "paid_amount")} == {
        "category": "key", "key_account_manager": "account_manager", "individual_price": 5_000_000,
        "individual_discount": 12, "service_level": "dedicated", "vip_terms_approved": True,
        "paid_amount": 1_140_000}
    assert "discount" not in variables and "price" not in variables
