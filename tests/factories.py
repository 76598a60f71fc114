"""Small builders for test data: BPMN documents and uploads."""

from __future__ import annotations

BPMN_NS = (
    'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
    'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
    'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
    'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" '
    'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
)


def definitions(body: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions {BPMN_NS} id="Defs" '
            f'targetNamespace="http://voronka.test">\n{body}\n</bpmn:definitions>\n')


def two_lane_deal(key: str = "deal", name: str = "Сделка", threshold: int = 1000) -> str:
    """Hunter qualifies a lead (form: amount, company); big deals go to the closer, small ones end at once."""
    return definitions(f"""
  <bpmn:collaboration id="Collab">
    <bpmn:participant id="Pool" name="Отдел продаж" processRef="{key}" />
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="{name}" isExecutable="true">
    <bpmn:laneSet id="Lanes">
      <bpmn:lane id="Lane_Hunter" name="Hunter">
        <bpmn:flowNodeRef>StartEvent</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Qualify</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>Route</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndSmall</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="Lane_Closer" name="Closer">
        <bpmn:flowNodeRef>Close</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>EndWon</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="StartEvent" name="Лид" />
    <bpmn:userTask id="Qualify" name="Квалифицировать лид">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="company" label="Компания" type="string">
            <camunda:validation><camunda:constraint name="required" /></camunda:validation>
          </camunda:formField>
          <camunda:formField id="amount" label="Сумма" type="long">
            <camunda:validation>
              <camunda:constraint name="required" /><camunda:constraint name="min" config="0" />
            </camunda:validation>
          </camunda:formField>
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="funnel_stage" value="qualified" />
          <camunda:property name="work_kind" value="main" />
        </camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Route" name="Крупная сделка?" default="Flow_Small" />
    <bpmn:userTask id="Close" name="Закрыть сделку">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="signed" label="Подписан" type="boolean" />
        </camunda:formData>
        <camunda:properties>
          <camunda:property name="funnel_stage" value="contract" />
        </camunda:properties>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="EndSmall" name="Мелкая сделка" />
    <bpmn:endEvent id="EndWon" name="Выиграна" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent" targetRef="Qualify" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Qualify" targetRef="Route" />
    <bpmn:sequenceFlow id="Flow_Big" sourceRef="Route" targetRef="Close">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; {threshold}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Small" sourceRef="Route" targetRef="EndSmall" />
    <bpmn:sequenceFlow id="Flow_3" sourceRef="Close" targetRef="EndWon" />
  </bpmn:process>""")


def loop_process(key: str = "followup") -> str:
    """A follow-up call repeated until `calls` reaches `target` (a gateway back-edge)."""
    return definitions(f"""
  <bpmn:process id="{key}" name="Повторные звонки" isExecutable="true">
    <bpmn:startEvent id="StartEvent" />
    <bpmn:userTask id="Call" name="Позвонить клиенту" camunda:candidateGroups="hunter">
      <bpmn:extensionElements>
        <camunda:formData><camunda:formField id="calls" type="long" /></camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="Again" default="Flow_Done" />
    <bpmn:endEvent id="EndEvent" />
    <bpmn:sequenceFlow id="Flow_1" sourceRef="StartEvent" targetRef="Call" />
    <bpmn:sequenceFlow id="Flow_2" sourceRef="Call" targetRef="Again" />
    <bpmn:sequenceFlow id="Flow_Loop" sourceRef="Again" targetRef="Call">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">calls &lt; target</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_Done" sourceRef="Again" targetRef="EndEvent" />
  </bpmn:process>""")


def upload(*documents: tuple[str, str | bytes]) -> list[tuple[str, tuple[str, bytes, str]]]:
    """Multipart `files` fields for TestClient/httpx."""
    return [("files", (name, doc.encode() if isinstance(doc, str) else doc, "application/xml"))
            for name, doc in documents]


ROLES = ("hunter", "closer", "accounting", "account_manager", "head_of_sales", "designer", "admin")


def password_of(username: str) -> str:
    return f"{username}-password"


def add_role_users(ctx: object, roles: tuple[str, ...] = ROLES) -> None:
    """One user per role, named after the role (`admin` exists already as the bootstrap admin: `admin_2`),
    with the password `password_of(name)`."""
    from app.auth.actor import SYSTEM
    from app.services import identity

    for role in roles:
        name = "admin_2" if role == "admin" else role
        identity.create_user(ctx, actor=SYSTEM, username=name, password=password_of(name),  # type: ignore[arg-type]
                             groups=[role])


def role_relay(key: str = "relay", *, starter_groups: str | None = None,
               roles: tuple[str, ...] = ("hunter", "closer", "accounting", "account_manager"),
               due: str = "P1D", priority: int = 70) -> str:
    """One user task per role, one after the other (hunter -> closer -> ...); the hunter's task has a due date
    and a priority. `starter_groups` sets camunda:candidateStarterGroups."""
    starters = f' camunda:candidateStarterGroups="{starter_groups}"' if starter_groups else ""
    tasks, flows, previous = [], [], "StartEvent_1"
    for n, role in enumerate(roles):
        extra = f' camunda:dueDate="{due}" camunda:priority="{priority}"' if n == 0 else ""
        tasks.append(f'<bpmn:userTask id="Task_{role}" name="Работа: {role}" '
                     f'camunda:candidateGroups="{role}"{extra} />')
        flows.append(f'<bpmn:sequenceFlow id="Flow_{n}" sourceRef="{previous}" targetRef="Task_{role}" />')
        previous = f"Task_{role}"
    flows.append(f'<bpmn:sequenceFlow id="Flow_end" sourceRef="{previous}" targetRef="EndEvent_1" />')
    return definitions(f"""
  <bpmn:process id="{key}" name="Эстафета ролей" isExecutable="true"{starters}>
    <bpmn:startEvent id="StartEvent_1" />
    {chr(10).join(tasks)}
    <bpmn:endEvent id="EndEvent_1" />
    {chr(10).join(flows)}
  </bpmn:process>""")


def make_user(ctx: object, username: str, groups: list[str], password: str = "secret-pass") -> tuple[str, str]:
    """Create a user in `groups` straight in the database; returns Basic credentials."""
    from app.db.models import User
    from app.services.identity import ensure_groups

    with ctx.db.transaction() as session:  # type: ignore[attr-defined]
        password_hash = ctx.passwords.hash(password)  # type: ignore[attr-defined]
        user = User(username=username, password_hash=password_hash, display_name=username)
        user.groups = ensure_groups(session, groups)
        session.add(user)
    return username, password
