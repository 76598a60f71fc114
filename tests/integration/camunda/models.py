"""BPMN documents as Camunda Modeler writes them (Camunda 7 extensions), for the dialect's tests."""

from __future__ import annotations

from tests.factories import definitions


def review_and_charge(key: str = "invoice_flow", group: str = "admin", topic: str = "charge-card") -> str:
    """A user task for `group` (form: amount, approved), then an external task on `topic`, then the end."""
    return definitions(f"""
  <bpmn:process id="{key}" name="Счёт на оплату" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:userTask id="Review" name="Проверить счёт" camunda:candidateGroups="{group}">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="amount" label="Сумма" type="long" />
          <camunda:formField id="approved" label="Одобрено" type="boolean" />
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:serviceTask id="Charge" name="Списать оплату" camunda:type="external" camunda:topic="{topic}" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Review" />
    <bpmn:sequenceFlow id="F2" sourceRef="Review" targetRef="Charge" />
    <bpmn:sequenceFlow id="F3" sourceRef="Charge" targetRef="EndEvent_1" />
  </bpmn:process>""")


def java_delegate(key: str = "legacy") -> str:
    """What Camunda runs and we cannot: a Java delegate service task."""
    return definitions(f"""
  <bpmn:process id="{key}" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:serviceTask id="ArchiveInvoice" name="Archive" camunda:class="org.example.ArchiveService" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="ArchiveInvoice" />
    <bpmn:sequenceFlow id="F2" sourceRef="ArchiveInvoice" targetRef="EndEvent_1" />
  </bpmn:process>""")


def credit_check(key: str = "credit_check", topic: str = "check-credit") -> str:
    """An external task whose BPMN error CREDIT_REJECTED is caught by a boundary event leading to a user task."""
    return definitions(f"""
  <bpmn:error id="Error_Rejected" name="Rejected" errorCode="CREDIT_REJECTED" />
  <bpmn:process id="{key}" name="Проверка кредита" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:serviceTask id="Check" name="Проверить кредит" camunda:type="external" camunda:topic="{topic}" />
    <bpmn:boundaryEvent id="Rejected" attachedToRef="Check">
      <bpmn:errorEventDefinition id="Def_Rejected" errorRef="Error_Rejected" />
    </bpmn:boundaryEvent>
    <bpmn:userTask id="HandleRejection" name="Разобрать отказ" camunda:candidateGroups="admin" />
    <bpmn:endEvent id="EndEvent_Ok" />
    <bpmn:endEvent id="EndEvent_Rejected" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Check" />
    <bpmn:sequenceFlow id="F2" sourceRef="Check" targetRef="EndEvent_Ok" />
    <bpmn:sequenceFlow id="F3" sourceRef="Rejected" targetRef="HandleRejection" />
    <bpmn:sequenceFlow id="F4" sourceRef="HandleRejection" targetRef="EndEvent_Rejected" />
  </bpmn:process>""")


def await_payment(key: str = "await_payment", message: str = "payment_received") -> str:
    """Waits for a message (correlated by business key), then a user task for admins."""
    return definitions(f"""
  <bpmn:message id="Message_Paid" name="{message}" />
  <bpmn:process id="{key}" name="Ожидание оплаты" isExecutable="true">
    <bpmn:startEvent id="StartEvent_1" />
    <bpmn:intermediateCatchEvent id="Paid" name="Оплата получена">
      <bpmn:messageEventDefinition id="Def_Paid" messageRef="Message_Paid" />
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="Ship" name="Отгрузить" camunda:candidateGroups="admin" />
    <bpmn:endEvent id="EndEvent_1" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_1" targetRef="Paid" />
    <bpmn:sequenceFlow id="F2" sourceRef="Paid" targetRef="Ship" />
    <bpmn:sequenceFlow id="F3" sourceRef="Ship" targetRef="EndEvent_1" />
  </bpmn:process>""")
