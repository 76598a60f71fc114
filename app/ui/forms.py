"""Forms from the model (`camunda:formData`): HTML fields with the model's constraints as attributes (the browser's
check), submitted text turned into typed variables, and the service's per-field problems in the user's language.

The server's check is the service's `validate_form`; nothing here decides whether a value is acceptable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.errors import Problem, ValidationFailed
from app.ui.i18n import N_, gettext_

INTEGER_TYPES = ("long", "integer", "int")
NUMBER_TYPES = ("double", "number")


@dataclass
class FieldView:
    """One form field as the template draws it."""

    id: str
    label: str
    type: str
    required: bool = False
    readonly: bool = False
    min: Any = None
    max: Any = None
    minlength: Any = None
    maxlength: Any = None
    options: list[dict[str, Any]] = field(default_factory=list)
    value: Any = None
    error: str | None = None

    @property
    def input_type(self) -> str:
        if self.type in INTEGER_TYPES or self.type in NUMBER_TYPES:
            return "number"
        return {"date": "date", "boolean": "checkbox", "enum": "select"}.get(self.type, "text")

    @property
    def step(self) -> str:
        return "1" if self.type in INTEGER_TYPES else "any"

    @property
    def text_value(self) -> str:
        """The value as an input's `value` attribute."""
        if self.value is None or isinstance(self.value, bool):
            return ""
        if self.type == "date" and isinstance(self.value, str):
            return self.value[:10]
        return str(self.value)

    @property
    def checked(self) -> bool:
        return self.value is True or (isinstance(self.value, str) and self.value.lower() in ("true", "on", "1"))


def field_views(specs: list[dict[str, Any]], values: Mapping[str, Any],
                errors: Mapping[str, str] | None = None) -> list[FieldView]:
    """Fields with their current values: what was just submitted, else the instance's value, else the default."""
    errors = errors or {}
    views = []
    for spec in specs:
        name = spec.get("id")
        if not name:
            continue
        value = values.get(name, spec.get("default"))
        views.append(FieldView(
            id=name, label=spec.get("label") or name, type=(spec.get("type") or "string").lower(),
            required=bool(spec.get("required")), readonly=bool(spec.get("readonly")),
            min=spec.get("min"), max=spec.get("max"), minlength=spec.get("minlength"),
            maxlength=spec.get("maxlength"), options=list(spec.get("options") or []), value=value,
            error=errors.get(name)))
    return views


def parse_submission(specs: list[dict[str, Any]], form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Typed variables from the submitted text, and the raw values to show again if the service refuses them.

    Empty inputs are left out (the service decides whether that field was required). Text that is not a number in
    a number field is passed on as text, so the service names the field in its problem.
    """
    variables: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    for spec in specs:
        name = spec.get("id")
        if not name or spec.get("readonly"):
            continue
        kind = (spec.get("type") or "string").lower()
        if kind == "boolean":
            # An unchecked box sends nothing: false is a real answer, not a missing one.
            variables[name] = shown[name] = form.get(name) in ("true", "on", "1")
            continue
        raw = form.get(name)
        if not isinstance(raw, str):
            continue
        shown[name] = raw
        text = raw.strip()
        if text == "":
            continue
        if kind in INTEGER_TYPES:
            variables[name] = _integer(text)
        elif kind in NUMBER_TYPES:
            variables[name] = _number(text)
        else:
            variables[name] = raw if kind == "string" else text
    return variables, shown


def _integer(text: str) -> int | str:
    compact = text.replace(" ", "").replace("\u00a0", "")
    return int(compact) if re.fullmatch(r"[+-]?\d{1,18}", compact) else text


def _number(text: str) -> float | int | str:
    compact = text.replace(" ", "").replace("\u00a0", "").replace(",", ".")
    try:
        value = float(compact)
    except ValueError:
        return text
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


# The service's problems are English sentences of a fixed shape; show them in the user's language.
_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"field '.*' is required$"), N_("Fill in this field.")),
    (re.compile(r": must be true or false$"), N_("Choose yes or no.")),
    (re.compile(r": must be a whole number$"), N_("Enter a whole number.")),
    (re.compile(r": must be a number$"), N_("Enter a number.")),
    (re.compile(r": must be a date as YYYY-MM-DD text$"), N_("Enter a date.")),
    (re.compile(r": must be one of .*$"), N_("Choose one of the options.")),
    (re.compile(r": must be text$"), N_("Enter text.")),
    (re.compile(r": must be at least (?P<n>\S+) characters$"), N_("Enter at least %(n)s characters.")),
    (re.compile(r": must be at most (?P<n>\S+) characters$"), N_("Enter at most %(n)s characters.")),
    (re.compile(r": must be at least (?P<n>\S+)$"), N_("The value must be at least %(n)s.")),
    (re.compile(r": must be at most (?P<n>\S+)$"), N_("The value must be at most %(n)s.")),
]


def problem_text(problem: Problem) -> str:
    for pattern, message in _PATTERNS:
        found = pattern.search(problem.message)
        if found:
            return gettext_(message) % found.groupdict() if found.groupdict() else gettext_(message)
    return problem.message


def field_errors(error: ValidationFailed) -> tuple[dict[str, str], list[str]]:
    """Problems by field name, and those that name no field of the form (shown above it)."""
    by_field: dict[str, str] = {}
    general: list[str] = []
    for problem in error.problems:
        if problem.field:
            by_field.setdefault(problem.field.removeprefix("variables."), problem_text(problem))
        else:
            general.append(problem_text(problem))
    if not error.problems:
        general.append(error.detail)
    return by_field, general
