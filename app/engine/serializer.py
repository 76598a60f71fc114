# TEMPORARY STUB (not committed): replaced by the engine branch.
from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.serializer.config import MessageEventDefinition as BaseMessage
from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.camunda.specs.event_definitions import MessageEventDefinition as CamundaMessage

_config = dict(CAMUNDA_CONFIG)
_config.pop(CamundaMessage, None)
_config[BaseMessage] = MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
_config[ServiceTask] = BpmnTaskSpecConverter
_ser = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    return {"spec": _ser.to_dict(spec), "subprocess_specs": {k: _ser.to_dict(v) for k, v in subprocess_specs.items()}}


def load_spec(data: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    return _ser.from_dict(data["spec"]), {k: _ser.from_dict(v) for k, v in data["subprocess_specs"].items()}


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    return BpmnWorkflow(spec, subprocess_specs, script_engine=script_engine)


def dump_state(workflow: BpmnWorkflow) -> dict[str, Any]:
    d = _ser.to_dict(workflow)
    d.pop("spec", None)
    d.pop("subprocess_specs", None)
    return d


def load_state(state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> BpmnWorkflow:
    d = dict(state)
    d["spec"] = _ser.to_dict(spec)
    d["subprocess_specs"] = {k: _ser.to_dict(v) for k, v in subprocess_specs.items()}
    wf = _ser.from_dict(d)
    wf.script_engine = script_engine
    return wf
