"""The allowlists: functions callable by name, and methods/attributes per exact value type. Each entry takes
the evaluation context first and is size-checked before or after building its result."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from app.engine.expressions_runtime import SIZED_TYPES, Context, materialize, op_add, to_text

# --- allowlisted functions ------------------------------------------------------------------------------
# Each takes the context first; results are size-checked by the caller with ctx.check_result.


def f_range(ctx: Context, *args: int) -> list[int]:
    if not all(type(a) in (int, bool) for a in args):
        raise ctx.fail("range() takes integers")
    r = range(*args)
    ctx.check_len(len(r))
    return list(r)


def f_sum(ctx: Context, iterable: Any, start: Any = 0) -> Any:
    if type(start) not in (int, float, bool, timedelta):
        raise ctx.fail("sum() adds numbers or durations only")
    total = start
    for item in materialize(ctx, iterable):
        total = op_add(ctx, total, item)
    return total


def f_str(ctx: Context, value: Any = "") -> str:
    return to_text(ctx, value)


def f_sorted(ctx: Context, iterable: Any, *, reverse: bool = False) -> list[Any]:
    return sorted(materialize(ctx, iterable), reverse=bool(reverse))


def f_min(ctx: Context, *args: Any, **kwargs: Any) -> Any:
    return min(*_args_or_iterable(ctx, args), **_only(ctx, kwargs, "default"))


def f_max(ctx: Context, *args: Any, **kwargs: Any) -> Any:
    return max(*_args_or_iterable(ctx, args), **_only(ctx, kwargs, "default"))


def _args_or_iterable(ctx: Context, args: tuple[Any, ...]) -> tuple[Any, ...]:
    if len(args) == 1:
        return (materialize(ctx, args[0]),)
    return args


def _only(ctx: Context, kwargs: dict[str, Any], *allowed: str) -> dict[str, Any]:
    for k in kwargs:
        if k not in allowed:
            raise ctx.fail(f"keyword argument '{k}' is not allowed here")
    return kwargs


def f_int(ctx: Context, value: Any = 0, *args: Any) -> int:
    if type(value) is float and not math.isfinite(value):
        raise ctx.fail("cannot convert an infinite or NaN float to int")
    return ctx.check_int(int(value, *args))


def f_round(ctx: Context, value: Any, ndigits: Any = None) -> Any:
    if ndigits is None:
        return round(value)
    if type(ndigits) is not int or abs(ndigits) > 400:
        raise ctx.fail("round() takes a small integer number of digits")
    return round(value, ndigits)


def f_list(ctx: Context, iterable: Any = ()) -> list[Any]:
    return materialize(ctx, iterable)


def f_tuple(ctx: Context, iterable: Any = ()) -> tuple[Any, ...]:
    return tuple(materialize(ctx, iterable))


def f_set(ctx: Context, iterable: Any = ()) -> set[Any]:
    return set(materialize(ctx, iterable))


def f_dict(ctx: Context, *args: Any, **kwargs: Any) -> dict[Any, Any]:
    if args:
        if len(args) > 1:
            raise ctx.fail("dict() takes at most one positional argument")
        src = args[0]
        result = dict(src) if type(src) is dict else dict(materialize(ctx, src))
    else:
        result = {}
    result.update(kwargs)
    return result


def f_enumerate(ctx: Context, iterable: Any, start: int = 0) -> list[tuple[int, Any]]:
    return list(enumerate(materialize(ctx, iterable), start))


def f_zip(ctx: Context, *iterables: Any) -> list[tuple[Any, ...]]:
    return list(zip(*(materialize(ctx, i) for i in iterables), strict=False))


def f_reversed(ctx: Context, iterable: Any) -> list[Any]:
    return materialize(ctx, iterable)[::-1]


def f_is_empty(ctx: Context, value: Any) -> bool:
    """JUEL `empty`: null, an empty string, list or map."""
    if value is None:
        return True
    if type(value) in SIZED_TYPES:
        return len(value) == 0
    return False


def f_now(ctx: Context) -> datetime:
    return datetime.now(UTC)


def f_today(ctx: Context) -> date:
    return datetime.now(UTC).date()


def f_date(ctx: Context, *args: Any) -> date:
    if len(args) == 1 and type(args[0]) is str:
        return date.fromisoformat(args[0])
    if len(args) == 1 and type(args[0]) is datetime:
        return args[0].date()
    return date(*args)


def f_datetime(ctx: Context, *args: Any) -> datetime:
    if len(args) == 1 and type(args[0]) is str:
        value = datetime.fromisoformat(args[0])
    elif len(args) == 2 and type(args[0]) is date and type(args[1]) is dtime:
        value = datetime.combine(args[0], args[1])
    else:
        value = datetime(*args)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def f_timedelta(ctx: Context, **kwargs: Any) -> timedelta:
    return timedelta(**_only(ctx, kwargs, "weeks", "days", "hours", "minutes", "seconds"))


def f_days(ctx: Context, n: Any) -> timedelta:
    return timedelta(days=n)


def f_hours(ctx: Context, n: Any) -> timedelta:
    return timedelta(hours=n)


def f_minutes(ctx: Context, n: Any) -> timedelta:
    return timedelta(minutes=n)


def f_seconds(ctx: Context, n: Any) -> timedelta:
    return timedelta(seconds=n)


def f_not(ctx: Context, value: Any) -> bool:
    return not value


def f_contains(ctx: Context, container: Any, item: Any) -> bool:
    return item in container


def f_starts_with(ctx: Context, s: str, prefix: str) -> bool:
    return s.startswith(prefix)


def f_ends_with(ctx: Context, s: str, suffix: str) -> bool:
    return s.endswith(suffix)


def f_upper(ctx: Context, s: str) -> str:
    return s.upper()


def f_lower(ctx: Context, s: str) -> str:
    return s.lower()


def f_feel_index(ctx: Context, seq: Any, index: Any) -> Any:
    """FEEL list access is 1-based (negative counts from the end) and yields null when out of range."""
    if type(index) is not int or index == 0 or type(seq) not in (list, tuple, str):
        return None
    i = index - 1 if index > 0 else index
    return seq[i] if -len(seq) <= i < len(seq) else None


Function = Callable[..., Any]

# Callable by name from any dialect.
FUNCTIONS: dict[str, Function] = {
    "len": lambda ctx, x: len(x),
    "min": f_min,
    "max": f_max,
    "sum": f_sum,
    "abs": lambda ctx, x: abs(x),
    "round": f_round,
    "str": f_str,
    "int": f_int,
    "float": lambda ctx, x=0.0: float(x),
    "bool": lambda ctx, x=False: bool(x),
    "sorted": f_sorted,
    "any": lambda ctx, x: any(materialize(ctx, x)),
    "all": lambda ctx, x: all(materialize(ctx, x)),
    "list": f_list,
    "tuple": f_tuple,
    "set": f_set,
    "dict": f_dict,
    "range": f_range,
    "enumerate": f_enumerate,
    "zip": f_zip,
    "reversed": f_reversed,
    "now": f_now,
    "today": f_today,
    "date": f_date,
    "datetime": f_datetime,
    "timedelta": f_timedelta,
    "days": f_days,
    "hours": f_hours,
    "minutes": f_minutes,
    "seconds": f_seconds,
    "is_empty": f_is_empty,
}

# Only reachable from JUEL/FEEL translations (user text cannot name anything starting with '_').
INTERNAL_FUNCTIONS: dict[str, Function] = {
    "_not": f_not,
    "_text": lambda ctx, x: "" if x is None else to_text(ctx, x),
    "_feel_index": f_feel_index,
    "_contains": f_contains,
    "_starts_with": f_starts_with,
    "_ends_with": f_ends_with,
    "_upper": f_upper,
    "_lower": f_lower,
    "_count": lambda ctx, x: len(x),
    "_duration": lambda ctx, text: parse_duration(ctx, text),
}


_DURATION_PARTS = re.compile(
    r"^P(?!$)(?:(?P<weeks>\d+(?:\.\d+)?)W)?(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(ctx: Context, text: Any) -> timedelta:
    """FEEL duration("P1DT2H"): days-and-time durations only (months have no fixed length)."""
    m = _DURATION_PARTS.match(text) if type(text) is str else None
    if m is None:
        raise ctx.fail(f"not a days-and-time ISO 8601 duration: {text!r}")
    return timedelta(**{k: float(v) for k, v in m.groupdict().items() if v is not None})


# --- allowlisted methods and attributes -----------------------------------------------------------------
# Looked up by exact type, never by isinstance, so a subclass cannot smuggle an override in.


def _m_replace(ctx: Context, s: str, old: str, new: str, count: int = -1) -> str:
    if type(old) is not str or type(new) is not str:
        raise ctx.fail("str.replace() takes strings")
    n = (len(s) + 1) if old == "" else s.count(old)
    if count >= 0:
        n = min(n, count)
    ctx.check_len(len(s) + n * (len(new) - len(old)))
    return s.replace(old, new, count)


def _m_join(ctx: Context, sep: str, iterable: Any) -> str:
    parts = materialize(ctx, iterable)
    if not all(type(p) is str for p in parts):
        raise ctx.fail("str.join() takes a list of strings")
    ctx.check_len(sum(len(p) for p in parts) + len(sep) * max(len(parts) - 1, 0))
    return sep.join(parts)


def _m_strftime(ctx: Context, value: date, fmt: str) -> str:
    ctx.check_len(len(fmt) * 32)
    return value.strftime(fmt)


def _m_list_append(ctx: Context, lst: list[Any], item: Any) -> None:
    ctx.check_len(len(lst) + 1)
    lst.append(item)


def _m_list_extend(ctx: Context, lst: list[Any], items: Any) -> None:
    items = materialize(ctx, items)
    ctx.check_len(len(lst) + len(items))
    lst.extend(items)


def _m_list_insert(ctx: Context, lst: list[Any], index: int, item: Any) -> None:
    ctx.check_len(len(lst) + 1)
    lst.insert(index, item)


def _m_list_sort(ctx: Context, lst: list[Any], *, reverse: bool = False) -> None:
    lst.sort(reverse=bool(reverse))


def _m_update(ctx: Context, target: Any, *args: Any, **kwargs: Any) -> None:
    add = sum(len(a) for a in args if type(a) in SIZED_TYPES) + len(kwargs)
    ctx.check_len(len(target) + add)
    target.update(*args, **kwargs)


def _m_set_add(ctx: Context, s: set[Any], item: Any) -> None:
    ctx.check_len(len(s) + 1)
    s.add(item)


def _method(name: str) -> Function:
    """A plain pass-through to a builtin method whose result is at most as large as its inputs."""
    return lambda ctx, obj, *args, **kwargs: getattr(obj, name)(*args, **kwargs)


_STR_SAME_SIZE = [
    "lower",
    "upper",
    "strip",
    "lstrip",
    "rstrip",
    "startswith",
    "endswith",
    "split",
    "rsplit",
    "splitlines",
    "find",
    "rfind",
    "index",
    "rindex",
    "count",
    "isdigit",
    "isalpha",
    "isalnum",
    "isspace",
    "islower",
    "isupper",
    "isnumeric",
    "isdecimal",
    "title",
    "capitalize",
    "casefold",
    "partition",
    "rpartition",
    "removeprefix",
    "removesuffix",
    "swapcase",
]

METHODS: dict[type, dict[str, Function]] = {
    str: {**{n: _method(n) for n in _STR_SAME_SIZE}, "replace": _m_replace, "join": _m_join},
    list: {
        **{n: _method(n) for n in ("index", "count", "copy", "pop", "remove", "clear", "reverse")},
        "append": _m_list_append,
        "extend": _m_list_extend,
        "insert": _m_list_insert,
        "sort": _m_list_sort,
    },
    tuple: {n: _method(n) for n in ("index", "count")},
    dict: {
        "get": _method("get"),
        "keys": lambda ctx, d: list(d.keys()),
        "values": lambda ctx, d: list(d.values()),
        "items": lambda ctx, d: list(d.items()),
        "copy": _method("copy"),
        "pop": _method("pop"),
        "setdefault": lambda ctx, d, k, v=None: (ctx.check_len(len(d) + 1), d.setdefault(k, v))[1],
        "update": _m_update,
        "clear": _method("clear"),
    },
    set: {
        **{
            n: _method(n)
            for n in (
                "union",
                "intersection",
                "difference",
                "symmetric_difference",
                "issubset",
                "issuperset",
                "isdisjoint",
                "copy",
                "discard",
                "remove",
                "clear",
                "pop",
            )
        },
        "add": _m_set_add,
        "update": _m_update,
    },
    datetime: {
        **{n: _method(n) for n in ("isoformat", "date", "weekday", "isoweekday", "timestamp", "replace")},
        "strftime": _m_strftime,
    },
    date: {
        **{n: _method(n) for n in ("isoformat", "weekday", "isoweekday", "replace")},
        "strftime": _m_strftime,
    },
    timedelta: {"total_seconds": _method("total_seconds")},
}
METHODS[frozenset] = {
    n: METHODS[set][n]
    for n in (
        "union",
        "intersection",
        "difference",
        "symmetric_difference",
        "issubset",
        "issuperset",
        "isdisjoint",
        "copy",
    )
}

# Methods that change their object: refused in expressions (conditions must not have side effects).
MUTATING_METHODS = frozenset(
    [
        "append",
        "extend",
        "insert",
        "pop",
        "remove",
        "clear",
        "reverse",
        "sort",
        "setdefault",
        "update",
        "add",
        "discard",
    ]
)

# Plain data attributes (no call).
ATTRIBUTES: dict[type, frozenset[str]] = {
    datetime: frozenset(["year", "month", "day", "hour", "minute", "second", "microsecond"]),
    date: frozenset(["year", "month", "day"]),
    timedelta: frozenset(["days", "seconds", "microseconds"]),
}

ALL_METHOD_NAMES = frozenset(name for methods in METHODS.values() for name in methods)

# Names that are refused at check time even as dict keys, so the error says so up front.
FORBIDDEN_ATTRIBUTES = frozenset(
    [
        "format",
        "format_map",
        "mro",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "co_code",
        "func_globals",
        "func_code",
        "im_func",
        "tb_frame",
        "tb_next",
    ]
)
