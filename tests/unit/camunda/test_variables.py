"""The typed-variable codec: Camunda's typed values in, plain JSON values stored, typed values out."""

from __future__ import annotations

import pytest

from app.camunda.variables import decode_variables, encode_value, encode_variables, form_variables
from app.errors import InvalidInput


@pytest.mark.parametrize(("typed", "plain"), [
    ({"value": "Иван", "type": "String"}, "Иван"),
    ({"value": True, "type": "Boolean"}, True),
    ({"value": "false", "type": "boolean"}, False),
    ({"value": 42, "type": "Integer"}, 42),
    ({"value": "42", "type": "Long"}, 42),
    ({"value": 7, "type": "Short"}, 7),
    ({"value": 2.5, "type": "Double"}, 2.5),
    ({"value": 3, "type": "Double"}, 3.0),
    ({"value": "2026-11-29T10:00:00.000+0000", "type": "Date"}, "2026-11-29T10:00:00+00:00"),
    ({"value": "2026-11-29T13:00:00.000+0300", "type": "Date"}, "2026-11-29T13:00:00+03:00"),
    ({"value": '{"a": [1, 2]}', "type": "Json"}, {"a": [1, 2]}),
    ({"value": {"a": 1}, "type": "Json"}, {"a": 1}),
    ({"value": '{"x": 1}', "type": "Object",
      "valueInfo": {"objectTypeName": "java.util.HashMap", "serializationDataFormat": "application/json"}}, {"x": 1}),
    ({"value": None, "type": "Null"}, None),
    ({"value": None, "type": "String"}, None),
    ({"value": 5}, 5),
    ({"value": "untyped"}, "untyped"),
    ({"value": 1, "type": None, "valueInfo": None}, 1),
])
def test_typed_values_decode_to_plain_json(typed: dict, plain: object) -> None:
    assert decode_variables({"v": typed}) == {"v": plain}


@pytest.mark.parametrize(("typed", "reason"), [
    ({"value": 5, "type": "String"}, "String needs a text value"),
    ({"value": "yes", "type": "Boolean"}, "Boolean"),
    ({"value": "abc", "type": "Integer"}, "whole number"),
    ({"value": True, "type": "Long"}, "boolean"),
    ({"value": "not json", "type": "Json"}, "JSON text"),
    ({"value": "rO0AB", "type": "Object",
      "valueInfo": {"serializationDataFormat": "application/x-java-serialized-object"}}, "no Java"),
    ({"value": "AAEC", "type": "Bytes"}, "not supported"),
    ({"value": "29.11.2026", "type": "Date"}, "yyyy-MM-dd"),
    ("plain", "expected"),
])
def test_bad_typed_values_are_refused_naming_the_variable(typed: object, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        decode_variables({"amount": typed})
    assert "'amount'" in caught.value.detail
    assert reason in caught.value.detail
    assert caught.value.problems[0].field == "variables.amount"


def test_variables_that_are_not_an_object_are_refused() -> None:
    with pytest.raises(InvalidInput):
        decode_variables(["a"])  # type: ignore[arg-type]


@pytest.mark.parametrize(("plain", "typed"), [
    (None, {"type": "Null", "value": None, "valueInfo": {}}),
    (True, {"type": "Boolean", "value": True, "valueInfo": {}}),
    (7, {"type": "Integer", "value": 7, "valueInfo": {}}),
    (2**40, {"type": "Long", "value": 2**40, "valueInfo": {}}),
    (1.5, {"type": "Double", "value": 1.5, "valueInfo": {}}),
    ("Сделка", {"type": "String", "value": "Сделка", "valueInfo": {}}),
    ({"a": "б"}, {"type": "Json", "value": '{"a": "б"}', "valueInfo": {}}),
    ([1, 2], {"type": "Json", "value": "[1, 2]", "valueInfo": {}}),
])
def test_plain_values_encode_to_camunda_types(plain: object, typed: dict) -> None:
    assert encode_value(plain) == typed


def test_values_round_trip_through_the_codec() -> None:
    plain = {"s": "текст", "b": False, "i": 3, "l": 2**33, "d": 0.25, "j": {"k": [1, None]}, "n": None}
    assert decode_variables(encode_variables(plain)) == plain


def test_encode_variables_can_pick_names() -> None:
    assert set(encode_variables({"a": 1, "b": 2, "c": 3}, {"a", "c"})) == {"a", "c"}


def test_form_variables_type_each_field_and_fall_back_to_defaults() -> None:
    fields = [{"id": "company", "type": "string"}, {"id": "amount", "type": "long", "default": 10},
              {"id": "signed", "type": "boolean"}, {"id": "rate", "type": "double"},
              {"id": "closing", "type": "date"}, {"id": "stage", "type": "enum"}]
    data = {"company": "ООО Ромашка", "rate": 2, "closing": "2026-12-01", "other": 1}
    out = form_variables(fields, data)
    assert out["company"] == {"type": "String", "value": "ООО Ромашка", "valueInfo": {}}
    assert out["amount"] == {"type": "Long", "value": 10, "valueInfo": {}}
    assert out["signed"] == {"type": "Boolean", "value": None, "valueInfo": {}}
    assert out["rate"] == {"type": "Double", "value": 2.0, "valueInfo": {}}
    assert out["closing"] == {"type": "Date", "value": "2026-12-01T00:00:00.000+0000", "valueInfo": {}}
    assert out["stage"]["type"] == "String"
    assert "other" not in out


def test_form_variables_without_a_form_are_all_variables() -> None:
    assert form_variables([], {"x": 1}) == {"x": {"type": "Integer", "value": 1, "valueInfo": {}}}
