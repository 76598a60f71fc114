"""pycamunda (a Camunda 7 REST client from PyPI), unmodified: deploy, start, list tasks, claim, complete."""

from __future__ import annotations

import pycamunda.deployment
import pycamunda.processdef
import pycamunda.processinst
import pycamunda.task
import pytest
from requests.auth import HTTPBasicAuth

from tests.conftest import ADMIN
from tests.integration.camunda.models import review_and_charge

pytestmark = pytest.mark.db

AUTH = HTTPBasicAuth(*ADMIN)


def _call(request, **kwargs):  # noqa: ANN001, ANN202 (pycamunda's request objects)
    request.auth = AUTH
    return request(**kwargs)


def test_pycamunda_deploys_starts_lists_claims_and_completes(engine_rest: str) -> None:
    create = pycamunda.deployment.Create(engine_rest, name="invoice", source="pycamunda",
                                         enable_duplicate_filtering=True)
    create.add_resource(("invoice_flow.bpmn", review_and_charge().encode()))
    deployment = _call(create)
    (definition,) = deployment.deployed_process_definitions.values()
    assert definition.key == "invoice_flow"
    assert deployment.deployment_time is not None

    listed = _call(pycamunda.processdef.GetList(engine_rest, key="invoice_flow", latest_version=True))
    assert [d.id_ for d in listed] == [definition.id_]

    start = pycamunda.processdef.StartInstance(engine_rest, key="invoice_flow", business_key="INV-7")
    start.add_variable("customer", "ООО Ромашка")
    start.add_variable("amount", 1200, type_="Long")
    instance = _call(start)
    assert instance.business_key == "INV-7"

    running = _call(pycamunda.processinst.GetList(engine_rest, business_key="INV-7"))
    assert [i.id_ for i in running] == [instance.id_]

    (task,) = _call(pycamunda.task.GetList(engine_rest, process_instance_id=instance.id_, candidate_group="admin"))
    assert task.task_definition_key == "Review"
    assert task.process_definition_id == definition.id_
    assert task.assignee is None
    assert task.created is not None

    _call(pycamunda.task.Claim(engine_rest, id_=task.id_, user_id=ADMIN[0]))
    assert _call(pycamunda.task.Get(engine_rest, id_=task.id_)).assignee == ADMIN[0]
    assert _call(pycamunda.task.GetList(engine_rest, assignee=ADMIN[0]))[0].id_ == task.id_

    complete = pycamunda.task.Complete(engine_rest, id_=task.id_, with_variables_in_return=True)
    complete.add_variable("approved", True)
    complete.add_variable("amount", 1300, type_="Long")
    variables = _call(complete)
    assert variables["approved"].value is True
    assert variables["amount"].value == 1300
    assert variables["customer"].value == "ООО Ромашка"

    assert _call(pycamunda.task.GetList(engine_rest, process_instance_id=instance.id_)) == ()
