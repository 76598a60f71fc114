"""Small builders of BPMN documents for parser tests."""

from __future__ import annotations

HEADER = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'
    ' xmlns:zeebe="http://camunda.org/schema/zeebe/1.0"'
    ' xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    ' id="defs" targetNamespace="http://voronka.test/bpmn">\n'
)
FOOTER = "</bpmn:definitions>\n"


def definitions(body: str) -> bytes:
    return (HEADER + body + FOOTER).encode("utf-8")


def linear_process(
    process_id: str = "p",
    middle: str = '<bpmn:userTask id="task" name="Task"/>',
    *,
    middle_id: str = "task",
    executable: str | None = "true",
    extra: str = "",
) -> bytes:
    """start -> one element -> end; the element is given as XML text."""
    attr = f' isExecutable="{executable}"' if executable is not None else ""
    return definitions(
        f'<bpmn:process id="{process_id}" name="Process {process_id}"{attr}>\n'
        '<bpmn:startEvent id="start"/>\n'
        f"{middle}\n"
        '<bpmn:endEvent id="end"/>\n'
        f'<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{middle_id}"/>\n'
        f'<bpmn:sequenceFlow id="f2" sourceRef="{middle_id}" targetRef="end"/>\n'
        f"{extra}"
        "</bpmn:process>\n"
    )


SALES = definitions("""\
<bpmn:process id="sales" name="Продажа" isExecutable="true"
    camunda:candidateStarterGroups="hunter, head_of_sales" camunda:candidateStarterUsers="anna">
  <bpmn:laneSet id="lanes">
    <bpmn:lane id="lane_hunter" name="Hunter">
      <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>qualify</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>offer</bpmn:flowNodeRef>
    </bpmn:lane>
    <bpmn:lane id="lane_head" name="Head of sales">
      <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>close</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>notify</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>end</bpmn:flowNodeRef>
    </bpmn:lane>
    <bpmn:lane id="lane_ru" name="Отдел продаж-Москва">
      <bpmn:flowNodeRef>call</bpmn:flowNodeRef>
      <bpmn:flowNodeRef>archive</bpmn:flowNodeRef>
    </bpmn:lane>
  </bpmn:laneSet>
  <bpmn:startEvent id="start" name="Lead in">
    <bpmn:extensionElements>
      <camunda:formData>
        <camunda:formField id="company" label="Компания" type="string">
          <camunda:validation><camunda:constraint name="required"/></camunda:validation>
        </camunda:formField>
      </camunda:formData>
    </bpmn:extensionElements>
  </bpmn:startEvent>
  <bpmn:userTask id="qualify" name="Qualify lead">
    <bpmn:documentation>Call the lead and fill in the budget.</bpmn:documentation>
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="stage" value="qualification"/>
      </camunda:properties>
      <camunda:formData>
        <camunda:formField id="budget" label="Budget" type="long" defaultValue="1000">
          <camunda:validation>
            <camunda:constraint name="required"/>
            <camunda:constraint name="min" config="0"/>
            <camunda:constraint name="max" config="1000000.5"/>
          </camunda:validation>
        </camunda:formField>
        <camunda:formField id="note" label="Note" type="string">
          <camunda:validation>
            <camunda:constraint name="minlength" config="2"/>
            <camunda:constraint name="maxlength" config="500"/>
          </camunda:validation>
        </camunda:formField>
        <camunda:formField id="hot" label="Hot lead" type="boolean" defaultValue="true"/>
        <camunda:formField id="seen" label="Seen on" type="date">
          <camunda:validation><camunda:constraint name="readonly"/></camunda:validation>
        </camunda:formField>
        <camunda:formField id="channel" label="Channel" type="enum" defaultValue="web">
          <camunda:value id="web" name="Сайт"/>
          <camunda:value id="phone" name="Phone"/>
        </camunda:formField>
      </camunda:formData>
    </bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:exclusiveGateway id="decide" name="Big deal?" default="small"/>
  <bpmn:userTask id="approve" name="Approve" camunda:candidateGroups="${approverGroups}"
      camunda:candidateUsers="boss, deputy" camunda:dueDate="${dueDate}" camunda:priority="80"
      camunda:formKey="embedded:app:forms/approve.html"/>
  <bpmn:userTask id="offer" name="Send offer"/>
  <bpmn:userTask id="close" name="Close deal">
    <bpmn:extensionElements>
      <zeebe:assignmentDefinition assignee="=closer" candidateGroups="closers, head_of_sales"
          candidateUsers="ivan"/>
      <zeebe:taskSchedule dueDate="2030-01-01T10:00:00Z"/>
      <zeebe:priorityDefinition priority="70"/>
      <zeebe:formDefinition formKey="camunda-forms:bpmn:close-form"/>
      <zeebe:properties>
        <zeebe:property name="stage" value="closing"/>
      </zeebe:properties>
    </bpmn:extensionElements>
  </bpmn:userTask>
  <bpmn:userTask id="call" name="Позвонить клиенту"/>
  <bpmn:serviceTask id="notify" name="Notify CRM" camunda:type="external" camunda:topic="crm-notify"/>
  <bpmn:serviceTask id="archive" name="Archive">
    <bpmn:extensionElements>
      <zeebe:taskDefinition type="archive-deal" retries="3"/>
    </bpmn:extensionElements>
  </bpmn:serviceTask>
  <bpmn:endEvent id="end"/>
  <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="qualify"/>
  <bpmn:sequenceFlow id="f2" sourceRef="qualify" targetRef="decide"/>
  <bpmn:sequenceFlow id="big" sourceRef="decide" targetRef="approve">
    <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">budget &gt; 100000</bpmn:conditionExpression>
  </bpmn:sequenceFlow>
  <bpmn:sequenceFlow id="small" sourceRef="decide" targetRef="offer"/>
  <bpmn:sequenceFlow id="f3" sourceRef="approve" targetRef="close"/>
  <bpmn:sequenceFlow id="f4" sourceRef="offer" targetRef="call"/>
  <bpmn:sequenceFlow id="f5" sourceRef="call" targetRef="close"/>
  <bpmn:sequenceFlow id="f6" sourceRef="close" targetRef="notify"/>
  <bpmn:sequenceFlow id="f7" sourceRef="notify" targetRef="archive"/>
  <bpmn:sequenceFlow id="f8" sourceRef="archive" targetRef="end"/>
</bpmn:process>
""")
