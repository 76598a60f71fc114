"""The bundled sales model's discount approval runs on the DMN table bpmn/discount_approval.dmn: one scenario
per rule, over HTTP, with the table's inputs and matched rule in the deal's history; a new table version
changes the decision without touching the process."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration import sales_playbook as play
from tests.integration.sales_desk import SalesDesk

TABLE = Path(__file__).resolve().parents[2] / "bpmn" / "discount_approval.dmn"


def to_proposal(desk: SalesDesk, segment: str, discount: int, company: str = "ООО Скидка") -> str:
    deal = desk.start_deal(company, segment=segment)
    play.qualify(desk, deal)
    play.identify_needs(desk, deal)
    play.propose(desk, deal, discount=discount)
    return deal


@pytest.mark.parametrize(("segment", "discount", "rule", "approver"), [
    ("public_sector", 6, "Rule_PublicSector", "head_of_sales"),
    ("public_sector", 5, "Rule_WithinThreshold", "none"),
    ("smb", 11, "Rule_AboveThreshold", "head_of_sales"),
    ("enterprise", 10, "Rule_WithinThreshold", "none"),
])
def test_each_rule_of_the_discount_table_routes_the_deal(desk: SalesDesk, segment: str, discount: int, rule: str,
                                                         approver: str) -> None:
    deal = to_proposal(desk, segment, discount)
    assert desk.instance(deal)["variables"]["discount_approver"] == approver
    waiting = [t["element_id"] for t in desk.open_tasks(deal)]
    assert waiting == (["Task_ApproveDiscount"] if approver == "head_of_sales" else ["Task_PreliminaryNegotiations"])
    (decided,) = [e for e in desk.history(deal) if e["element_id"] == "Task_DecideDiscountApproval"]
    decision = decided["data"]["decision"]
    assert decision["decision"] == "discount_approval"
    assert decision["inputs"] == {"Сегмент клиента": segment, "Скидка, %": discount}
    assert [r["id"] for r in decision["matched_rules"]] == [rule] and decision["result"] == approver


def test_the_head_of_sales_changes_the_table_and_the_next_proposal_follows_it(desk: SalesDesk) -> None:
    deal = to_proposal(desk, "smb", 8, company="ООО Строже")
    assert desk.instance(deal)["variables"]["discount_approver"] == "none"
    stricter = TABLE.read_text(encoding="utf-8").replace("<text>&gt; 10</text>", "<text>&gt; 7</text>")
    response = desk.client.post("/engine-rest/deployment/create", auth=("admin", "admin-secret"),
                                files=[("discount_approval.dmn", ("discount_approval.dmn", stricter.encode(),
                                                                  "text/xml"))])
    assert response.status_code == 200, response.text
    assert [d["version"] for d in response.json()["deployedDecisionDefinitions"].values()] == [2]
    later = to_proposal(desk, "smb", 8, company="ООО Позже")
    assert desk.instance(later)["variables"]["discount_approver"] == "head_of_sales"
    assert desk.instance(later)["definition_version"] == desk.instance(deal)["definition_version"]
