"""Engine-level scenarios over the shipped models: SpiffWorkflow driven the way the server drives it."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException

from .harness import (
    complete,
    complete_external,
    completed_path,
    deliver_message,
    fire_timer,
    funnel_stages,
    ready_ids,
    ready_user_tasks,
    start_by_message,
    start_manually,
    started_external,
    waiting_timers,
)

LEAD = {"source": "cold_call", "company": "ООО «Ромашка»", "contact": "Иван Петров", "segment": "smb"}
ALL_STAGES = ["lead", "qualified", "proposal", "negotiation", "contract", "invoiced", "paid", "fulfilled",
              "retained"]


def qualify(wf: BpmnWorkflow, category: str = "b", **extra: Any) -> None:
    form = {"category": category, "prospects": "high", "chance": 60, "qualified": True, **extra}
    complete(wf, "Task_QualifyLead", **form)


def identify_needs(wf: BpmnWorkflow, is_tender: bool = False) -> None:
    complete(wf, "Task_IdentifyNeeds", needs="Автоматизация склада", pains="Потери при инвентаризации",
             budget=1_500_000, is_tender=is_tender)


def propose(wf: BpmnWorkflow, discount: int = 5) -> None:
    complete(wf, "Task_PrepareProposal", price=1_200_000, discount=discount,
             proposal_terms="Поставка 30 дней, оплата 50/50")


def warm_up_to_closer(wf: BpmnWorkflow) -> None:
    complete(wf, "Task_PreliminaryNegotiations", preliminary_result="Интерес подтверждён",
             client_interest="high")
    complete(wf, "Task_HandOverToCloser", handover_note="ЛПР: финдиректор")


def close_contract(wf: BpmnWorkflow) -> None:
    complete(wf, "Task_Negotiate", decision="agreed", objections="Дорого: сняли через ROI")
    complete(wf, "Task_CalculatePrice", deal_amount=1_140_000)
    complete(wf, "Task_ChooseTerms", payment_terms="partial_prepayment", delivery_terms="30 дней")
    complete(wf, "Task_DraftContract", contract_number="Д-2024/17")
    complete(wf, "Task_ApproveContract", contract_approved=True)
    complete(wf, "Task_SignContract", contract_signed_date="2024-06-03")


def invoice_and_get_paid(wf: BpmnWorkflow) -> None:
    assert [t.task_spec.bpmn_id for t in started_external(wf)] == ["ServiceTask_CreateInvoice"]
    complete_external(wf, "ServiceTask_CreateInvoice", invoice_number="СЧ-101", invoice_amount=1_140_000)
    complete(wf, "Task_SendInvoice", invoice_channel="edo", invoice_sent_date="2024-06-04")
    deliver_message(wf, "payment_received", {"paid_amount": 1_140_000})
    complete(wf, "Task_CloseDocuments", documents_closed=True)


def fulfil_and_retain(wf: BpmnWorkflow, repeat_order: bool = False) -> None:
    complete(wf, "Task_FulfilContract", fulfilment_status="fulfilled", fulfilment_date="2024-07-01")
    complete(wf, "Task_AddToMailing", mailing_list="all", mailing_consent=True)
    complete(wf, "Task_CongratulateDates", important_date="2024-09-13",
             important_date_occasion="День программиста")
    complete(wf, "Task_SatisfactionSurvey", satisfaction=9, feedback="Всё отлично")
    complete(wf, "Task_InviteToEvent", client_event="Клиентская конференция", invited=True)
    note = "Ещё два склада" if repeat_order else ""
    complete(wf, "Task_OfferRepeatOrder", repeat_order=repeat_order, repeat_order_note=note)


def final_data(wf: BpmnWorkflow) -> dict[str, Any]:
    assert wf.is_completed()
    return wf.last_task.data


def test_standard_deal_is_won_through_every_funnel_stage() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf)
    propose(wf, discount=5)
    warm_up_to_closer(wf)
    close_contract(wf)
    invoice_and_get_paid(wf)
    fulfil_and_retain(wf)

    data = final_data(wf)
    path = completed_path(wf)
    assert path[-1] == "End_Won"
    assert "Task_ApproveDiscount" not in path and "Task_PrepareTenderDocs" not in path
    assert "CallActivity_VipService" not in path
    assert funnel_stages(wf) == ALL_STAGES
    assert data["company"] == "ООО «Ромашка»" and data["invoice_number"] == "СЧ-101"
    assert data["deal_amount"] == 1_140_000 and data["repeat_order"] is False
    assert wf.get_events() == []


def test_lead_captured_message_starts_a_deal_with_the_message_variables() -> None:
    wf = start_by_message("lead_captured", {**LEAD, "source": "yandex_direct"})
    assert ready_ids(wf) == {"Task_QualifyLead"}
    assert completed_path(wf)[:2] == ["StartEvent_LeadCaptured", "Gateway_LeadJoin"]
    assert ready_user_tasks(wf)[0].data["source"] == "yandex_direct"


def test_disqualified_lead_is_lost_at_qualification_with_its_reason() -> None:
    wf = start_manually(LEAD)
    qualify(wf, category="c", qualified=False, lost_reason="Нет бюджета")

    data = final_data(wf)
    assert completed_path(wf)[-1] == "End_LostDisqualified"
    assert data["lost_reason"] == "Нет бюджета"
    assert funnel_stages(wf) == ["lead"]


def test_rejected_discount_returns_to_the_proposal_and_an_approved_one_goes_on_to_the_tender() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf, is_tender=True)
    propose(wf, discount=25)
    assert ready_ids(wf) == {"Task_ApproveDiscount"}
    complete(wf, "Task_ApproveDiscount", discount_approved=False, discount_comment="Максимум 15 %")
    assert ready_ids(wf) == {"Task_PrepareProposal"}
    propose(wf, discount=15)
    complete(wf, "Task_ApproveDiscount", discount_approved=True)
    assert ready_ids(wf) == {"Task_PrepareTenderDocs"}
    complete(wf, "Task_PrepareTenderDocs", tender_platform="roseltorg", tender_number="0373-24",
             tender_deadline="2024-06-20", tender_docs_submitted=True)
    warm_up_to_closer(wf)
    close_contract(wf)
    invoice_and_get_paid(wf)
    fulfil_and_retain(wf)

    path = completed_path(wf)
    assert path.count("Task_PrepareProposal") == 2 and path.count("Task_ApproveDiscount") == 2
    assert path[-1] == "End_Won"
    data = final_data(wf)
    assert data["discount"] == 15 and data["discount_approved"] is True and data["tender_number"] == "0373-24"


def test_client_declining_after_two_rounds_is_lost_at_negotiation() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf)
    propose(wf)
    warm_up_to_closer(wf)
    complete(wf, "Task_Negotiate", decision="another_round", objections="Дорого")
    complete(wf, "Task_Negotiate", decision="another_round", objections="Нужна рассрочка")
    complete(wf, "Task_Negotiate", decision="decline", lost_reason="Выбрали конкурента")

    assert completed_path(wf).count("Task_Negotiate") == 3
    assert completed_path(wf)[-1] == "End_LostNegotiation"
    assert final_data(wf)["lost_reason"] == "Выбрали конкурента"
    assert funnel_stages(wf) == ["lead", "qualified", "proposal", "negotiation"]


def test_sla_timer_escalates_to_the_head_of_sales_without_cancelling_the_hunters_task() -> None:
    wf = start_manually(LEAD)
    delay = fire_timer(wf, "Timer_QualifySla")

    assert timedelta(hours=23, minutes=59) < delay <= timedelta(hours=24)
    assert ready_ids(wf) == {"Task_QualifyLead", "Task_EscalateLead"}
    complete(wf, "Task_EscalateLead", escalation_action="reminded")
    assert ready_ids(wf) == {"Task_QualifyLead"}
    qualify(wf, qualified=False, lost_reason="Дубль")
    assert "End_EscalationHandled" in completed_path(wf)
    assert final_data(wf)["escalation_action"] == "reminded"


def test_sla_timer_is_dropped_once_the_lead_is_qualified_in_time() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    assert "Timer_QualifySla" not in waiting_timers(wf)


def test_overdue_payment_reminds_the_client_through_the_closer_then_waits_again() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf)
    propose(wf)
    warm_up_to_closer(wf)
    close_contract(wf)
    complete_external(wf, "ServiceTask_CreateInvoice", invoice_number="СЧ-7")
    complete(wf, "Task_SendInvoice", invoice_channel="email", invoice_sent_date="2024-06-04")

    for attempt in range(2):
        delay = fire_timer(wf, "Gateway_AwaitPayment")
        assert timedelta(days=6, hours=23) < delay <= timedelta(days=7)
        assert ready_ids(wf) == {"Task_RemindPayment"}
        assert "Event_PaymentOverdue" in completed_path(wf)
        complete(wf, "Task_RemindPayment", reminder_result=f"Напоминание {attempt + 1}")
    deliver_message(wf, "payment_received", {"paid_amount": 1_140_000})
    assert ready_ids(wf) == {"Task_CloseDocuments"}
    assert waiting_timers(wf) == {}
    complete(wf, "Task_CloseDocuments", documents_closed=True)
    fulfil_and_retain(wf)

    assert completed_path(wf).count("Task_RemindPayment") == 2
    assert completed_path(wf)[-1] == "End_Won"


def test_payment_message_is_refused_before_the_invoice_is_sent() -> None:
    wf = start_manually(LEAD)
    with pytest.raises(WorkflowException):
        deliver_message(wf, "payment_received", {})


def test_fulfilment_breach_timer_warns_without_cancelling_fulfilment() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf)
    propose(wf)
    warm_up_to_closer(wf)
    close_contract(wf)
    invoice_and_get_paid(wf)
    delay = fire_timer(wf, "Timer_FulfilmentBreach")

    assert timedelta(days=13, hours=23) < delay <= timedelta(days=14)
    assert ready_ids(wf) == {"Task_FulfilContract", "Task_WarnBreach"}
    complete(wf, "Task_WarnBreach", breach_actions="Согласовали новый срок")
    fulfil_and_retain(wf)
    assert {"End_BreachWarned", "End_Won"} <= set(completed_path(wf))


def test_repeat_order_throws_a_message_that_starts_a_new_deal_for_the_same_client() -> None:
    wf = start_manually(LEAD)
    qualify(wf)
    identify_needs(wf)
    propose(wf)
    warm_up_to_closer(wf)
    close_contract(wf)
    invoice_and_get_paid(wf)
    fulfil_and_retain(wf, repeat_order=True)

    assert completed_path(wf)[-1] == "End_WonRepeatOrder"
    events = wf.get_events()
    assert [e.event_definition.name for e in events] == ["repeat_order"]
    variables = events[0].payload["payload"]
    assert variables == {"company": LEAD["company"], "contact": LEAD["contact"], "segment": "smb",
                         "source": "repeat", "category": "b", "repeat_order_note": "Ещё два склада"}

    new_deal = start_by_message("repeat_order", variables)
    assert ready_ids(new_deal) == {"Task_QualifyLead"}
    assert completed_path(new_deal)[0] == "StartEvent_RepeatOrder"
    assert ready_user_tasks(new_deal)[0].data["source"] == "repeat"


def test_key_client_goes_through_the_vip_service_then_straight_to_the_closer() -> None:
    wf = start_manually({**LEAD, "segment": "enterprise"})
    qualify(wf, category="key")
    identify_needs(wf)
    assert ready_ids(wf) == {"Task_AssignAccountManager"}
    complete(wf, "Task_AssignAccountManager", key_account_manager="a.smirnova")
    complete(wf, "Task_AgreeIndividualTerms", individual_price=5_000_000, individual_discount=12,
             individual_terms="Отсрочка 60 дней", service_level="dedicated")
    complete(wf, "Task_ApproveIndividualTerms", vip_terms_approved=False, vip_comment="Отсрочка максимум 45")
    assert ready_ids(wf) == {"Task_AgreeIndividualTerms"}
    complete(wf, "Task_AgreeIndividualTerms", individual_price=5_000_000, individual_discount=12,
             individual_terms="Отсрочка 45 дней", service_level="dedicated")
    complete(wf, "Task_ApproveIndividualTerms", vip_terms_approved=True)
    assert ready_ids(wf) == {"Task_Negotiate"}
    close_contract(wf)
    invoice_and_get_paid(wf)
    fulfil_and_retain(wf)

    path = completed_path(wf)
    assert "CallActivity_VipService" in path and "Task_PrepareProposal" not in path
    assert path.count("Task_AgreeIndividualTerms") == 2 and path[-1] == "End_Won"
    data = final_data(wf)
    assert data["key_account_manager"] == "a.smirnova" and data["individual_terms"] == "Отсрочка 45 дней"
