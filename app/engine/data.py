"""Instance data as JSON: what the API shows and the database stores."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

# JSON nested deeper is not business data, and serializers (pydantic, json, psycopg) recurse on it: the API
# refuses deeper input (services/variables.py) and values a script nests deeper are cut here, so no stored
# value can make a read fail.
MAX_VARIABLE_DEPTH = 32
TOO_DEEP = f"(nested deeper than {MAX_VARIABLE_DEPTH} levels: cut)"


def json_safe(value: Any, _depth: int = 0) -> Any:
    """A JSON-compatible copy: dates become ISO text, sets and tuples lists, anything else unknown is dropped
    to None (task data may hold values a script built that JSON cannot carry); containers nested deeper than
    MAX_VARIABLE_DEPTH become the text TOO_DEEP."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Mapping | list | tuple | set | frozenset) and _depth > MAX_VARIABLE_DEPTH:
        return TOO_DEEP
    if isinstance(value, Mapping):
        return {str(k): json_safe(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, _depth + 1) for v in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return float(value)
    return None
