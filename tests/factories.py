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


def timer_wait(key: str = "wait", duration: str = "PT1S") -> str:
    """A timer intermediate catch event between start and a user task."""
    return definitions(f"""
  <bpmn:process id="{key}" name="Ожидание" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:intermediateCatchEvent id="Wait" name="Пауза">
      <bpmn:timerEventDefinition id="WaitDef">
        <bpmn:timeDuration>{duration}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="After" name="После паузы" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Wait" />
    <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="After" />
    <bpmn:sequenceFlow id="F3" sourceRef="After" targetRef="Finish" />
  </bpmn:process>""")


def lead_sla(key: str = "lead", duration: str = "PT1S", interrupting: bool = False) -> str:
    """"Call the lead" with a boundary timer: non-interrupting escalates to the head of sales and the hunter's
    task stays; interrupting cancels the call and hands the lead to the head of sales."""
    cancel = "true" if interrupting else "false"
    return definitions(f"""
  <bpmn:process id="{key}" name="Лид" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:userTask id="Call" name="Позвонить лиду" camunda:candidateGroups="hunter" />
    <bpmn:boundaryEvent id="Sla" name="24 часа" attachedToRef="Call" cancelActivity="{cancel}">
      <bpmn:timerEventDefinition id="SlaDef">
        <bpmn:timeDuration>{duration}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Escalate" name="Разобраться с лидом" camunda:candidateGroups="head_of_sales" />
    <bpmn:endEvent id="Finish" />
    <bpmn:endEvent id="EndEscalated" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Call" />
    <bpmn:sequenceFlow id="F2" sourceRef="Call" targetRef="Finish" />
    <bpmn:sequenceFlow id="F3" sourceRef="Sla" targetRef="Escalate" />
    <bpmn:sequenceFlow id="F4" sourceRef="Escalate" targetRef="EndEscalated" />
  </bpmn:process>""")


def timer_start(key: str = "daily", timer: str = "<bpmn:timeCycle>R2/PT1S</bpmn:timeCycle>") -> str:
    """A process started by a timer start event (date, duration or cycle)."""
    return definitions(f"""
  <bpmn:process id="{key}" name="По расписанию" isExecutable="true">
    <bpmn:startEvent id="Tick">
      <bpmn:timerEventDefinition id="TickDef">{timer}</bpmn:timerEventDefinition>
    </bpmn:startEvent>
    <bpmn:userTask id="Review" name="Разобрать воронку" camunda:candidateGroups="head_of_sales" />
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Tick" targetRef="Review" />
    <bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Finish" />
  </bpmn:process>""")


def sender_groups(groups: str | None) -> str:
    """A catch event's extension naming who may send its message (senderGroups)."""
    if not groups:
        return ""
    return ("<bpmn:extensionElements><camunda:properties>"
            f'<camunda:property name="senderGroups" value="{groups}" /></camunda:properties></bpmn:extensionElements>')


def payment_wait(key: str = "invoice", *, senders: str | None = None) -> str:
    """Waits for message "payment" correlated by the order number (property `order_id`, read from `order`);
    `senders` declares the groups that may send it."""
    return definitions(f"""
  <bpmn:message id="Msg_Payment" name="payment" />
  <bpmn:correlationProperty id="order_id" name="Order number">
    <bpmn:correlationPropertyRetrievalExpression messageRef="Msg_Payment">
      <bpmn:formalExpression>order</bpmn:formalExpression>
    </bpmn:correlationPropertyRetrievalExpression>
  </bpmn:correlationProperty>
  <bpmn:collaboration id="Collab_{key}">
    <bpmn:participant id="P_{key}" processRef="{key}" />
    <bpmn:correlationKey id="Key_Order" name="order">
      <bpmn:correlationPropertyRef>order_id</bpmn:correlationPropertyRef>
    </bpmn:correlationKey>
  </bpmn:collaboration>
  <bpmn:process id="{key}" name="Счёт" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:intermediateCatchEvent id="Paid" name="Оплата получена">{sender_groups(senders)}
      <bpmn:messageEventDefinition id="PaidDef" messageRef="Msg_Payment" />
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Ship" name="Отгрузить" camunda:candidateGroups="accounting" />
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Paid" />
    <bpmn:sequenceFlow id="F2" sourceRef="Paid" targetRef="Ship" />
    <bpmn:sequenceFlow id="F3" sourceRef="Ship" targetRef="Finish" />
  </bpmn:process>""")


def payment_or_reminder(key: str = "dunning", duration: str = "PT1H") -> str:
    """An event-based gateway: message "payment" (ship) or, after `duration`, a reminder task."""
    return definitions(f"""
  <bpmn:message id="Msg_Payment" name="payment" />
  <bpmn:process id="{key}" name="Ожидание оплаты" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:eventBasedGateway id="Await" />
    <bpmn:intermediateCatchEvent id="Paid">
      <bpmn:messageEventDefinition id="PaidDef" messageRef="Msg_Payment" />
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="Overdue">
      <bpmn:timerEventDefinition id="OverdueDef"><bpmn:timeDuration>{duration}</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Ship" name="Отгрузить" camunda:candidateGroups="accounting" />
    <bpmn:userTask id="Remind" name="Напомнить" camunda:candidateGroups="closer" />
    <bpmn:endEvent id="Shipped" />
    <bpmn:endEvent id="Reminded" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Await" />
    <bpmn:sequenceFlow id="F2" sourceRef="Await" targetRef="Paid" />
    <bpmn:sequenceFlow id="F3" sourceRef="Await" targetRef="Overdue" />
    <bpmn:sequenceFlow id="F4" sourceRef="Paid" targetRef="Ship" />
    <bpmn:sequenceFlow id="F5" sourceRef="Overdue" targetRef="Remind" />
    <bpmn:sequenceFlow id="F6" sourceRef="Ship" targetRef="Shipped" />
    <bpmn:sequenceFlow id="F7" sourceRef="Remind" targetRef="Reminded" />
  </bpmn:process>""")


def won_with_repeat(key: str = "won", payload: str | None = "{'company': company, 'source': 'repeat'}") -> str:
    """A deal that ends by throwing "repeat" with the payload expression `payload` (camunda:expression)."""
    expression = f' camunda:expression="{payload}"' if payload is not None else ""
    return definitions(f"""
  <bpmn:message id="Msg_Repeat" name="repeat" />
  <bpmn:process id="{key}" name="Сделка" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:endEvent id="Won">
      <bpmn:messageEventDefinition id="WonDef" messageRef="Msg_Repeat"{expression} />
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Won" />
  </bpmn:process>""")


def web_lead(key: str = "weblead", *, senders: str | None = None) -> str:
    """Started by message "lead" (a web form): the hunter qualifies it. `senders`: who may send it."""
    return definitions(f"""
  <bpmn:message id="Msg_Lead" name="lead" />
  <bpmn:process id="{key}" name="Лид с сайта" isExecutable="true">
    <bpmn:startEvent id="LeadIn">{sender_groups(senders)}
      <bpmn:messageEventDefinition id="LeadDef" messageRef="Msg_Lead" />
    </bpmn:startEvent>
    <bpmn:userTask id="Qualify" name="Квалифицировать" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="LeadIn" targetRef="Qualify" />
    <bpmn:sequenceFlow id="F2" sourceRef="Qualify" targetRef="Finish" />
  </bpmn:process>""")


def request_invoice(key: str = "sale") -> str:
    """Throws message "payment" to another process (with the sender's data), then ends."""
    return definitions(f"""
  <bpmn:message id="Msg_Payment" name="payment" />
  <bpmn:process id="{key}" name="Продажа" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:intermediateThrowEvent id="Pay" name="Оплатить">
      <bpmn:messageEventDefinition id="PayDef" messageRef="Msg_Payment" />
    </bpmn:intermediateThrowEvent>
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Pay" />
    <bpmn:sequenceFlow id="F2" sourceRef="Pay" targetRef="Finish" />
  </bpmn:process>""")


def external_invoice(key: str = "billing", topic: str = "issue-invoice") -> str:
    """An external service task (accounting system issues the invoice) with a boundary error event
    "no_customer" that routes to a user task."""
    return definitions(f"""
  <bpmn:error id="Err_NoCustomer" name="No customer" errorCode="no_customer" />
  <bpmn:process id="{key}" name="Выставление счёта" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:serviceTask id="Issue" name="Выставить счёт" camunda:type="external" camunda:topic="{topic}" />
    <bpmn:boundaryEvent id="NoCustomer" attachedToRef="Issue">
      <bpmn:errorEventDefinition id="NoCustomerDef" errorRef="Err_NoCustomer" />
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Send" name="Отправить счёт" camunda:candidateGroups="accounting" />
    <bpmn:userTask id="FixCustomer" name="Завести клиента" camunda:candidateGroups="accounting" />
    <bpmn:endEvent id="Finish" />
    <bpmn:endEvent id="EndFixed" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Issue" />
    <bpmn:sequenceFlow id="F2" sourceRef="Issue" targetRef="Send" />
    <bpmn:sequenceFlow id="F3" sourceRef="Send" targetRef="Finish" />
    <bpmn:sequenceFlow id="F4" sourceRef="NoCustomer" targetRef="FixCustomer" />
    <bpmn:sequenceFlow id="F5" sourceRef="FixCustomer" targetRef="EndFixed" />
  </bpmn:process>""")


def timer_at(key: str = "due") -> str:
    """Waits until the date in variable `due` (ISO 8601), then opens a user task: exact due times for tests
    and benchmarks."""
    return definitions(f"""
  <bpmn:process id="{key}" name="До даты" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:intermediateCatchEvent id="Wait">
      <bpmn:timerEventDefinition id="WaitDef"><bpmn:timeDate>due</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="After" name="После" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Wait" />
    <bpmn:sequenceFlow id="F2" sourceRef="Wait" targetRef="After" />
    <bpmn:sequenceFlow id="F3" sourceRef="After" targetRef="Finish" />
  </bpmn:process>""")


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
