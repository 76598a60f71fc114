"""Process variables coming in from clients: JSON objects of bounded size, checked against forms."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

from app.errors import InvalidInput, PayloadTooLarge, Problem, ValidationFailed

_NAME = re.compile(r"^[^\W\d]\w*$", re.UNICODE)


def check_variables(variables: Any, *, max_bytes: int) -> dict[str, Any]:
    """Variables must be a JSON object whose keys are usable names in expressions."""
    if not isinstance(variables, dict):
        raise InvalidInput("variables must be a JSON object", problems=[Problem("not an object", field="variables")])
    bad = [k for k in variables if not _NAME.match(k)]
    if bad:
        raise InvalidInput(
            f"variable names must be identifiers (letters, digits, underscore; not starting with a digit): "
            f"{', '.join(map(repr, bad))}",
            problems=[Problem("not an identifier", field=f"variables.{k}") for k in bad])
    size = len(json.dumps(variables, ensure_ascii=False).encode())
    if size > max_bytes:
        raise PayloadTooLarge(f"variables take {size} bytes; the limit is {max_bytes}")
    problems = list(_unstorable(variables, "variables"))
    if problems:
        raise InvalidInput(f"{problems[0].field}: {problems[0].message}", problems=problems[:20])
    return variables


def check_text(value: str | None, field: str) -> str | None:
    """Free text that goes into the database (business keys, names): no NUL characters."""
    if value is not None and "\x00" in value:
        raise InvalidInput(f"{field} contains a NUL character", problems=[Problem("NUL character", field=field)])
    return value


def _unstorable(value: Any, path: str) -> Any:
    """Values JSON text cannot carry faithfully: NaN/Infinity (not JSON; PostgreSQL refuses them) and NUL
    characters (PostgreSQL text cannot hold them)."""
    if isinstance(value, float) and not math.isfinite(value):
        yield Problem("numbers must be finite (NaN and Infinity are not JSON)", field=path)
    elif isinstance(value, str) and "\x00" in value:
        yield Problem("text must not contain NUL characters", field=path)
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in str(key):
                yield Problem("names must not contain NUL characters", field=path)
            yield from _unstorable(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable(item, f"{path}[{index}]")


def validate_form(fields: list[dict[str, Any]], variables: dict[str, Any],
                  current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check submitted values against a task's form; returns them with types normalized (dates as ISO text).

    A required field is satisfied by the submission or by a value the instance already holds.
    """
    current = current or {}
    problems: list[Problem] = []
    cleaned = dict(variables)
    for spec in fields:
        name = spec.get("id")
        if not name:
            continue
        present = name in variables and variables[name] not in (None, "")
        if not present:
            if spec.get("required") and current.get(name) in (None, ""):
                problems.append(Problem(f"field '{name}' is required", field=name))
            continue
        try:
            cleaned[name] = _check_field(spec, variables[name])
        except ValueError as exc:
            problems.append(Problem(f"field '{name}': {exc}", field=name))
    if problems:
        raise ValidationFailed("; ".join(p.message for p in problems), problems=problems)
    return cleaned


def _check_field(spec: dict[str, Any], value: Any) -> Any:
    kind = (spec.get("type") or "string").lower()
    if kind == "boolean":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
    elif kind in ("long", "integer", "int"):
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                isinstance(value, float) and not value.is_integer()):
            raise ValueError("must be a whole number")
        value = int(value)
        _check_range(spec, value)
    elif kind in ("double", "number"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError("must be a number")
        _check_range(spec, value)
    elif kind == "date":
        if not isinstance(value, str):
            raise ValueError("must be a date as YYYY-MM-DD text")
        try:
            date.fromisoformat(value[:10])
        except ValueError as exc:
            raise ValueError("must be a date as YYYY-MM-DD text") from exc
    elif kind == "file":  # set by the server from the task's attachments (services.documents)
        if not (isinstance(value, list) and all(isinstance(v, dict) and "document_id" in v for v in value)):
            raise ValueError("attach files to the task instead of sending a value")
    elif kind == "enum":
        options = [o.get("id") for o in spec.get("options") or []]
        if value not in options:
            raise ValueError(f"must be one of {', '.join(map(str, options))}")
    else:
        if not isinstance(value, str):
            raise ValueError("must be text")
        _check_length(spec, value)
    return value


def _check_range(spec: dict[str, Any], value: float) -> None:
    low, high = spec.get("min"), spec.get("max")
    if low is not None and value < float(low):
        raise ValueError(f"must be at least {low}")
    if high is not None and value > float(high):
        raise ValueError(f"must be at most {high}")


def _check_length(spec: dict[str, Any], value: str) -> None:
    low, high = spec.get("minlength"), spec.get("maxlength")
    if low is not None and len(value) < int(low):
        raise ValueError(f"must be at least {low} characters")
    if high is not None and len(value) > int(high):
        raise ValueError(f"must be at most {high} characters")
