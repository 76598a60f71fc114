"""A small lead process with the shipped model's start form (and INN, comment): starts are cheap, so the tests
can import thousands of rows."""

from __future__ import annotations

from tests.factories import definitions

LEAD_MODEL = definitions("""
  <bpmn:process id="leads" name="Лиды" isExecutable="true">
    <bpmn:startEvent id="StartEvent_Lead">
      <bpmn:extensionElements>
        <camunda:formData>
          <camunda:formField id="source" label="Источник лида" type="enum">
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
            <camunda:value id="cold_call" name="Холодный звонок"/>
            <camunda:value id="exhibition" name="Выставка"/>
            <camunda:value id="web_form" name="Форма захвата на сайте"/>
          </camunda:formField>
          <camunda:formField id="company" label="Компания" type="string">
            <camunda:validation><camunda:constraint name="required"/>
              <camunda:constraint name="minlength" config="2"/></camunda:validation>
          </camunda:formField>
          <camunda:formField id="inn" label="ИНН" type="string"/>
          <camunda:formField id="contact" label="Контактное лицо" type="string"/>
          <camunda:formField id="contact_phone" label="Телефон" type="string"/>
          <camunda:formField id="contact_email" label="E-mail" type="string"/>
          <camunda:formField id="segment" label="Сегмент" type="enum">
            <camunda:validation><camunda:constraint name="required"/></camunda:validation>
            <camunda:value id="smb" name="Малый бизнес"/>
            <camunda:value id="mid_market" name="Средний бизнес"/>
          </camunda:formField>
          <camunda:formField id="comment" label="Комментарий" type="string"/>
        </camunda:formData>
      </bpmn:extensionElements>
    </bpmn:startEvent>
    <bpmn:userTask id="Task_Call" name="Позвонить" camunda:candidateGroups="hunter" />
    <bpmn:endEvent id="EndEvent_Lead" />
    <bpmn:sequenceFlow id="F1" sourceRef="StartEvent_Lead" targetRef="Task_Call" />
    <bpmn:sequenceFlow id="F2" sourceRef="Task_Call" targetRef="EndEvent_Lead" />
  </bpmn:process>""")
