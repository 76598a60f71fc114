"""A sales department at the HTTP API: one user per role, an integration account for the accounting system, the
shipped models deployed, and a driver that works each step of a deal as the role whose step it is.

Every step checks who could see the task: it is in its role's inbox, in no other role's inbox, and a wrong role's
claim is refused (403/404). The desk remembers every task it worked with its role and funnel stage, so a scenario
can assert the funnel it passed. Time is a time-machine traveller: `later()` moves the clock and runs the job
worker once, the way the server's worker would find the timers due.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import time_machine
from fastapi.testclient import TestClient

from app.auth.actor import SYSTEM
from app.services import identity
from app.services.context import AppContext
from app.worker.loop import Worker
from tests.conftest import ADMIN, basic_auth
from tests.factories import upload

BPMN = Path(__file__).resolve().parents[2] / "bpmn"
SALES_ROLES = ("hunter", "closer", "accounting", "account_manager", "head_of_sales")
INTEGRATION = "accounting_system"  # the accounting system's service account (group external_worker)
PASSWORD = "scenario-pass-1"

# A wrong role for each role's task: someone who works in the same deal but not on this step. The head of
# sales reads every task (and is answered 403 on a claim); the others do not even see it (404 or 403).
WRONG_ROLE = {"hunter": "closer", "closer": "accounting", "accounting": "hunter", "account_manager": "closer",
              "head_of_sales": "hunter"}

LEAD = {"source": "exhibition", "contact": "Иван Петров", "contact_phone": "+7 900 000-00-00",
        "contact_email": "ivan@example.ru", "segment": "mid_market"}


@dataclass
class Worked:
    element_id: str
    role: str
    funnel_stage: str | None
    work_kind: str | None


@dataclass
class SalesDesk:
    client: TestClient
    ctx: AppContext
    clock: Any  # time_machine.Coordinates
    worked: dict[str, list[Worked]] = field(default_factory=dict)  # instance id -> tasks worked, in order

    # --- who ---------------------------------------------------------------------------------------------
    @staticmethod
    def auth(user: str) -> dict[str, str]:
        """Credentials of a user (role users are named after their role; "integration" is the service account)."""
        if user == "admin":
            return basic_auth(*ADMIN)
        return basic_auth(INTEGRATION if user == "integration" else user, PASSWORD)

    def get(self, url: str, role: str = "head_of_sales", **params: Any) -> Any:
        response = self.client.get(url, params=params, headers=self.auth(role))
        assert response.status_code == 200, (url, response.status_code, response.text)
        return response.json()

    # --- deals -------------------------------------------------------------------------------------------
    def start_deal(self, company: str, **lead: Any) -> str:
        """A hunter starts a deal from the manual start form; the business key is the company."""
        response = self.client.post("/api/v1/process-instances", headers=self.auth("hunter"), json={
            "definition_key": "sales_deal", "business_key": company,
            "variables": {**LEAD, "company": company, **lead}})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def capture_lead(self, company: str, **lead: Any) -> str:
        """The web capture form (through the integration account) sends `lead_captured`: a message start."""
        variables = {**LEAD, "source": "web_form", "company": company, **lead}
        delivered = self.message("lead_captured", business_key=company, variables=variables)
        [delivery] = delivered["deliveries"]
        assert delivery["started"] is True
        return str(delivery["instance_id"])

    def message(self, name: str, *, business_key: str, variables: dict[str, Any] | None = None) -> Any:
        response = self.client.post("/api/v1/messages", headers=self.auth("integration"), json={
            "name": name, "business_key": business_key, "variables": variables or {}})
        assert response.status_code == 200, response.text
        return response.json()

    def instance(self, instance_id: str) -> Any:
        return self.get(f"/api/v1/process-instances/{instance_id}")

    def deals_of(self, company: str) -> list[Any]:
        items = self.get("/api/v1/process-instances", definition_key="sales_deal", business_key=company)["items"]
        return sorted(items, key=lambda i: i["started_at"])

    def open_tasks(self, instance_id: str) -> list[Any]:
        return list(self.get("/api/v1/tasks", "head_of_sales", instance_id=instance_id)["items"])

    def waiting(self, instance_id: str) -> list[str]:
        return sorted(t["element_id"] for t in self.open_tasks(instance_id))

    def history(self, instance_id: str) -> list[Any]:
        return list(self.get(f"/api/v1/process-instances/{instance_id}/history")["items"])

    def path(self, instance_id: str) -> list[str]:
        """The elements the deal passed, in order: user tasks as completed, everything else as finished."""
        kinds = {"task_completed", "element_completed", "gateway_taken"}
        return [e["element_id"] for e in self.history(instance_id) if e["kind"] in kinds]

    def events(self, instance_id: str, kind: str) -> list[Any]:
        return [e for e in self.history(instance_id) if e["kind"] == kind]

    def jobs(self, instance_id: str) -> list[Any]:
        return list(self.get("/api/v1/jobs", "admin", instance_id=instance_id)["items"])

    def decisions(self, instance_id: str) -> dict[str, list[str]]:
        """Each gateway's taken flows, in order."""
        taken: dict[str, list[str]] = {}
        for event in self.history(instance_id):
            if event["kind"] == "gateway_taken":
                taken.setdefault(event["element_id"], []).extend(event["data"]["taken"])
        return taken

    def stages(self, instance_id: str) -> list[str]:
        """The funnel stages of the tasks worked, first occurrence each, in order."""
        seen: list[str] = []
        for step in self.worked.get(instance_id, []):
            if step.funnel_stage and step.funnel_stage not in seen:
                seen.append(step.funnel_stage)
        return seen

    # --- work --------------------------------------------------------------------------------------------
    def inbox(self, role: str) -> set[str]:
        return {t["id"] for t in self.get("/api/v1/tasks", role, scope="inbox", limit=200)["items"]}

    def task_of(self, instance_id: str, element_id: str) -> Any:
        found = [t for t in self.open_tasks(instance_id) if t["element_id"] == element_id]
        assert len(found) == 1, (element_id, self.waiting(instance_id))
        return found[0]

    def assert_only_role_sees(self, task: Any, role: str) -> None:
        assert task["candidate_groups"] == [role], task
        for other in SALES_ROLES:
            assert (task["id"] in self.inbox(other)) is (other == role), (task["element_id"], other)
        hidden = self.client.get(f"/api/v1/tasks/{task['id']}", headers=self.auth(WRONG_ROLE[role]))
        expected = 200 if WRONG_ROLE[role] == "head_of_sales" else 404
        assert hidden.status_code == expected, hidden.text
        refused = self.client.post(f"/api/v1/tasks/{task['id']}/claim", headers=self.auth(WRONG_ROLE[role]))
        assert refused.status_code in (403, 404), refused.text

    def work(self, instance_id: str, element_id: str, role: str, *, user: str | None = None,
             **variables: Any) -> Any:
        """Find the step's open task, check its visibility, claim and complete it as `role` (its user, or
        `user` when the task is assigned to someone else of that role already)."""
        task = self.task_of(instance_id, element_id)
        user = user or role
        if task["assignee"] is None:
            self.assert_only_role_sees(task, role)
            claimed = self.client.post(f"/api/v1/tasks/{task['id']}/claim", headers=self.auth(user))
            assert claimed.status_code == 200 and claimed.json()["assignee"] == user, claimed.text
        done = self.client.post(f"/api/v1/tasks/{task['id']}/complete", headers=self.auth(user),
                                json={"variables": variables})
        assert done.status_code == 200, done.text
        assert done.json()["completed_by"] == user
        self.worked.setdefault(instance_id, []).append(
            Worked(element_id, role, task["funnel_stage"], task["work_kind"]))
        return done.json()

    def create_invoice(self, instance_id: str, company: str, *, number: str, amount: int) -> None:
        """The accounting system fetches `invoice.create` for this deal, locks it and completes it."""
        fetched = self.client.post("/api/v1/external-tasks/fetch-and-lock", headers=self.auth("integration"), json={
            "worker_id": "1c-bridge", "max_tasks": 5,
            "topics": [{"topic": "invoice.create", "lock_duration": 60_000, "business_key": company,
                        "variables": ["company", "deal_amount", "contract_number"]}]})
        assert fetched.status_code == 200, fetched.text
        [task] = [t for t in fetched.json() if t["instance_id"] == instance_id]
        assert task["element_id"] == "ServiceTask_CreateInvoice" and task["business_key"] == company
        assert set(task["variables"]) == {"company", "deal_amount", "contract_number"}
        # Sales people are not the accounting system: only external_worker members (and admins) lock tasks.
        stranger = self.client.post(f"/api/v1/external-tasks/{task['id']}/complete", headers=self.auth("accounting"),
                                    json={"worker_id": "1c-bridge", "variables": {}})
        assert stranger.status_code == 403, stranger.text
        done = self.client.post(f"/api/v1/external-tasks/{task['id']}/complete", headers=self.auth("integration"),
                                json={"worker_id": "1c-bridge",
                                      "variables": {"invoice_number": number, "invoice_amount": amount}})
        assert done.status_code == 204, done.text

    # --- time --------------------------------------------------------------------------------------------
    def later(self, delta: timedelta) -> int:
        """Move the clock by `delta` and let the job worker fire whatever is due; returns jobs handled."""
        self.clock.shift(delta)
        return Worker(self.ctx, worker_id="scenario-worker").run_until_idle()


def open_desk(client: TestClient, ctx: AppContext, clock: Any) -> SalesDesk:
    for role in SALES_ROLES:
        identity.create_user(ctx, actor=SYSTEM, username=role, password=PASSWORD, groups=[role])
    identity.create_user(ctx, actor=SYSTEM, username=INTEGRATION, password=PASSWORD, groups=["external_worker"])
    files = [(p.name, p.read_bytes()) for p in sorted([*BPMN.glob("*.bpmn"), *BPMN.glob("*.dmn")])]
    assert client.post("/api/v1/deployments", files=upload(*files)).status_code == 201
    return SalesDesk(client, ctx, clock)


def travelling_clock() -> Any:
    """A clock that ticks from now and can be moved forward (time_machine.travel as a context manager)."""
    from app.db.base import utcnow

    return time_machine.travel(utcnow(), tick=True)
