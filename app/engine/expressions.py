"""Safe expressions and scripts: the one place that decides the dialect of a text, checks it, and runs it.

Dialects (decided by `detect_dialect`):
- FEEL (Camunda 8): the text starts with `=`, e.g. `=amount > 1000`.
- JUEL (Camunda 7): `${...}` / `#{...}`, e.g. `${amount > 1000}`; text mixed with `${...}` is a string
  template.
- ISO 8601 timer text as Camunda Modeler writes it (`PT24H`, `2026-12-01T09:00:00Z`, `R3/PT1H`): that string.
- otherwise a Python subset, e.g. `amount > 1000 and region in ('EU', 'US')`.
Scripts (script tasks) are always the Python subset plus assignment, if/elif/else, for, pass, break, continue,
del. Nothing is ever passed to eval/exec/compile: texts are parsed to an AST and interpreted by
`expressions_compiler`, which allows only whitelisted nodes, functions and methods.
"""

from __future__ import annotations

import ast
import textwrap
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from app.engine.dialect_feel import parse_feel
from app.engine.dialect_juel import parse_juel
from app.engine.dialects import is_iso8601
from app.engine.expressions_compiler import compile_expression
from app.engine.expressions_runtime import DEFAULT_LIMITS, Context, Limits
from app.engine.expressions_statements import compile_script
from app.errors import ExpressionFailed

__all__ = [
    "ExpressionFailed",
    "ExpressionSyntaxError",
    "Limits",
    "check_expression",
    "check_script",
    "detect_dialect",
    "evaluate",
    "execute_script",
    "is_expression_text",
]

Dialect = Literal["python", "juel", "feel", "iso8601"]

MAX_TEXT = 100_000  # characters; longer text is refused before parsing (the parser recurses on long chains)


class ExpressionSyntaxError(ExpressionFailed):
    """The text does not parse (as opposed to parsing but using a forbidden construct)."""


@dataclass(frozen=True)
class Program:
    text: str
    dialect: Dialect
    run: Callable[[Context], Any]
    null_missing: bool  # FEEL: unknown names and paths on null are null


def detect_dialect(text: str) -> Dialect:
    stripped = text.strip()
    if stripped.startswith("="):
        return "feel"
    if stripped.startswith(("${", "#{")):
        return "juel"
    if is_iso8601(stripped):
        return "iso8601"
    if ("${" in text or "#{" in text) and not _parses_as_python(stripped):
        return "juel"  # a template such as `Hello ${name}`
    return "python"


def is_expression_text(text: str) -> bool:
    """Whether a plain attribute value (assignee, candidate groups, due date...) is an expression to evaluate
    rather than a literal: `${...}`/`#{...}` anywhere, or a leading `=`."""
    return "${" in text or "#{" in text or text.lstrip().startswith("=")


def _parses_as_python(text: str) -> bool:
    try:
        ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _python_tree(text: str, mode: Literal["eval", "exec"]) -> ast.AST:
    if len(text) > MAX_TEXT:
        raise ExpressionFailed(f"text longer than {MAX_TEXT} characters", expression=text)
    try:
        return ast.parse(text, mode=mode)
    except SyntaxError as e:
        where = f" (line {e.lineno}, column {e.offset})" if e.lineno else ""
        raise ExpressionSyntaxError(f"does not parse: {e.msg}{where}", expression=text) from None
    except (ValueError, RecursionError, MemoryError) as e:
        raise ExpressionSyntaxError(f"does not parse: {type(e).__name__}: {e}", expression=text) from None


@lru_cache(maxsize=4096)
def _compile_expression(text: str) -> Program:
    if not text or not text.strip():
        raise ExpressionSyntaxError("empty expression", expression=text)
    if len(text) > MAX_TEXT:
        raise ExpressionFailed(f"text longer than {MAX_TEXT} characters", expression=text)
    dialect = detect_dialect(text)
    if dialect == "iso8601":
        literal = text.strip()
        return Program(text, dialect, lambda ctx: literal, False)
    if dialect == "python":
        tree = _python_tree(text.strip(), "eval")
        assert isinstance(tree, ast.Expression)
        return Program(text, dialect, compile_expression(tree, text), False)
    try:
        node = parse_juel(text.strip()) if dialect == "juel" else parse_feel(text.strip())
    except RecursionError:
        raise ExpressionSyntaxError("expression nested too deeply", expression=text) from None
    except ExpressionFailed as e:
        raise ExpressionSyntaxError(e.detail, expression=text) from None
    run = compile_expression(ast.Expression(body=node), text, internal=True)
    return Program(text, dialect, run, dialect == "feel")


@lru_cache(maxsize=1024)
def _compile_script(text: str) -> Program:
    tree = _python_tree(textwrap.dedent(text), "exec")  # scripts in hand-written XML are often indented
    assert isinstance(tree, ast.Module)
    return Program(text, "python", compile_script(tree, text), False)


def check_expression(text: str) -> None:
    """Raise ExpressionFailed (ExpressionSyntaxError when it does not parse) unless `text` is an allowed
    expression in one of the dialects."""
    _compile_expression(text)


def check_script(text: str) -> None:
    """Raise ExpressionFailed unless `text` is an allowed script."""
    _compile_script(text)


def _run(program: Program, ctx: Context) -> Any:
    try:
        return program.run(ctx)
    except ExpressionFailed:
        raise
    except RecursionError:
        raise ctx.fail("value or expression nested too deeply") from None
    except MemoryError:
        raise ctx.fail("out of memory") from None
    except KeyError as e:
        raise ctx.fail(f"key {e.args[0]!r} not found" if e.args else "key not found") from None
    except Exception as e:  # anything the data raises (TypeError, ZeroDivisionError, ...) is the text's fault
        raise ctx.fail(f"{type(e).__name__}: {e}") from None


def evaluate(
    text: str,
    data: Mapping[str, Any],
    *,
    limits: Limits | None = None,
    outer: Mapping[str, Any] | None = None,
) -> Any:
    """Evaluate an expression over `data` (names resolve in `data`, then in `outer`). Never changes data."""
    program = _compile_expression(text)
    if program.dialect == "iso8601":
        return program.run(None)  # type: ignore[arg-type]
    variables = data if type(data) is dict else dict(data)
    ctx = Context(variables, outer, limits or DEFAULT_LIMITS, text, program.null_missing)
    return _run(program, ctx)


def _copy_data(value: Any) -> Any:
    """Copy the containers of task data; leave other values (numbers, strings, dates, anything odd) shared."""
    t = type(value)
    if t is dict:
        return {k: _copy_data(v) for k, v in value.items()}
    if t is list:
        return [_copy_data(v) for v in value]
    if t is set:
        return {_copy_data(v) for v in value}
    if t is tuple:
        return tuple(_copy_data(v) for v in value)
    return value


MAX_DATA_DEPTH = 100


def _check_depth(value: Any, text: str) -> None:
    """Refuse script results nested so deeply that copying or serializing them would overflow the stack."""
    stack = [(value, 0)]
    while stack:
        v, depth = stack.pop()
        t = type(v)
        if t is dict or t is list or t is tuple or t is set:
            if depth >= MAX_DATA_DEPTH:
                raise ExpressionFailed(
                    f"script built a value nested deeper than {MAX_DATA_DEPTH} levels", expression=text
                )
            stack.extend((c, depth + 1) for c in (v.values() if t is dict else v))


def execute_script(
    text: str,
    data: dict[str, Any],
    *,
    limits: Limits | None = None,
    outer: Mapping[str, Any] | None = None,
) -> None:
    """Run a script: assignments become variables in `data`. The script works on a copy, so a script that
    fails leaves `data` exactly as it was."""
    program = _compile_script(text)
    try:
        work = _copy_data(data)
    except RecursionError:
        raise ExpressionFailed("task data nested too deeply to run a script on", expression=text) from None
    ctx = Context(work, outer, limits or DEFAULT_LIMITS, text)
    _run(program, ctx)
    _check_depth(work, text)
    data.clear()
    data.update(work)
