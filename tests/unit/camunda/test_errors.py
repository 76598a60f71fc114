"""Domain errors become Camunda's error bodies; parse errors carry the prefix Camunda Modeler looks for."""

from __future__ import annotations

import json

import pytest

from app.camunda.errors import PARSE_ERROR_PREFIX, response_for
from app.errors import Conflict, Forbidden, InvalidInput, InvalidModel, NotAuthenticated, NotFound, Problem


def _body(response) -> dict:  # noqa: ANN001
    return json.loads(response.body)


def test_a_model_error_is_an_engine_09005_parse_exception_naming_element_and_line() -> None:
    error = InvalidModel("2 problems", problems=[
        Problem("camunda:class (a Java delegate) cannot run; use an external task", file="invoice.bpmn", line=42,
                element_id="ServiceTask_Archive"),
        Problem("script format groovy is not supported", file="invoice.bpmn", line=77, element_id="Script_1"),
    ])
    response = response_for(error)
    body = _body(response)
    assert response.status_code == 400
    assert body["type"] == "ParseException"
    assert body["message"].startswith(PARSE_ERROR_PREFIX)
    assert "element ServiceTask_Archive | resource invoice.bpmn | line 42" in body["message"]
    assert "Script_1" in body["message"]
    errors = body["details"]["invoice.bpmn"]["errors"]
    assert [e["mainElementId"] for e in errors] == ["ServiceTask_Archive", "Script_1"]
    assert errors[0]["line"] == 42


@pytest.mark.parametrize(("error", "status", "type_"), [
    (NotFound("task x not found"), 404, "InvalidRequestException"),
    (InvalidInput("bad"), 400, "InvalidRequestException"),
    (Forbidden("no"), 403, "AuthorizationException"),
    (Conflict("task x is already completed"), 409, "ProcessEngineException"),
    (Conflict("the object was changed by another request at the same time; reload and retry"), 409,
     "OptimisticLockingException"),
])
def test_domain_errors_map_to_camunda_types_and_statuses(error: Exception, status: int, type_: str) -> None:
    response = response_for(error)  # type: ignore[arg-type]
    assert response.status_code == status
    assert _body(response) == {"type": type_, "message": error.detail}  # type: ignore[attr-defined]


def test_an_authentication_error_asks_for_credentials() -> None:
    response = response_for(NotAuthenticated("sign in"))
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Basic")
