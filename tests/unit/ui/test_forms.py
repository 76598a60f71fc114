from __future__ import annotations

import pytest

from app.errors import Problem, ValidationFailed
from app.services.variables import validate_form
from app.ui import i18n
from app.ui.forms import field_errors, field_views, parse_submission

FORM = [
    {"id": "company", "label": "Компания", "type": "string", "required": True, "maxlength": 5},
    {"id": "amount", "label": "Сумма", "type": "long", "required": True, "min": 0, "max": 100},
    {"id": "rate", "type": "double"},
    {"id": "signed", "type": "boolean"},
    {"id": "due", "type": "date"},
    {"id": "stage", "type": "enum", "options": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]},
    {"id": "note", "type": "string", "readonly": True},
]


def test_submitted_text_becomes_typed_variables() -> None:
    variables, shown = parse_submission(FORM, {"company": "Ромашка", "amount": " 1 000 ", "rate": "2,5",
                                               "signed": "true", "due": "2026-12-01", "stage": "b", "note": "x"})
    assert variables == {"company": "Ромашка", "amount": 1000, "rate": 2.5, "signed": True, "due": "2026-12-01",
                         "stage": "b"}
    assert shown["amount"] == " 1 000 " and "note" not in shown


def test_empty_inputs_are_left_to_the_service_and_an_unchecked_box_is_false() -> None:
    variables, _ = parse_submission(FORM, {"company": "  ", "amount": ""})
    assert variables == {"signed": False}


def test_text_in_a_number_field_reaches_the_service_which_names_the_field() -> None:
    variables, _ = parse_submission(FORM, {"company": "Рома", "amount": "много"})
    with pytest.raises(ValidationFailed) as caught:
        validate_form(FORM, variables)
    i18n.activate("ru")
    by_field, general = field_errors(caught.value)
    assert by_field == {"amount": "Введите целое число."} and general == []


@pytest.mark.parametrize(("values", "field", "ru", "en"), [
    ({"amount": 5}, "company", "Заполните это поле.", "Fill in this field."),
    ({"company": "Ромашка!", "amount": 5}, "company", "Введите не больше 5 символов.", "Enter at most 5 characters."),
    ({"company": "Р", "amount": 500}, "amount", "Значение должно быть не больше 100.",
     "The value must be at most 100."),
    ({"company": "Р", "amount": 5, "stage": "z"}, "stage", "Выберите один из вариантов.", "Choose one of the options."),
    ({"company": "Р", "amount": 5, "due": "завтра"}, "due", "Введите дату.", "Enter a date."),
])
def test_service_problems_read_in_the_users_language(values: dict, field: str, ru: str, en: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_form(FORM, values)
    i18n.activate("ru")
    assert field_errors(caught.value)[0][field] == ru
    i18n.activate("en")
    assert field_errors(caught.value)[0][field] == en


def test_a_problem_without_a_field_is_shown_above_the_form() -> None:
    error = ValidationFailed("something else", problems=[Problem("the instance is busy")])
    assert field_errors(error) == ({}, ["the instance is busy"])


def test_fields_carry_the_models_constraints_and_current_values() -> None:
    views = {v.id: v for v in field_views(FORM, {"amount": 7, "due": "2026-12-01T00:00:00"}, {"amount": "bad"})}
    assert views["amount"].input_type == "number" and views["amount"].step == "1" and views["amount"].max == 100
    assert views["amount"].text_value == "7" and views["amount"].error == "bad"
    assert views["due"].input_type == "date" and views["due"].text_value == "2026-12-01"
    assert views["signed"].input_type == "checkbox" and not views["signed"].checked
    assert views["stage"].input_type == "select" and views["company"].label == "Компания"
    assert views["rate"].label == "rate"
