"""BPMN constructs modelers draw, each as a small model run over HTTP: link events, resource roles on user
tasks, standard multi-instance with loopDataInputRef, signals inside an instance, escalation boundaries."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.factories import definitions, upload


def deploy_and_start(client: TestClient, body: str, variables: dict | None = None, head: str = "") -> dict:
    model = definitions(f'{head}<bpmn:process id="p" isExecutable="true">{body}</bpmn:process>')
    response = client.post("/api/v1/deployments", files=upload(("p.bpmn", model)))
    assert response.status_code in (200, 201), response.text
    started = client.post("/api/v1/process-instances", json={"definition_key": "p", "variables": variables or {}})
    assert started.status_code == 201, started.text
    return started.json()


def test_a_link_throw_continues_at_the_link_catch_of_the_same_name(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:intermediateThrowEvent id="GoToReview"><bpmn:linkEventDefinition id="L1" name="review" />
      </bpmn:intermediateThrowEvent>
      <bpmn:intermediateCatchEvent id="FromStart"><bpmn:linkEventDefinition id="L2" name="review" />
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="Review" camunda:assignee="admin" />
      <bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="GoToReview" />
      <bpmn:sequenceFlow id="F2" sourceRef="FromStart" targetRef="Review" />
      <bpmn:sequenceFlow id="F3" sourceRef="Review" targetRef="E" />""")
    assert [t["element_id"] for t in started["tasks"]] == ["Review"]
    xml = client.get("/api/v1/process-definitions/p/xml")
    assert xml.status_code == 200 and "linkEventDefinition" in xml.text  # the stored model keeps its links


def test_a_link_without_its_catch_is_refused_naming_the_throw(client: TestClient) -> None:
    model = definitions("""<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="S" />
      <bpmn:intermediateThrowEvent id="Jump"><bpmn:linkEventDefinition name="nowhere" /></bpmn:intermediateThrowEvent>
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Jump" /></bpmn:process>""")
    response = client.post("/api/v1/deployments", files=upload(("p.bpmn", model)))
    assert response.status_code == 400
    problem = response.json()["errors"][0]
    assert problem["element_id"] == "Jump" and "'nowhere'" in problem["message"]


def test_potential_owner_and_human_performer_assign_the_user_task(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:userTask id="Check">
        <bpmn:potentialOwner><bpmn:resourceAssignmentExpression>
          <bpmn:formalExpression>group(accounting), user(anna), sales</bpmn:formalExpression>
        </bpmn:resourceAssignmentExpression></bpmn:potentialOwner>
      </bpmn:userTask>
      <bpmn:userTask id="Sign">
        <bpmn:humanPerformer><bpmn:resourceAssignmentExpression>
          <bpmn:formalExpression>boris</bpmn:formalExpression>
        </bpmn:resourceAssignmentExpression></bpmn:humanPerformer>
      </bpmn:userTask>
      <bpmn:parallelGateway id="Fork" />
      <bpmn:sequenceFlow id="F0" sourceRef="S" targetRef="Fork" />
      <bpmn:sequenceFlow id="F1" sourceRef="Fork" targetRef="Check" />
      <bpmn:sequenceFlow id="F2" sourceRef="Fork" targetRef="Sign" />""")
    tasks = {t["element_id"]: t for t in started["tasks"]}
    assert sorted(tasks["Check"]["candidate_groups"]) == ["accounting", "sales"]
    assert tasks["Check"]["candidate_users"] == ["anna"]
    assert tasks["Sign"]["assignee"] == "boris"


def test_standard_multi_instance_with_input_and_output_collections(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:scriptTask id="Price" scriptFormat="python">
        <bpmn:multiInstanceLoopCharacteristics>
          <bpmn:loopDataInputRef>items</bpmn:loopDataInputRef>
          <bpmn:loopDataOutputRef>prices</bpmn:loopDataOutputRef>
          <bpmn:inputDataItem id="item" />
          <bpmn:outputDataItem id="price" />
        </bpmn:multiInstanceLoopCharacteristics>
        <bpmn:script>price = item * 100</bpmn:script>
      </bpmn:scriptTask>
      <bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Price" />
      <bpmn:sequenceFlow id="F2" sourceRef="Price" targetRef="E" />""", {"items": [1, 2, 3]})
    assert started["status"] == "completed", started
    assert started["variables"]["prices"] == [100, 200, 300]


def test_a_signal_thrown_in_an_instance_is_caught_by_its_waiting_catch_event(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:parallelGateway id="Fork" />
      <bpmn:intermediateCatchEvent id="Wait"><bpmn:signalEventDefinition signalRef="Sig" />
      </bpmn:intermediateCatchEvent>
      <bpmn:intermediateThrowEvent id="Shout"><bpmn:signalEventDefinition signalRef="Sig" />
      </bpmn:intermediateThrowEvent>
      <bpmn:userTask id="Heard" camunda:assignee="admin" />
      <bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Fork" />
      <bpmn:sequenceFlow id="F2" sourceRef="Fork" targetRef="Wait" />
      <bpmn:sequenceFlow id="F3" sourceRef="Fork" targetRef="Shout" />
      <bpmn:sequenceFlow id="F4" sourceRef="Wait" targetRef="Heard" />
      <bpmn:sequenceFlow id="F5" sourceRef="Shout" targetRef="E" />""", head='<bpmn:signal id="Sig" name="go" />')
    assert [t["element_id"] for t in started["tasks"]] == ["Heard"]


def test_an_escalation_from_a_sub_process_is_caught_by_its_boundary_event(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:subProcess id="Check">
        <bpmn:startEvent id="CS" />
        <bpmn:endEvent id="TooBig"><bpmn:escalationEventDefinition escalationRef="Esc" /></bpmn:endEvent>
        <bpmn:sequenceFlow id="C1" sourceRef="CS" targetRef="TooBig" />
      </bpmn:subProcess>
      <bpmn:boundaryEvent id="Escalated" attachedToRef="Check">
        <bpmn:escalationEventDefinition escalationRef="Esc" />
      </bpmn:boundaryEvent>
      <bpmn:userTask id="Boss" camunda:assignee="admin" />
      <bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Check" />
      <bpmn:sequenceFlow id="F2" sourceRef="Check" targetRef="E" />
      <bpmn:sequenceFlow id="F3" sourceRef="Escalated" targetRef="Boss" />""",
                               head='<bpmn:escalation id="Esc" escalationCode="too_big" />')
    assert [t["element_id"] for t in started["tasks"]] == ["Boss"]


def test_several_flows_out_of_a_task_fork_in_parallel_or_by_their_conditions(client: TestClient) -> None:
    plain = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:task id="Prepare" />
      <bpmn:userTask id="Call" camunda:assignee="admin" />
      <bpmn:userTask id="Mail" camunda:assignee="admin" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Prepare" />
      <bpmn:sequenceFlow id="F2" sourceRef="Prepare" targetRef="Call" />
      <bpmn:sequenceFlow id="F3" sourceRef="Prepare" targetRef="Mail" />""")
    assert sorted(t["element_id"] for t in plain["tasks"]) == ["Call", "Mail"]
    body = """
      <bpmn:startEvent id="S" />
      <bpmn:task id="Prepare" />
      <bpmn:userTask id="Call" camunda:assignee="admin" />
      <bpmn:userTask id="Mail" camunda:assignee="admin" />
      <bpmn:userTask id="Log" camunda:assignee="admin" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Prepare" />
      <bpmn:sequenceFlow id="F2" sourceRef="Prepare" targetRef="Call">
        <bpmn:conditionExpression>${amount &gt; 100}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="F3" sourceRef="Prepare" targetRef="Mail">
        <bpmn:conditionExpression>${amount &lt;= 100}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="F4" sourceRef="Prepare" targetRef="Log" />"""
    big = deploy_and_start(client, body, {"amount": 500})
    assert sorted(t["element_id"] for t in big["tasks"]) == ["Call", "Log"]


def test_an_exclusive_flow_without_a_condition_is_taken_when_nothing_before_it_matched(client: TestClient) -> None:
    body = """
      <bpmn:startEvent id="S" />
      <bpmn:exclusiveGateway id="Big" />
      <bpmn:userTask id="Approve" camunda:assignee="admin" />
      <bpmn:userTask id="Ship" camunda:assignee="admin" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Big" />
      <bpmn:sequenceFlow id="Yes" sourceRef="Big" targetRef="Approve">
        <bpmn:conditionExpression>${amount &gt; 100}</bpmn:conditionExpression></bpmn:sequenceFlow>
      <bpmn:sequenceFlow id="Otherwise" sourceRef="Big" targetRef="Ship" />"""
    assert [t["element_id"] for t in deploy_and_start(client, body, {"amount": 5})["tasks"]] == ["Ship"]
    assert [t["element_id"] for t in deploy_and_start(client, body, {"amount": 500})["tasks"]] == ["Approve"]


SIGNALS = '<bpmn:signal id="Sig" name="price_list_changed" />'
WAITER = """<bpmn:process id="waiter" isExecutable="true">
      <bpmn:startEvent id="S" />
      <bpmn:intermediateCatchEvent id="PriceChanged"><bpmn:signalEventDefinition signalRef="Sig" />
      </bpmn:intermediateCatchEvent>
      <bpmn:userTask id="Requote" camunda:assignee="admin" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="PriceChanged" />
      <bpmn:sequenceFlow id="F2" sourceRef="PriceChanged" targetRef="Requote" />
    </bpmn:process>
    <bpmn:process id="announcer" isExecutable="true">
      <bpmn:startEvent id="AS" />
      <bpmn:intermediateThrowEvent id="Announce"><bpmn:signalEventDefinition signalRef="Sig" />
      </bpmn:intermediateThrowEvent>
      <bpmn:endEvent id="AE" />
      <bpmn:sequenceFlow id="A1" sourceRef="AS" targetRef="Announce" />
      <bpmn:sequenceFlow id="A2" sourceRef="Announce" targetRef="AE" />
    </bpmn:process>
    <bpmn:process id="starter" isExecutable="true">
      <bpmn:startEvent id="OnSignal"><bpmn:signalEventDefinition signalRef="Sig" /></bpmn:startEvent>
      <bpmn:userTask id="Review" camunda:assignee="admin" />
      <bpmn:sequenceFlow id="B1" sourceRef="OnSignal" targetRef="Review" />
    </bpmn:process>"""


def test_a_signal_reaches_every_waiting_instance_and_starts_processes_on_both_apis(client: TestClient) -> None:
    response = client.post("/api/v1/deployments", files=upload(("s.bpmn", definitions(SIGNALS + WAITER))))
    assert response.status_code == 201, response.text
    waiting = [client.post("/api/v1/process-instances", json={"definition_key": "waiter"}).json()["id"]
               for _ in range(2)]
    thrown = client.post("/api/v1/process-instances", json={"definition_key": "announcer"}).json()
    assert thrown["status"] == "completed"
    for instance_id in waiting:
        tasks = client.get(f"/api/v1/process-instances/{instance_id}").json()["tasks"]
        assert [t["element_id"] for t in tasks] == ["Requote"]
    assert client.get("/api/v1/process-instances", params={"definition_key": "starter"}).json()["total"] == 1
    more = [client.post("/api/v1/process-instances", json={"definition_key": "waiter"}).json()["id"]
            for _ in range(2)]
    camunda = client.post("/engine-rest/signal", json={"name": "price_list_changed",
                                                       "variables": {"reason": {"value": "инфляция"}}})
    assert camunda.status_code == 204, camunda.text
    for instance_id in more:
        body = client.get(f"/api/v1/process-instances/{instance_id}").json()
        assert body["tasks"][0]["element_id"] == "Requote" and body["variables"]["reason"] == "инфляция"
    native = client.post("/api/v1/signals", json={"name": "price_list_changed"}).json()
    assert [d["started"] for d in native["deliveries"]] == [True]  # nobody waits now: one more start
    assert client.post("/api/v1/signals", json={"name": "nobody_listens"}).json()["deliveries"] == []


def test_input_output_parameters_are_local_to_the_activity_and_map_results_out(client: TestClient) -> None:
    started = deploy_and_start(client, """
      <bpmn:startEvent id="S" />
      <bpmn:userTask id="Quote" camunda:assignee="admin">
        <bpmn:extensionElements>
          <camunda:inputOutput>
            <camunda:inputParameter name="net">${price * 100 / (100 + vat)}</camunda:inputParameter>
            <camunda:inputParameter name="label">Счёт</camunda:inputParameter>
            <camunda:inputParameter name="vat">20</camunda:inputParameter>
            <camunda:inputParameter name="channels"><camunda:list><camunda:value>email</camunda:value>
              <camunda:value>${preferred}</camunda:value></camunda:list></camunda:inputParameter>
            <camunda:inputParameter name="contact"><camunda:map><camunda:entry key="name">${company}</camunda:entry>
              </camunda:map></camunda:inputParameter>
            <camunda:outputParameter name="total">${net + extra}</camunda:outputParameter>
          </camunda:inputOutput>
        </bpmn:extensionElements>
      </bpmn:userTask>
      <bpmn:serviceTask id="Notify">
        <bpmn:extensionElements>
          <zeebe:taskDefinition type="notify" />
          <zeebe:ioMapping><zeebe:input source="=total * 2" target="doubled" />
            <zeebe:output source="=doubled + 1" target="reported" /></zeebe:ioMapping>
        </bpmn:extensionElements>
      </bpmn:serviceTask>
      <bpmn:endEvent id="E" />
      <bpmn:sequenceFlow id="F1" sourceRef="S" targetRef="Quote" />
      <bpmn:sequenceFlow id="F2" sourceRef="Quote" targetRef="Notify" />
      <bpmn:sequenceFlow id="F3" sourceRef="Notify" targetRef="E" />""".replace(
        "<bpmn:serviceTask", '<bpmn:serviceTask xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'),
        {"price": 110, "vat": 10, "preferred": "phone", "company": "Бета"})
    (task,) = started["tasks"]
    detail = client.get(f"/api/v1/tasks/{task['id']}").json()
    local = detail.get("variables") or detail.get("data") or {}
    if local:  # what the task sees: its inputs
        assert local["channels"] == ["email", "phone"] and local["contact"] == {"name": "Бета"}
    assert client.post(f"/api/v1/tasks/{task['id']}/complete", json={"variables": {"extra": 5}}).status_code == 200
    after = client.get(f"/api/v1/process-instances/{started['id']}").json()
    variables = after["variables"]
    # inputs are evaluated in the outer scope (net sees vat=10); the local vat=20 is gone afterwards
    assert variables["total"] == 105 and variables["vat"] == 10
    assert "net" not in variables and "channels" not in variables and "label" not in variables
    locked = client.post("/api/v1/external-tasks/fetch-and-lock", json={
        "worker_id": "w", "max_tasks": 1, "topics": [{"topic": "notify", "lock_duration": 10000}]}).json()
    assert locked[0]["variables"]["doubled"] == 210  # the worker sees the input
    assert client.post(f"/api/v1/external-tasks/{locked[0]['id']}/complete",
                       json={"worker_id": "w", "variables": {}}).status_code in (200, 204)
    done = client.get(f"/api/v1/process-instances/{started['id']}").json()
    assert done["status"] == "completed" and done["variables"]["reported"] == 211
    assert "doubled" not in done["variables"]
