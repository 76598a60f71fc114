"""Instance state and process specs as JSON-ready dicts, stored apart from each other.

- `dump_state` / `load_state`: a running instance without its spec (the spec is stored once per definition
  version). The state carries `STATE_VERSION` and is migrated on load through `_MIGRATIONS`.
- `dump_spec` / `load_spec`: a parsed definition (process spec + subprocess specs), so a deployed version is
  restored without parsing XML again. Task-spec `extensions` and Camunda forms round-trip.
- Task data becomes plain JSON: sets and tuples come back as lists, functions, modules and other unknown
  objects as null; datetime, date, timedelta, UUID and Decimal keep their type.

SpiffWorkflow's `BpmnWorkflowSerializer` registry does the work; it is configured to build our `Workflow` /
`SubWorkflow` and the depth-safe join specs (written under the library's own type names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.event_definition import MessageEventDefinitionConverter
from SpiffWorkflow.bpmn.serializer.default.task_spec import BpmnTaskSpecConverter
from SpiffWorkflow.bpmn.serializer.default.workflow import (
    BpmnSubWorkflowConverter,
    BpmnWorkflowConverter,
    TaskConverter,
    WorkflowConverter,
)
from SpiffWorkflow.bpmn.serializer.workflow import VERSION as SPIFF_SERIALIZER_VERSION
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.specs.defaults import ServiceTask
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.camunda.serializer import DEFAULT_CONFIG as CAMUNDA_CONFIG
from SpiffWorkflow.task import Task

from app.engine.message_payload import PayloadMessageEventDefinition, PayloadMessageEventDefinitionConverter
from app.engine.workflow import DEPTH_SAFE_SPECS, SubWorkflow, Workflow, harden_specs

STATE_VERSION = 1
STATE_VERSION_KEY = "voronka_state_version"
SPIFF_VERSION_KEY = "spiff_serializer_version"
SPEC_VERSION = 1
SPEC_VERSION_KEY = "voronka_spec_version"

_PRIMITIVES = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any, registry: Any) -> Any:
    """A JSON-ready copy of task data; registered types (datetime, UUID, ...) become typed dicts."""
    kind = type(value)
    if kind in _PRIMITIVES:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): _plain(v, registry) for k, v in value.items()}
    if kind is list or kind is tuple or kind is set or kind is frozenset:
        return [_plain(v, registry) for v in value]
    if kind in registry.typenames:
        return _plain(registry.convert(value), registry)
    if isinstance(value, Mapping):
        return {str(k): _plain(v, registry) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v, registry) for v in value]
    return None  # functions, modules and anything else JSON cannot carry


class _TaskConverter(TaskConverter):
    """The library stores raw data and leaves it to its JSON encoder; we hand back plain JSON instead."""

    def to_dict(self, task: Task) -> dict[str, Any]:
        dct = super().to_dict(task)
        dct["data"] = _plain(dct["data"], self.registry)
        delta = dct["delta"]
        if delta:
            dct["delta"] = {"updates": _plain(delta["updates"], self.registry), "deletions": delta["deletions"]}
        dct["internal_data"] = _plain(dct["internal_data"], self.registry)
        return dct


def _workflow_attributes(converter: WorkflowConverter, workflow: Any) -> dict[str, Any]:
    dct = WorkflowConverter.to_dict(converter, workflow)
    dct["data"] = _plain(workflow.data, converter.registry)
    dct["correlations"] = _plain(dct["correlations"], converter.registry)
    return dct


class _SubWorkflowConverter(BpmnSubWorkflowConverter):
    def to_dict(self, workflow: BpmnSubWorkflow) -> dict[str, Any]:
        dct = _workflow_attributes(self, workflow)
        dct["parent_task_id"] = str(workflow.parent_task_id)
        dct["spec"] = workflow.spec.name  # a name only: the subprocess specs are stored with the definition
        return dct


class _WorkflowConverter(BpmnWorkflowConverter):
    """BpmnWorkflowConverter without the specs: they are passed in on load."""

    def to_dict(self, workflow: Workflow) -> dict[str, Any]:
        dct = _workflow_attributes(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = _plain(self.registry.convert(workflow.bpmn_events), self.registry)
        return dct

    def from_dict(  # type: ignore[override]
        self, dct: dict[str, Any], *, spec: Any, subprocess_specs: dict[str, Any], script_engine: Any
    ) -> Workflow:
        workflow = self.target_class(spec, subprocess_specs, script_engine=script_engine, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _build_registry() -> Any:
    # The Camunda config has no converter for plain service tasks (ours are external tasks).
    config = {**CAMUNDA_CONFIG, ServiceTask: BpmnTaskSpecConverter}
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]))
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]))
    _TaskConverter(Task, registry)
    _WorkflowConverter(Workflow, registry, typename="BpmnWorkflow")
    _SubWorkflowConverter(SubWorkflow, registry, typename="BpmnSubWorkflow")
    # Message events are parsed as the plain MessageEventDefinition (see parser._BpmnMessagesMixin), which the
    # Camunda configuration replaced by its own class under the same type name: restore the plain one.
    MessageEventDefinitionConverter(MessageEventDefinition, registry)
    PayloadMessageEventDefinitionConverter(PayloadMessageEventDefinition, registry)
    for base, safe in DEPTH_SAFE_SPECS.items():
        # Same converter and type name as the library class: stored specs stay readable by plain SpiffWorkflow,
        # and restoring them builds the depth-safe class directly.
        config[base](safe, registry, typename=registry.typenames[base])
    return registry


_REGISTRY = _build_registry()


# --- state ------------------------------------------------------------------------------------------------


def _from_unversioned(state: dict[str, Any]) -> dict[str, Any]:
    """Version 0: a dict written by SpiffWorkflow's own serializer (`to_dict` + its version key)."""
    state = dict(state)
    state.pop("spec", None)
    state.pop("subprocess_specs", None)
    state.setdefault(SPIFF_VERSION_KEY, state.pop(BpmnWorkflowSerializer.VERSION_KEY, SPIFF_SERIALIZER_VERSION))
    return state


# version -> the step that upgrades a state of that version to the next one.
_MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {0: _from_unversioned}


def migrate_state(state: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored state up to STATE_VERSION (a no-op for current states)."""
    version = state.get(STATE_VERSION_KEY, 0)
    if not isinstance(version, int) or version > STATE_VERSION:
        raise ValueError(f"instance state version {version!r} is newer than this server ({STATE_VERSION})")
    while version < STATE_VERSION:
        state = _MIGRATIONS[version](state)
        version += 1
    spiff_version = state.get(SPIFF_VERSION_KEY)
    if spiff_version != SPIFF_SERIALIZER_VERSION:
        # SpiffWorkflow's own migrations need the spec next to the state; add a step to _MIGRATIONS instead.
        raise ValueError(
            f"instance state written by SpiffWorkflow serializer {spiff_version}, "
            f"this server has {SPIFF_SERIALIZER_VERSION}: a migration step is missing"
        )
    return state


def dump_state(workflow: Workflow) -> dict[str, Any]:
    """The instance as a JSON-ready dict, without the process spec or subprocess specs."""
    state: dict[str, Any] = _REGISTRY.convert(workflow)
    state[STATE_VERSION_KEY] = STATE_VERSION
    state[SPIFF_VERSION_KEY] = SPIFF_SERIALIZER_VERSION
    return state


def load_state(state: dict[str, Any], spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> Workflow:
    """Rebuild an instance from `dump_state` output and the specs of its definition version."""
    state = migrate_state(state)
    body = {k: v for k, v in state.items() if k not in (STATE_VERSION_KEY, SPIFF_VERSION_KEY)}
    body["subprocesses"] = dict(body.get("subprocesses", {}))  # the library pops from it while restoring
    harden_specs(spec, subprocess_specs)
    workflow: Workflow = _REGISTRY.restore(
        body, spec=spec, subprocess_specs=subprocess_specs, script_engine=script_engine
    )
    return workflow


def new_workflow(spec: Any, subprocess_specs: dict[str, Any], script_engine: Any) -> Workflow:
    """A fresh instance (nothing run yet: call `run_engine`)."""
    return Workflow(spec, subprocess_specs, script_engine=script_engine)


# --- specs ------------------------------------------------------------------------------------------------


def dump_spec(spec: Any, subprocess_specs: dict[str, Any]) -> dict[str, Any]:
    """A parsed definition as a JSON-ready dict, to store once per definition version."""
    return {
        SPEC_VERSION_KEY: SPEC_VERSION,
        SPIFF_VERSION_KEY: SPIFF_SERIALIZER_VERSION,
        "spec": _REGISTRY.convert(spec),
        "subprocess_specs": {name: _REGISTRY.convert(sub) for name, sub in subprocess_specs.items()},
    }


def load_spec(dct: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The (spec, subprocess_specs) pair stored by `dump_spec`."""
    version = dct.get(SPEC_VERSION_KEY)
    if version != SPEC_VERSION or dct.get(SPIFF_VERSION_KEY) != SPIFF_SERIALIZER_VERSION:
        raise ValueError(
            f"stored spec version {version}/{dct.get(SPIFF_VERSION_KEY)} is not "
            f"{SPEC_VERSION}/{SPIFF_SERIALIZER_VERSION}: parse the definition's XML again"
        )
    spec = _REGISTRY.restore(dct["spec"])
    subprocess_specs = {name: _REGISTRY.restore(sub) for name, sub in dct["subprocess_specs"].items()}
    harden_specs(spec, subprocess_specs)
    return spec, subprocess_specs


def convert_spec(task_spec: Any) -> dict[str, Any]:
    """One task spec as the JSON-ready dict the registry stores (for comparing versions)."""
    converted: dict[str, Any] = _REGISTRY.convert(task_spec)
    return converted
