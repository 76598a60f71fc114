"""Camunda external service tasks survive the spec serializer (they parse to the library's plain ServiceTask)."""

from __future__ import annotations

import json

from app.engine.parser import parse_bpmn_files
from app.engine.serializer import dump_spec, load_spec
from tests.integration.camunda.models import credit_check


def test_an_external_service_task_round_trips_with_its_topic() -> None:
    (process,) = parse_bpmn_files([("credit_check.bpmn", credit_check().encode())], max_bytes=1_000_000)
    stored = json.loads(json.dumps(dump_spec(process.spec, process.subprocess_specs)))
    spec, _subprocesses = load_spec(stored)
    assert spec.task_specs["Check"].extensions["external_topic"] == "check-credit"
