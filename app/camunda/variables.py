"""Camunda typed variables <-> our plain JSON variables.

Camunda sends and expects `{"name": {"value": ..., "type": "String", "valueInfo": {...}}}`. We store plain JSON,
so a `Json` or JSON-serialized `Object` value becomes the object it describes, a `Date` becomes ISO 8601 text,
and on the way out each value gets the Camunda type that fits it (objects and lists come back as `Json`).
"""

from __future__ import annotations

import contextlib
import json
import math
from collections.abc import Mapping
from typing import Any

from app.camunda.dates import camunda_date, parse_camunda_date
from app.errors import InvalidInput, Problem
from app.services.documents import is_file_value
from app.services.variables import readable

INT32 = range(-(2**31), 2**31)
_TEXT_TRUE, _TEXT_FALSE = "true", "false"


def decode_variables(typed: Mapping[str, Any] | None, *, where: str = "variables") -> dict[str, Any]:
    """`{"name": {"value", "type", "valueInfo"}}` -> `{"name": value}`; a wrong value names its variable."""
    if typed is None:
        return {}
    if not isinstance(typed, Mapping):
        raise InvalidInput(f"{where} must be an object of typed values", problems=[Problem("not an object",
                                                                                           field=where)])
    return {name: decode_value(name, item, where=where) for name, item in typed.items()}


def decode_value(name: str, item: Any, *, where: str = "variables") -> Any:
    if not isinstance(item, Mapping):
        raise _bad(name, where, 'expected {"value": ..., "type": ...}')
    value = item.get("value")
    kind = (item.get("type") or "").strip().lower()
    if not kind:
        return value  # untyped: Camunda infers the type from the JSON value, and so do we
    if value is None and kind not in ("json", "object"):
        return None
    decoder = _DECODERS.get(kind)
    if decoder is None:
        raise _bad(name, where, f"type {item.get('type')!r} is not supported; use one of "
                                "String, Boolean, Integer, Short, Long, Double, Date, Json, Object (JSON), Null")
    try:
        return decoder(value, item.get("valueInfo") or {})
    except (ValueError, TypeError) as exc:
        raise _bad(name, where, f"{exc}") from None


def encode_value(value: Any) -> dict[str, Any]:
    """One plain value as a Camunda typed value."""
    if value is None:
        return {"type": "Null", "value": None, "valueInfo": {}}
    if isinstance(value, bool):
        return {"type": "Boolean", "value": value, "valueInfo": {}}
    if isinstance(value, int):
        return {"type": "Integer" if value in INT32 else "Long", "value": value, "valueInfo": {}}
    if isinstance(value, float):
        return {"type": "Double", "value": value, "valueInfo": {}}
    if isinstance(value, str):
        return {"type": "String", "value": value, "valueInfo": {}}
    if is_file_value(value):  # a task's file field: the latest file, its bytes at .../variables/{name}/data
        latest = value[-1]
        return {"type": "File", "value": None,
                "valueInfo": {"filename": latest["name"], "mimeType": latest["content_type"], "encoding": None}}
    # Camunda's Json type carries the document as text.
    return {"type": "Json", "value": json.dumps(value, ensure_ascii=False), "valueInfo": {}}


def encode_variables(values: Mapping[str, Any], names: set[str] | None = None) -> dict[str, dict[str, Any]]:
    return {name: encode_value(readable(value)) for name, value in values.items() if names is None or name in names}


def _bad(name: str, where: str, why: str) -> InvalidInput:
    return InvalidInput(f"Cannot read variable '{name}': {why}", problems=[Problem(why, field=f"{where}.{name}")])


def _string(value: Any, _info: Mapping[str, Any]) -> str:
    if not isinstance(value, str):
        raise ValueError(f"type String needs a text value, got {type(value).__name__}")
    return value


def _boolean(value: Any, _info: Mapping[str, Any]) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in (_TEXT_TRUE, _TEXT_FALSE):
        return value.lower() == _TEXT_TRUE
    raise ValueError("type Boolean needs true or false")


def _integer(value: Any, _info: Mapping[str, Any]) -> int:
    if isinstance(value, bool):
        raise ValueError("needs a whole number, got a boolean")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise ValueError(f"needs a whole number, got {value!r}")


def _double(value: Any, _info: Mapping[str, Any]) -> float:
    if isinstance(value, bool):
        raise ValueError("type Double needs a number, got a boolean")
    if isinstance(value, str):
        value = float(value.strip())
    if not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"type Double needs a finite number, got {value!r}")
    return float(value)


def _date(value: Any, _info: Mapping[str, Any]) -> str:
    if not isinstance(value, str):
        raise ValueError("type Date needs text like 2026-11-29T10:00:00.000+0000")
    try:
        return parse_camunda_date(value).isoformat()
    except InvalidInput as exc:
        raise ValueError(exc.detail) from None


def _json(value: Any, _info: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"type Json needs JSON text: {exc.msg} at position {exc.pos}") from None
        except RecursionError:  # the parser recurses; the depth limit itself is checked by the service
            raise ValueError("the JSON document is nested far too deep") from None
    return value  # already a JSON value: accept it as the document


def _object(value: Any, info: Mapping[str, Any]) -> Any:
    data_format = info.get("serializationDataFormat") or "application/json"
    if data_format != "application/json":
        raise ValueError(f"Object values serialized as {data_format} cannot be read here (no Java); "
                         "send type Json, or Object with serializationDataFormat application/json")
    return _json(value, info)


def _null(_value: Any, _info: Mapping[str, Any]) -> None:
    return None


_DECODERS = {
    "string": _string,
    "boolean": _boolean,
    "integer": _integer,
    "short": _integer,
    "long": _integer,
    "double": _double,
    "date": _date,
    "json": _json,
    "object": _object,
    "null": _null,
}



_NUMERIC_FORM_TYPES = {"long": "Long", "integer": "Integer", "double": "Double"}


def form_variables(fields: list[dict[str, Any]], data: Mapping[str, Any],
                   names: set[str] | None = None) -> dict[str, dict[str, Any]]:
    """Camunda's form-variables: each form field's current value (or its default), typed by the field."""
    if not fields:
        return encode_variables(data, names)
    out: dict[str, dict[str, Any]] = {}
    for spec in fields:
        name = spec.get("id")
        if not name or (names is not None and name not in names):
            continue
        out[name] = _form_value((spec.get("type") or "string").lower(), data.get(name, spec.get("default")))
    return out


def _form_value(kind: str, value: Any) -> dict[str, Any]:
    typed = encode_value(value)
    if value is None:
        typed["type"] = {"boolean": "Boolean", "date": "Date", **_NUMERIC_FORM_TYPES}.get(kind, "String")
    elif kind in _NUMERIC_FORM_TYPES and typed["type"] in ("Integer", "Long", "Double"):
        typed["type"] = _NUMERIC_FORM_TYPES[kind]
        typed["value"] = float(value) if kind == "double" else value
    elif kind == "date" and isinstance(value, str):
        with contextlib.suppress(InvalidInput):  # not a date after all: give it back as the text it is
            typed = {"type": "Date", "value": camunda_date(parse_camunda_date(value)), "valueInfo": {}}
    return typed
