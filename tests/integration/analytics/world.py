"""A sales department with a known history: deals driven through the shipped models (bpmn/sales_deal.bpmn)
by named people on a controlled clock, so every figure can be computed by hand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from app.auth.actor import SYSTEM, Actor
from app.services import approvals, deployments, identity, instances, tasks
from app.services.context import AppContext
from tests.clock import ControlledClock
from tests.factories import password_of

BPMN = Path(__file__).resolve().parents[3] / "bpmn"
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)  # a Monday morning
HOUR = 3600.0

PEOPLE = {"hanna": "hunter", "igor": "hunter", "clara": "closer", "boss": "head_of_sales", "buh": "accounting",
          "anna": "account_manager"}
ACTORS = {name: Actor(name, frozenset({role})) for name, role in PEOPLE.items()}

FORMS: dict[str, dict[str, Any]] = {
    "Task_QualifyLead": {"category": "b", "prospects": "high", "chance": 60, "qualified": True},
    "Task_IdentifyNeeds": {"needs": "CRM для отдела", "pains": "теряются лиды", "is_tender": False},
    "Task_PrepareProposal": {"price": 100000, "discount": 5, "proposal_terms": "30 дней"},
    "Task_ApproveDiscount": {"discount_approved": True},
    "Task_PreliminaryNegotiations": {"preliminary_result": "интерес есть", "client_interest": "high"},
    "Task_HandOverToCloser": {"handover_note": "тёплый клиент"},
    "Task_Negotiate": {"decision": "agreed"},
    "Task_CalculatePrice": {"deal_amount": 95000},
    "Task_ChooseTerms": {"payment_terms": "prepayment", "delivery_terms": "самовывоз"},
    "Task_DraftContract": {"contract_number": "Д-1"},
    "Task_ApproveContract": {"contract_approved": True},
    "Task_SignContract": {"contract_signed_date": "2025-03-20"},
    "Task_EscalateLead": {"escalation_action": "reminded"},
    "Task_SendInvoice": {"invoice_channel": "email", "invoice_sent_date": "2025-03-21"},
    "Task_CloseDocuments": {"documents_closed": True},
    "Task_FulfilContract": {"fulfilment_status": "fulfilled", "fulfilment_date": "2025-04-01"},
    "Task_AddToMailing": {"mailing_list": "news", "mailing_consent": True},
    "Task_CongratulateDates": {"important_date": "2025-05-01", "important_date_occasion": "день компании"},
    "Task_SatisfactionSurvey": {"satisfaction": 9},
    "Task_InviteToEvent": {"client_event": "встреча клиентов", "invited": True},
    "Task_OfferRepeatOrder": {"repeat_order": False},
}


def deploy_sales_models(ctx: AppContext, xml: str | None = None) -> None:
    files = [(p.name, p.read_bytes()) for p in sorted(BPMN.glob("*.bpmn"))]
    if xml is not None:
        files = [(n, xml.encode() if n == "sales_deal.bpmn" else b) for n, b in files]
    result = deployments.deploy(ctx, files=files, actor=SYSTEM)
    for definition in result.definitions:  # a changed bundled model is a draft: the head of sales approves it
        if definition.state == "draft":
            approvals.approve(ctx, actor=SYSTEM, definition_id=definition.id)


def add_people(ctx: AppContext) -> None:
    for name, role in PEOPLE.items():
        identity.create_user(ctx, actor=SYSTEM, username=name, password=password_of(name), groups=[role],
                             display_name=name.capitalize())


@dataclass
class Deal:
    ctx: AppContext
    clock: ControlledClock
    id: str
    log: list[tuple[str, str, float, float]] = field(default_factory=list)  # element, who, wait h, work h

    def open_task(self, element_id: str) -> str:
        view = instances.get_instance(self.ctx, actor=SYSTEM, instance_id=self.id)
        matching = [t.id for t in view.open_tasks if t.element_id == element_id]
        assert matching, f"{element_id} is not open; open: {[t.element_id for t in view.open_tasks]}"
        return matching[0]

    def do(self, element_id: str, who: str, *, wait: float = 0.0, work: float = 0.0,
           **variables: Any) -> Deal:
        """Wait `wait` hours for `who` to claim the task, work `work` hours on it, complete it."""
        task_id = self.open_task(element_id)
        actor = ACTORS[who]
        self.clock.advance(hours=wait)
        tasks.claim_task(self.ctx, actor=actor, task_id=task_id)
        self.clock.advance(hours=work)
        tasks.complete_task(self.ctx, actor=actor, task_id=task_id,
                            variables={**FORMS.get(element_id, {}), **variables})
        self.log.append((element_id, who, wait, work))
        return self

    def status(self) -> tuple[str, str | None, str | None]:
        instance = instances.get_instance(self.ctx, actor=SYSTEM, instance_id=self.id).instance
        return instance.status, instance.funnel_stage, instance.outcome


def start_deal(ctx: AppContext, clock: ControlledClock, who: str, company: str, *, source: str = "cold_call",
               segment: str = "smb", at: datetime | None = None) -> Deal:
    if at is not None:
        clock.set(at)
    view = instances.start_instance(ctx, actor=ACTORS[who], definition_key="sales_deal", business_key=company,
                                    variables={"source": source, "company": company, "contact": "Иван Петров",
                                               "segment": segment})
    return Deal(ctx, clock, view.instance.id)


def to_negotiation(deal: Deal, hunter: str, *, lead: tuple[float, float], needs: tuple[float, float] = (1, 1),
                   proposal: tuple[float, float] = (1, 2), prelim: tuple[float, float] = (1, 1),
                   handover: tuple[float, float] = (0, 1), category: str = "b") -> Deal:
    """The hunter's part: qualification, needs, proposal (auxiliary work), negotiations, hand-over."""
    deal.do("Task_QualifyLead", hunter, wait=lead[0], work=lead[1], category=category)
    deal.do("Task_IdentifyNeeds", hunter, wait=needs[0], work=needs[1])
    deal.do("Task_PrepareProposal", hunter, wait=proposal[0], work=proposal[1])
    deal.do("Task_PreliminaryNegotiations", hunter, wait=prelim[0], work=prelim[1])
    deal.do("Task_HandOverToCloser", hunter, wait=handover[0], work=handover[1])
    return deal


def to_signed(deal: Deal, closer: str = "clara", *, negotiate: tuple[float, float] = (2, 2)) -> Deal:
    """The closer's part up to the signed contract (the head of sales approves it)."""
    deal.do("Task_Negotiate", closer, wait=negotiate[0], work=negotiate[1])
    deal.do("Task_CalculatePrice", closer, wait=1, work=1)
    deal.do("Task_ChooseTerms", closer, wait=1, work=1)
    deal.do("Task_DraftContract", closer, wait=1, work=2)
    deal.do("Task_ApproveContract", "boss", wait=2, work=1)
    deal.do("Task_SignContract", closer, wait=1, work=1)
    return deal


def invoice_and_payment(deal: Deal, *, invoice_after: float = 1, send: tuple[float, float] = (1, 1),
                        paid_after: float = 24, company: str | None = None) -> Deal:
    """Accounting's system makes the invoice (external task), the closer sends it, the client pays."""
    from app.services import external_tasks, messages

    deal.clock.advance(hours=invoice_after)
    (locked,) = external_tasks.fetch_and_lock(
        deal.ctx, actor=SYSTEM, worker_id="accounting-system", max_tasks=1,
        topics=[external_tasks.TopicRequest(topic="invoice.create", lock_duration_ms=60_000)])
    external_tasks.complete(deal.ctx, actor=SYSTEM, task_id=locked.id, worker_id="accounting-system",
                            variables={"invoice_number": "СЧ-1", "invoice_amount": 95000})
    deal.do("Task_SendInvoice", "clara", wait=send[0], work=send[1])
    deal.clock.advance(hours=paid_after)
    business_key = company or instances.get_instance(deal.ctx, actor=SYSTEM, instance_id=deal.id).instance.business_key
    messages.correlate_message(deal.ctx, actor=SYSTEM, name="payment_received", business_key=business_key,
                               variables={"paid_amount": 95000})
    return deal


def fulfil_and_retain(deal: Deal, *, close_docs: tuple[float, float] = (2, 1),
                      fulfil: tuple[float, float] = (4, 48)) -> Deal:
    """Closing documents (accounting), fulfilment and the retention steps (account manager): won."""
    deal.do("Task_CloseDocuments", "buh", wait=close_docs[0], work=close_docs[1])
    deal.do("Task_FulfilContract", "anna", wait=fulfil[0], work=fulfil[1])
    for element in ("Task_AddToMailing", "Task_CongratulateDates", "Task_SatisfactionSurvey",
                    "Task_InviteToEvent", "Task_OfferRepeatOrder"):
        deal.do(element, "anna", wait=1, work=1)
    return deal


def build_known_history(ctx: AppContext, clock: ControlledClock) -> dict[str, Deal]:
    """Five deals on sales_deal v1, one a day from T0 (hours: (wait for claim, work)):

    A  hanna  cold_call/smb          won: lead (1,1), needs (1,1), proposal (1,2), negotiations... paid, retained
    B  hanna  web_form/mid_market    lost at lead: qualification (1,3), "нет бюджета"
    C  igor   cold_call/smb          lost at negotiation: lead (3,2), ..., clara declines (2,1), "дорого"
    D  igor   exhibition/enterprise  still at lead: nobody took the qualification
    E  hanna  cold_call/smb          still at negotiation: lead (2,2), ..., the closer has not started
    """
    deploy_sales_models(ctx)
    day = 24.0
    a = start_deal(ctx, clock, "hanna", "ООО Альфа", at=T0)
    fulfil_and_retain(invoice_and_payment(to_signed(to_negotiation(a, "hanna", lead=(1, 1)))))
    b = start_deal(ctx, clock, "hanna", "ООО Бета", source="web_form", segment="mid_market",
                   at=T0 + _hours(day))
    b.do("Task_QualifyLead", "hanna", wait=1, work=3, qualified=False, lost_reason="нет бюджета")
    c = start_deal(ctx, clock, "igor", "ООО Вега", at=T0 + _hours(2 * day))
    to_negotiation(c, "igor", lead=(3, 2))
    c.do("Task_Negotiate", "clara", wait=2, work=1, decision="decline", lost_reason="дорого")
    d = start_deal(ctx, clock, "igor", "ООО Гамма", source="exhibition", segment="enterprise",
                   at=T0 + _hours(3 * day))
    e = start_deal(ctx, clock, "hanna", "ООО Дельта", at=T0 + _hours(4 * day))
    to_negotiation(e, "hanna", lead=(2, 2))
    clock.set(T0 + _hours(6 * day))
    return {"A": a, "B": b, "C": c, "D": d, "E": e}


def _hours(hours: float) -> Any:
    from datetime import timedelta

    return timedelta(hours=hours)
