"""Helpers for engine tests: load a fixture model, drive user tasks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.camunda.parser import CamundaParser
from SpiffWorkflow.util.task import TaskState

FIXTURES = Path(__file__).parent / "fixtures"

# The library's evaluator is fine for our own fixtures; the server plugs in the safe one.
SCRIPT_ENGINE = PythonScriptEngine()


def load_model(name: str) -> tuple[Any, dict[str, Any]]:
    """Parse fixtures/<name>.bpmn (process id == name) into (spec, subprocess_specs)."""
    parser = CamundaParser()
    parser.add_bpmn_str((FIXTURES / f"{name}.bpmn").read_bytes(), filename=f"{name}.bpmn")
    return parser.get_spec(name), parser.get_subprocess_specs(name)


def ready_user_tasks(workflow: Any) -> dict[str, Any]:
    return {t.task_spec.name: t for t in workflow.get_tasks(state=TaskState.READY, manual=True)}


def tree_depth(workflow: Any) -> int:
    return max(t.depth for t in list(workflow.tasks.values())[-20:])
