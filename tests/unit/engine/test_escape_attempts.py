"""Escape attempts: each must be refused at check (deploy) time or fail at run time, with nothing happening:
no file touched, no process started, no code executed, no module imported, data unchanged, evaluator
healthy."""

from __future__ import annotations

import copy
import json
import os
import random
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.engine.expressions import Limits, check_expression, check_script, evaluate, execute_script
from app.errors import ExpressionFailed
from tests.unit.engine.conftest import SideEffects

SENTINEL = "/tmp/voronka-escape-sentinel"

# (id, kind, phase, text): kind is "expr" or "script"; phase "check" = refused when checked (deploy time),
# "run" = passes the check but is stopped while running.
ATTEMPTS: list[tuple[str, str, str, str]] = [
    ("dunder-import", "expr", "check", "__import__('os')"),
    ("dunder-import-system", "expr", "check", f"__import__('os').system('touch {SENTINEL}')"),
    ("subclasses-walk", "expr", "check", "().__class__.__base__.__subclasses__()"),
    ("class-of-data", "expr", "check", "x.__class__"),
    ("function-globals", "expr", "check", "f.__globals__"),
    ("lambda-code", "expr", "check", "(lambda: 0).__code__"),
    ("format-attribute-walk", "expr", "check", "'{0.__class__}'.format(x)"),
    ("format-map", "expr", "check", "'{a.__class__}'.format_map(d)"),
    ("open-passwd", "expr", "check", "open('/etc/passwd').read()"),
    ("open-write", "expr", "check", f"open('{SENTINEL}', 'w')"),
    ("while-true", "script", "check", "while True:\n    pass"),
    ("string-repeat-huge", "expr", "run", "'a' * 10**10"),
    ("list-repeat-huge", "expr", "run", "[0] * 10**9"),
    ("power-tower", "expr", "run", "10**10**10"),
    ("big-power", "expr", "run", "7 ** 100000"),
    ("huge-shift", "expr", "run", "1 << 10**8"),
    ("getattr", "expr", "check", "getattr(x, '__class__')"),
    ("vars", "expr", "check", "vars()"),
    ("globals", "expr", "check", "globals()['__builtins__']"),
    ("locals", "expr", "check", "locals()"),
    ("type", "expr", "check", "type(x)"),
    ("eval", "expr", "check", "eval('1')"),
    ("exec", "expr", "check", "exec('import os')"),
    ("compile", "expr", "check", "compile('1', 'f', 'eval')"),
    ("breakpoint", "expr", "check", "breakpoint()"),
    ("generator-frame", "expr", "check", "(y for y in []).gi_frame"),
    ("generator-frame-globals", "expr", "check", "(y for y in []).gi_frame.f_globals"),
    ("comprehension-class", "expr", "check", "[y for y in []].__class__"),
    ("dict-class", "expr", "check", "{}.__class__"),
    ("list-mro", "expr", "check", "[].__class__.__mro__"),
    ("mro-method", "expr", "check", "s.mro()"),
    ("import-statement", "script", "check", "import os"),
    ("from-import", "script", "check", "from os import system"),
    ("dunder-subscript", "expr", "run", "d['__class__']"),
    ("getattribute", "expr", "check", "s.__getattribute__('upper')"),
    ("module-attribute-walk", "expr", "run", "mod.codecs.sys"),
    ("module-private", "expr", "check", "rnd._os"),
    ("module-os-via-uuid", "expr", "check", "uid.os.system('true')"),
    ("module-os-attribute", "expr", "run", "uid.os"),
    ("datetime-tzinfo", "expr", "run", "now().tzinfo"),
    ("builtin-self", "expr", "check", "len.__self__"),
    ("bound-method-self", "expr", "check", "s.upper.__self__"),
    ("reduce", "expr", "check", "now().__reduce__()"),
    ("def", "script", "check", "def f():\n    return 1"),
    ("class", "script", "check", "class A:\n    pass"),
    ("global", "script", "check", "global x\nx = 1"),
    ("with-open", "script", "check", "with open('/etc/passwd') as fh:\n    pass"),
    ("try-except", "script", "check", "try:\n    pass\nexcept Exception:\n    pass"),
    ("walrus", "expr", "check", "(y := 1)"),
    ("lambda-in-script", "script", "check", "g = lambda: 0"),
    ("raise", "script", "check", "raise SystemExit(1)"),
    ("deep-nesting", "expr", "check", "[" * 150 + "1" + "]" * 150),
    ("deep-unary", "expr", "check", "-" * 300 + "1"),
    ("long-chain-recursion", "expr", "check", "+".join(["1"] * 100_000)),
    ("printf-width", "expr", "run", "'%*d' % (10**9, 1)"),
    ("fstring-width", "expr", "check", "f'{x:>1000000000}'"),
    ("fstring-computed-spec", "expr", "check", "f'{x:{w}}'"),
    ("replace-blowup", "expr", "run", "('ab' * 1000).replace('', 'y' * 100000)"),
    ("join-blowup", "expr", "run", "'-'.join(['a' * 900000, 'b' * 900000])"),
    ("str-of-shared-list", "expr", "run", "str([s1000] * 1000000)"),
    ("dict-attribute", "expr", "check", "x.__dict__"),
    ("init-globals", "expr", "check", "x.__init__.__globals__"),
    ("store-dunder", "script", "check", "d.__class__ = 1"),
    ("juel-getclass", "expr", "check", "${''.getClass().forName('java.lang.Runtime')}"),
    ("juel-dunder", "expr", "check", "${x.__class__}"),
    ("feel-dunder", "expr", "check", "=x.__class__"),
    ("sum-lists", "expr", "run", "sum([[1]] * 10, [])"),
    ("range-huge", "expr", "run", "max(range(10**10))"),
    ("list-range-huge", "expr", "run", "list(range(10**7))"),
    ("bytes", "expr", "check", "bytes(10**10)"),
    ("builtins-name", "expr", "check", "__builtins__"),
    ("mutation-in-condition", "expr", "check", "items.append(1) or True"),
    ("print", "expr", "check", "print('x')"),
    ("super", "expr", "check", "super()"),
    ("object", "expr", "check", "object()"),
    ("call-function-from-data", "expr", "check", f"f('touch {SENTINEL}')"),
    ("call-class-from-data", "expr", "check", f"popen(['touch', '{SENTINEL}'])"),
    ("call-subscripted-value", "expr", "check", "fns[0]('x')"),
    ("append-forever", "script", "run", "for i in items:\n    items.append(i)"),
    (
        "nested-loops-time",
        "script",
        "run",
        "n = 0\nfor a in range(1000):\n    for b in range(1000):\n"
        "        for c in range(1000):\n            n += 1",
    ),
    ("comprehension-explosion", "expr", "run", "[0 for a in range(100000) for b in range(100000)]"),
    ("self-nesting", "script", "run", "a = []\nfor i in range(100000):\n    a = [a]\nb = str(a)"),
    ("self-nesting-stored", "script", "run", "a = []\nfor i in range(100000):\n    a = [a]"),
    ("dict-grow", "script", "run", "for i in range(2000000):\n    d[i] = i"),
    ("int-from-huge-string", "expr", "run", "int('9' * 100000)"),
    ("delete-builtins", "script", "check", "del __builtins__"),
    ("keyword-unpack", "expr", "check", "dict(**d)"),
    ("star-call", "expr", "check", "max(*items)"),
    ("async", "script", "check", "async def f():\n    pass"),
    ("yield", "script", "check", "x = (yield)"),
    ("assert", "script", "check", "assert False"),
    ("memory-pile-up", "expr", "run", "[big + 'x' for i in range(1000)]"),
    ("memory-pile-up-script", "script", "run",
     "keep = []\nfor i in range(1000):\n    keep.append(big + str(i))"),
    ("expensive-calls-in-loop", "script", "run", "for i in range(1000000):\n    m = max(long)"),
    ("scan-in-loop", "expr", "run", "[i for i in range(1000000) if -1 in long]"),
]


def make_data() -> dict[str, Any]:
    return {
        "x": 5,
        "w": 10**9,
        "s": "abc",
        "s1000": "a" * 1000,
        "d": {"a": 1},
        "items": [1, 2, 3],
        "f": os.system,
        "popen": subprocess.Popen,
        "fns": [os.system],
        "mod": json,
        "rnd": random,
        "uid": uuid,
        "big": "b" * 900_000,
        "long": list(range(200_000)),
    }


def test_attempt_ids_are_distinct_and_at_least_forty() -> None:
    assert len({a[0] for a in ATTEMPTS}) == len(ATTEMPTS) >= 40
    assert len({a[3] for a in ATTEMPTS}) == len(ATTEMPTS)


@pytest.mark.parametrize(("kind", "phase", "text"), [a[1:] for a in ATTEMPTS], ids=[a[0] for a in ATTEMPTS])
def test_escape_attempt_is_refused_and_nothing_happens(
    kind: str, phase: str, text: str, side_effects: SideEffects
) -> None:
    Path(SENTINEL).unlink(missing_ok=True)
    data = make_data()
    before = {
        k: (v if callable(v) or type(v).__name__ == "module" else copy.deepcopy(v)) for k, v in data.items()
    }
    check = check_script if kind == "script" else check_expression
    limits = Limits(max_seconds=0.5)

    with side_effects:
        if phase == "check":
            with pytest.raises(ExpressionFailed) as refused:
                check(text)
        else:
            check(text)  # allowed syntax: the stop must come while running
            with pytest.raises(ExpressionFailed) as refused:
                if kind == "script":
                    execute_script(text, data, limits=limits)
                else:
                    evaluate(text, data, limits=limits)

    assert refused.value.detail  # a reason is given
    assert refused.value.expression == text
    assert side_effects.events == []  # no file opened, no process, no exec, no import, no frame access
    assert not Path(SENTINEL).exists()
    assert data == before  # a failed script leaves data exactly as it was
    assert evaluate("x + 1", data) == 6  # and the evaluator still answers


@pytest.mark.parametrize(
    ("kind", "phase", "text"),
    [a[1:] for a in ATTEMPTS if a[2] == "check"],
    ids=[a[0] for a in ATTEMPTS if a[2] == "check"],
)
def test_attempt_refused_at_check_time_is_also_refused_when_run_directly(
    kind: str, phase: str, text: str
) -> None:
    data = make_data()
    with pytest.raises(ExpressionFailed):
        if kind == "script":
            execute_script(text, data)
        else:
            evaluate(text, data)


def test_refusal_names_the_construct_and_where() -> None:
    with pytest.raises(ExpressionFailed) as e:
        check_script("a = 1\nb = x.__class__")
    assert "__class__" in e.value.detail
    assert "line 2" in e.value.detail
    with pytest.raises(ExpressionFailed) as e:
        check_script("while True:\n    pass")
    assert "while" in e.value.detail


def test_time_limit_message_and_it_stops_promptly() -> None:
    import time

    start = time.monotonic()
    with pytest.raises(ExpressionFailed, match=r"exceeded 0\.2 s"):
        execute_script(
            "n = 0\nfor a in range(100000):\n    for b in range(100000):\n        n += 1",
            {},
            limits=Limits(max_seconds=0.2, max_steps=10**12),
        )
    assert time.monotonic() - start < 1.0


def test_total_size_limit_message() -> None:
    with pytest.raises(ExpressionFailed, match="built more than 5000 elements in total"):
        evaluate("[s * 1000 for i in range(10)]", {"s": "ab"}, limits=Limits(max_total_size=5000))


def test_size_limit_message() -> None:
    with pytest.raises(ExpressionFailed, match="value larger than 1000 elements"):
        evaluate("[0] * 1001", {}, limits=Limits(max_size=1000))
    assert evaluate("[0] * 1000", {}, limits=Limits(max_size=1000)) == [0] * 1000
