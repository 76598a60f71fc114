"""A known pair of regulation versions: v2 renames a task, moves a task to another group, shortens an SLA timer,
raises a gateway threshold, removes one task and adds another."""

from __future__ import annotations

from tests.factories import definitions


def lead_process(version: int = 1, key: str = "reg") -> str:
    v2 = version >= 2
    qualify = "Квалифицировать лид" if v2 else "Квалифицировать"
    call_group = "closer" if v2 else "hunter"
    sla = "PT8H" if v2 else "PT24H"
    threshold = 5000 if v2 else 1000
    small = ('<bpmn:sequenceFlow id="F_Small" sourceRef="Route" targetRef="EndSmall" />' if v2 else
             '<bpmn:userTask id="Obsolete" name="Устаревший шаг" camunda:candidateGroups="hunter" />'
             '<bpmn:sequenceFlow id="F_Small" sourceRef="Route" targetRef="Obsolete" />'
             '<bpmn:sequenceFlow id="F_Obs" sourceRef="Obsolete" targetRef="EndSmall" />')
    won = ('<bpmn:userTask id="Proposal" name="Отправить КП" camunda:candidateGroups="closer" />'
           '<bpmn:sequenceFlow id="F_Won" sourceRef="Close" targetRef="Proposal" />'
           '<bpmn:sequenceFlow id="F_Prop" sourceRef="Proposal" targetRef="EndWon" />' if v2 else
           '<bpmn:sequenceFlow id="F_Won" sourceRef="Close" targetRef="EndWon" />')
    return definitions(f"""
  <bpmn:process id="{key}" name="Регламент лида" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:userTask id="Qualify" name="{qualify}" camunda:candidateGroups="hunter">
      <bpmn:extensionElements>
        <camunda:formData><camunda:formField id="amount" label="Сумма" type="long" /></camunda:formData>
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:userTask id="Call" name="Позвонить" camunda:candidateGroups="{call_group}" />
    <bpmn:boundaryEvent id="Sla" name="SLA звонка" attachedToRef="Call" cancelActivity="false">
      <bpmn:timerEventDefinition id="SlaDef"><bpmn:timeDuration>{sla}</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="Escalate" name="Разобраться" camunda:candidateGroups="head_of_sales" />
    <bpmn:endEvent id="EndEsc" />
    <bpmn:exclusiveGateway id="Route" name="Крупная?" default="F_Small" />
    <bpmn:userTask id="Close" name="Закрыть" camunda:candidateGroups="closer" />
    <bpmn:endEvent id="EndWon" />
    <bpmn:endEvent id="EndSmall" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Qualify" />
    <bpmn:sequenceFlow id="F2" sourceRef="Qualify" targetRef="Call" />
    <bpmn:sequenceFlow id="F3" sourceRef="Call" targetRef="Route" />
    <bpmn:sequenceFlow id="F_Esc" sourceRef="Sla" targetRef="Escalate" />
    <bpmn:sequenceFlow id="F_EscEnd" sourceRef="Escalate" targetRef="EndEsc" />
    <bpmn:sequenceFlow id="F_Big" sourceRef="Route" targetRef="Close">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">amount &gt; {threshold}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    {small}
    {won}
  </bpmn:process>""")


def steps(version: int = 1, key: str = "steps") -> str:
    """Two user tasks in a row; v2 adds a third (for migrating many instances)."""
    third = ('<bpmn:userTask id="C" name="Шаг В" camunda:candidateGroups="hunter" />'
             '<bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="C" />'
             '<bpmn:sequenceFlow id="F4" sourceRef="C" targetRef="End1" />' if version >= 2 else
             '<bpmn:sequenceFlow id="F3" sourceRef="B" targetRef="End1" />')
    return definitions(f"""
  <bpmn:process id="{key}" name="Шаги" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:userTask id="A" name="Шаг А" camunda:candidateGroups="hunter" />
    <bpmn:userTask id="B" name="Шаг Б" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="End1" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="A" />
    <bpmn:sequenceFlow id="F2" sourceRef="A" targetRef="B" />
    {third}
  </bpmn:process>""")


def steps_renamed(key: str = "steps") -> str:
    """`steps` with step B's id changed to B2 (same name): a migration plan must say that they correspond."""
    return steps(1, key).replace('id="B"', 'id="B2"').replace('targetRef="B"', 'targetRef="B2"').replace(
        'sourceRef="B"', 'sourceRef="B2"')


def with_subprocess(version: int = 1, key: str = "sub") -> str:
    """A user task inside an embedded sub-process; v2 adds a second task inside it."""
    inner = ('<bpmn:userTask id="Inner2" name="Ещё шаг" camunda:candidateGroups="hunter" />'
             '<bpmn:sequenceFlow id="S2" sourceRef="Inner" targetRef="Inner2" />'
             '<bpmn:sequenceFlow id="S3" sourceRef="Inner2" targetRef="SubEnd" />' if version >= 2 else
             '<bpmn:sequenceFlow id="S2" sourceRef="Inner" targetRef="SubEnd" />')
    return definitions(f"""
  <bpmn:process id="{key}" name="С подпроцессом" isExecutable="true">
    <bpmn:startEvent id="Begin" />
    <bpmn:userTask id="Before" name="До" camunda:candidateGroups="hunter" />
    <bpmn:subProcess id="Sub" name="Подпроцесс">
      <bpmn:startEvent id="SubStart" />
      <bpmn:userTask id="Inner" name="Внутри" camunda:candidateGroups="hunter" />
      <bpmn:endEvent id="SubEnd" />
      <bpmn:sequenceFlow id="S1" sourceRef="SubStart" targetRef="Inner" />
      {inner}
    </bpmn:subProcess>
    <bpmn:endEvent id="Finish" />
    <bpmn:sequenceFlow id="F1" sourceRef="Begin" targetRef="Before" />
    <bpmn:sequenceFlow id="F2" sourceRef="Before" targetRef="Sub" />
    <bpmn:sequenceFlow id="F3" sourceRef="Sub" targetRef="Finish" />
  </bpmn:process>""")
