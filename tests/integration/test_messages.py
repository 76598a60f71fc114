"""Message correlation over HTTP: business key, correlation key, start event, no receiver, two receivers,
buffering, and messages thrown by one instance to another."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import payment_wait, request_invoice, upload, web_lead


def deploy(client: TestClient, xml: str, name: str = "model.bpmn") -> None:
    response = client.post("/api/v1/deployments", files=upload((name, xml)))
    assert response.status_code in (200, 201), response.text


def start(client: TestClient, key: str, business_key: str | None = None, **variables: object) -> str:
    response = client.post("/api/v1/process-instances",
                           json={"definition_key": key, "business_key": business_key, "variables": variables})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def instance(client: TestClient, instance_id: str) -> dict:
    return client.get(f"/api/v1/process-instances/{instance_id}").json()


def open_elements(client: TestClient, instance_id: str) -> list[str]:
    return [t["element_id"] for t in instance(client, instance_id)["tasks"]]


def kinds(client: TestClient, instance_id: str) -> list[str]:
    return [e["kind"] for e in client.get(f"/api/v1/process-instances/{instance_id}/history").json()["items"]]


def send(client: TestClient, **body: object):  # type: ignore[no-untyped-def]
    return client.post("/api/v1/messages", json=body)


def test_message_reaches_the_instance_with_the_business_key_and_its_variables(client: TestClient) -> None:
    deploy(client, payment_wait())
    first = start(client, "invoice", "ООО Ромашка", order="A-1")
    second = start(client, "invoice", "ООО Лютик", order="A-2")
    response = send(client, name="payment", business_key="ООО Лютик", variables={"amount": 1200})
    assert response.status_code == 200, response.text
    assert response.json()["deliveries"] == [{"instance_id": second, "element_id": "Paid", "started": False}]
    assert open_elements(client, second) == ["Ship"] and open_elements(client, first) == []
    assert instance(client, second)["variables"]["amount"] == 1200
    correlated = [e for e in client.get(f"/api/v1/process-instances/{second}/history").json()["items"]
                  if e["kind"] == "message_correlated"]
    assert len(correlated) == 1 and correlated[0]["data"]["name"] == "payment"


def test_message_reaches_the_instance_by_correlation_key_from_the_model(client: TestClient) -> None:
    deploy(client, payment_wait())
    first = start(client, "invoice", order="A-1")
    second = start(client, "invoice", order="A-2")
    response = send(client, name="payment", correlation={"order_id": "A-1"}, variables={"paid": True})
    assert response.status_code == 200, response.text
    assert [d["instance_id"] for d in response.json()["deliveries"]] == [first]
    assert open_elements(client, first) == ["Ship"] and open_elements(client, second) == []
    wrong = send(client, name="payment", correlation={"order_id": "Z-9"})
    assert wrong.status_code == 404
    assert "other business keys or correlation values" in wrong.json()["detail"]


def test_message_start_event_starts_an_instance_with_business_key_and_variables(client: TestClient) -> None:
    deploy(client, web_lead())
    response = send(client, name="lead", business_key="lead-42", variables={"company": "Ромашка"})
    assert response.status_code == 200, response.text
    [delivery] = response.json()["deliveries"]
    assert delivery["started"] is True and delivery["element_id"] == "LeadIn"
    started = instance(client, delivery["instance_id"])
    assert started["business_key"] == "lead-42" and started["variables"]["company"] == "Ромашка"
    assert [t["element_id"] for t in started["tasks"]] == ["Qualify"]
    assert kinds(client, delivery["instance_id"])[:2] == ["instance_started", "message_correlated"]


def test_no_receiver_is_a_404_with_the_reason_or_is_buffered_until_one_waits(client: TestClient) -> None:
    missing = send(client, name="payment", business_key="bk-1", variables={"amount": 5})
    assert missing.status_code == 404
    detail = missing.json()["detail"]
    assert "no process instance waits for message 'payment'" in detail and "buffer=true" in detail
    buffered = send(client, name="payment", business_key="bk-1", variables={"amount": 5}, buffer=True)
    assert buffered.status_code == 202 and buffered.json()["buffered"] is True
    deploy(client, payment_wait())
    other = start(client, "invoice", "bk-2", order="x")
    waiting = start(client, "invoice", "bk-1", order="y")
    assert open_elements(client, other) == []
    assert open_elements(client, waiting) == ["Ship"]  # the buffered message was delivered on arrival
    assert instance(client, waiting)["variables"]["amount"] == 5
    assert send(client, name="payment", business_key="bk-1").status_code == 404  # consumed once


def test_buffered_message_starts_a_process_deployed_later(client: TestClient) -> None:
    assert send(client, name="lead", business_key="early", buffer=True).status_code == 202
    deploy(client, web_lead())
    listed = client.get("/api/v1/process-instances", params={"business_key": "early"}).json()
    assert listed["total"] == 1 and listed["items"][0]["definition_key"] == "weblead"


def test_two_receivers_are_a_409_unless_all_is_asked(client: TestClient) -> None:
    deploy(client, payment_wait())
    ids = [start(client, "invoice", "same", order="o") for _ in range(2)]
    ambiguous = send(client, name="payment", business_key="same")
    assert ambiguous.status_code == 409 and "2 instances wait" in ambiguous.json()["detail"]
    assert all(open_elements(client, i) == [] for i in ids)
    both = send(client, name="payment", business_key="same", all=True)
    assert both.status_code == 200
    assert sorted(d["instance_id"] for d in both.json()["deliveries"]) == sorted(ids)
    assert all(open_elements(client, i) == ["Ship"] for i in ids)


def test_a_message_thrown_by_one_instance_reaches_the_instance_waiting_for_it(client: TestClient) -> None:
    deploy(client, payment_wait(), "invoice.bpmn")
    deploy(client, request_invoice(), "sale.bpmn")
    receiver = start(client, "invoice", "deal-7", order="o-7")
    bystander = start(client, "invoice", "deal-8", order="o-8")
    sender = start(client, "sale", "deal-7", discount=10)
    assert instance(client, sender)["status"] == "completed"
    assert open_elements(client, receiver) == ["Ship"] and open_elements(client, bystander) == []
    assert instance(client, receiver)["variables"]["discount"] == 10
    thrown = [e for e in client.get(f"/api/v1/process-instances/{sender}/history").json()["items"]
              if e["kind"] == "message_thrown"]
    assert thrown[0]["data"]["delivered_to"] == [receiver]
    correlated = [e for e in client.get(f"/api/v1/process-instances/{receiver}/history").json()["items"]
                  if e["kind"] == "message_correlated"]
    assert correlated[0]["data"]["from_instance"] == sender


def test_a_process_started_only_by_message_can_be_started_by_hand(client: TestClient) -> None:
    deploy(client, web_lead())
    started = start(client, "weblead", "manual")
    assert open_elements(client, started) == ["Qualify"]
