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
