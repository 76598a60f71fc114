"""Process variables coming in from clients: JSON objects of bounded size, checked against forms."""

from __future__ import annotations

import json
import math
import re
from datetime import date
from typing import Any

from app.engine.data import MAX_VARIABLE_DEPTH, json_safe
from app.errors import InvalidInput, PayloadTooLarge, Problem, ValidationFailed

_NAME = re.compile(r"^[^\W\d]\w*$", re.UNICODE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_TOO_DEEP = "nested deeper than"
# Scripts turn collections into sets and dicts; crafted colliding keys make that quadratic in C code no time
# limit can interrupt, so what enters a script is bounded: 5,000 items cost milliseconds even when they collide.
MAX_COLLECTION_ITEMS = 5_000


def check_variables(variables: Any, *, max_bytes: int) -> dict[str, Any]:
    """Variables must be a JSON object whose keys are usable names in expressions, nested at most
    MAX_VARIABLE_DEPTH levels with at most MAX_COLLECTION_ITEMS items per list or object, within `max_bytes`,
    and storable (finite numbers, no NUL or lone surrogates)."""
    if not isinstance(variables, dict):
        raise InvalidInput("variables must be a JSON object", problems=[Problem("not an object", field="variables")])
    bad = [k for k in variables if not isinstance(k, str) or not _NAME.match(k)]
    if bad:
        raise InvalidInput(
            f"variable names must be identifiers (letters, digits, underscore; not starting with a digit): "
            f"{', '.join(map(repr, bad))}",
            problems=[Problem("not an identifier", field=f"variables.{k}") for k in bad])
    refuse_unstorable(unstorable(variables, "variables"))  # first: too deep a value must not reach json.dumps
    size = len(json.dumps(variables, ensure_ascii=False).encode())
    if size > max_bytes:
        raise PayloadTooLarge(f"variables take {size} bytes; the limit is {max_bytes}")
    return variables


def readable(value: Any) -> Any:
    """A stored value as it may be shown: nesting past MAX_VARIABLE_DEPTH (stored before that limit existed)
    is cut, so no stored value can make a response fail to serialize."""
    return json_safe(value)


def check_text(value: str | None, field: str) -> str | None:
    """Free text that goes into the database (business keys, names): no NUL characters, valid Unicode."""
    if value is not None and ("\x00" in value or _SURROGATE.search(value)):
        raise InvalidInput(f"{field} contains a NUL character or a lone surrogate",
                           problems=[Problem("NUL character or lone surrogate", field=field)])
    return value


def unstorable(value: Any, path: str) -> list[Problem]:
    """What JSON text in the database cannot carry faithfully, by path: nesting deeper than MAX_VARIABLE_DEPTH
    (serializers and parsers recurse), NaN/Infinity (not JSON; PostgreSQL refuses them), NUL characters
    (PostgreSQL text cannot hold them) and lone surrogates (not UTF-8). Iterative: any depth is safe to check."""
    problems: list[Problem] = []
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack and len(problems) < 20:
        item, where, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_VARIABLE_DEPTH:
                problems.append(Problem(f"{_TOO_DEEP} {MAX_VARIABLE_DEPTH} levels", field=_top(where)))
                continue
            if len(item) > MAX_COLLECTION_ITEMS:
                problems.append(Problem(f"holds {len(item)} items; at most {MAX_COLLECTION_ITEMS} "
                                        "in one list or object", field=where))
                continue
            if isinstance(item, dict):
                for key, child in item.items():
                    if _bad_text(str(key)):
                        problems.append(Problem("names must not contain NUL characters or lone surrogates",
                                                field=where))
                    stack.append((child, f"{where}.{key}", depth + 1))
            else:
                stack.extend((child, f"{where}[{n}]", depth + 1) for n, child in enumerate(item))
        elif isinstance(item, float) and not math.isfinite(item):
            problems.append(Problem("numbers must be finite (NaN and Infinity are not JSON)", field=where))
        elif isinstance(item, str) and _bad_text(item):
            problems.append(Problem("text must not contain NUL characters or lone surrogates", field=where))
    return problems


def refuse_unstorable(problems: list[Problem]) -> None:
    """422 for a value nested too deep (well-formed JSON over our limit), 400 for one no database can hold."""
    if problems:
        kind = ValidationFailed if any(p.message.startswith((_TOO_DEEP, "holds")) for p in problems) else InvalidInput
        raise kind(f"{problems[0].field}: {problems[0].message}", problems=problems)


def _bad_text(text: str) -> bool:
    return "\x00" in text or _SURROGATE.search(text) is not None


def _top(path: str) -> str:
    """`variables.deep[0][0]...` -> `variables.deep`: the variable to name, not a kilometre of brackets."""
    match = re.match(r"^[^.\[]+(\.[^.\[]+)?", path)
    return match.group(0) if match else path


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
