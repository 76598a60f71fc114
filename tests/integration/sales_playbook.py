"""The steps of a sales_deal, each worked by its role with the answers a real department would give; the
scenarios compose them."""

from __future__ import annotations

from typing import Any

from tests.integration.sales_desk import SalesDesk

ALL_STAGES = ["lead", "qualified", "proposal", "negotiation", "contract", "invoiced", "paid", "fulfilled",
              "retained"]


def qualify(desk: SalesDesk, deal: str, category: str = "b", **extra: Any) -> None:
    desk.work(deal, "Task_QualifyLead", "hunter", category=category, prospects="high", chance=60, qualified=True,
              **extra)


def identify_needs(desk: SalesDesk, deal: str, *, is_tender: bool = False) -> None:
    desk.work(deal, "Task_IdentifyNeeds", "hunter", needs="Автоматизация склада",
              pains="Потери при инвентаризации", budget=1_500_000, decision_maker="Финансовый директор",
              is_tender=is_tender)


def propose(desk: SalesDesk, deal: str, *, discount: int = 5, price: int = 1_200_000) -> None:
    desk.work(deal, "Task_PrepareProposal", "hunter", price=price, discount=discount,
              proposal_terms="Поставка 30 дней, оплата 50/50", proposal_valid_until="2030-06-30")


def warm_up(desk: SalesDesk, deal: str) -> None:
    desk.work(deal, "Task_PreliminaryNegotiations", "hunter", preliminary_result="Интерес подтверждён",
              client_interest="high")
    desk.work(deal, "Task_HandOverToCloser", "hunter", handover_note="ЛПР: финансовый директор")


def negotiate(desk: SalesDesk, deal: str, decision: str = "agreed", **extra: Any) -> None:
    desk.work(deal, "Task_Negotiate", "closer", decision=decision, **extra)


def contract(desk: SalesDesk, deal: str, *, amount: int = 1_140_000, rework: bool = False) -> None:
    """Price, terms, the contract drafted, approved by the head of sales (after one rework with `rework`), signed."""
    desk.work(deal, "Task_CalculatePrice", "closer", deal_amount=amount, price_calculation="Цена минус 5 %")
    desk.work(deal, "Task_ChooseTerms", "closer", payment_terms="partial_prepayment", delivery_terms="30 дней")
    if rework:
        desk.work(deal, "Task_DraftContract", "closer", contract_number="Д-2030/17-черновик")
        desk.work(deal, "Task_ApproveContract", "head_of_sales", contract_approved=False,
                  contract_comment="Нет пункта о штрафах")
    desk.work(deal, "Task_DraftContract", "closer", contract_number="Д-2030/17")
    desk.work(deal, "Task_ApproveContract", "head_of_sales", contract_approved=True)
    desk.work(deal, "Task_SignContract", "closer", contract_signed_date="2030-06-03")


def invoice(desk: SalesDesk, deal: str, company: str, *, amount: int = 1_140_000) -> None:
    assert desk.waiting(deal) == []  # the invoice is the accounting system's: no person's task is open
    desk.create_invoice(deal, company, number="СЧ-101", amount=amount)
    desk.work(deal, "Task_SendInvoice", "closer", invoice_channel="edo", invoice_sent_date="2030-06-04")


def pay(desk: SalesDesk, deal: str, company: str, *, amount: int = 1_140_000) -> None:
    [delivery] = desk.message("payment_received", business_key=company,
                              variables={"paid_amount": amount})["deliveries"]
    # The instance waits at the event-based gateway itself (SpiffWorkflow): that is the element reported.
    assert delivery == {"instance_id": deal, "element_id": "Gateway_AwaitPayment", "started": False}, delivery
    desk.work(deal, "Task_CloseDocuments", "accounting", documents_closed=True)


def fulfil_and_retain(desk: SalesDesk, deal: str, *, repeat_order: bool = False) -> None:
    desk.work(deal, "Task_FulfilContract", "account_manager", fulfilment_status="fulfilled",
              fulfilment_date="2030-07-01")
    desk.work(deal, "Task_AddToMailing", "account_manager", mailing_list="all", mailing_consent=True)
    desk.work(deal, "Task_CongratulateDates", "account_manager", important_date="2030-09-13",
              important_date_occasion="День программиста")
    desk.work(deal, "Task_SatisfactionSurvey", "account_manager", satisfaction=9, feedback="Всё отлично")
    desk.work(deal, "Task_InviteToEvent", "account_manager", client_event="Клиентская конференция", invited=True)
    desk.work(deal, "Task_OfferRepeatOrder", "account_manager", repeat_order=repeat_order,
              repeat_order_note="Ещё два склада" if repeat_order else "")


def after_handover(desk: SalesDesk, deal: str, company: str, *, repeat_order: bool = False,
                   contract_rework: bool = False) -> None:
    """From the closer's negotiation to the end of retention, everything agreed and paid on time."""
    negotiate(desk, deal, objections="Дорого: сняли через ROI")
    contract(desk, deal, rework=contract_rework)
    invoice(desk, deal, company)
    pay(desk, deal, company)
    fulfil_and_retain(desk, deal, repeat_order=repeat_order)
