"""Which deployment parts are deployed, refused or ignored."""

from __future__ import annotations

import pytest

from app.camunda.uploads import kind_of


@pytest.mark.parametrize(("filename", "kind"), [
    ("deal.bpmn", "bpmn"), ("deal.bpmn20.xml", "bpmn"), ("resource-0", "bpmn"), ("Сделка.BPMN", "bpmn"),
    ("invoice.dmn", "bpmn"), ("rules.dmn11.xml", "bpmn"), ("case.cmmn", "refused"),
    ("approve.form", "ignored"), ("diagram.png", "ignored"),
])
def test_parts_are_classified_by_file_name(filename: str, kind: str) -> None:
    assert kind_of(filename) == kind
