"""Runtime of the safe evaluator: limits, the evaluation context, size guards, and the allowlists of
functions and methods an expression may call. Nothing here ever calls eval/exec or getattr on user names
outside the allowlists below."""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from app.errors import ExpressionFailed


@dataclass(frozen=True)
class Limits:
    """Bounds for one evaluation or script run.

    `max_size` caps the elements / characters of any one value built; `max_total_size` caps all values built
    in one run together (so a loop cannot pile up many maximal values); `max_int_digits` caps integers (the
    same default as Python's own int<->str limit, so huge multiplications never start); `max_steps` caps loop
    iterations and calls; `max_seconds` is the wall-clock deadline."""

    max_seconds: float = 1.0
    max_size: int = 1_000_000
    max_total_size: int = 10_000_000
    max_steps: int = 1_000_000
    max_int_digits: int = 4300


DEFAULT_LIMITS = Limits()

# Look at the clock after this many units of work (a step, or 1024 elements built / compared).
_CLOCK_EVERY = 64


class Stop(Exception):
    """Raised by the interpreter for break/continue inside scripts (never escapes a run)."""


class BreakLoop(Stop):
    pass


class ContinueLoop(Stop):
    pass


class Meter:
    """The counters of one run, shared by every scope of it (comprehensions get their own variables, not
    their own budget)."""

    __slots__ = ("limits", "text", "deadline", "steps", "built", "until_clock")

    def __init__(self, limits: Limits, text: str) -> None:
        self.limits = limits
        self.text = text
        self.deadline = time.monotonic() + limits.max_seconds
        self.steps = 0
        self.built = 0
        self.until_clock = _CLOCK_EVERY

    def fail(self, detail: str) -> ExpressionFailed:
        return ExpressionFailed(detail, expression=self.text)

    def tick(self) -> None:
        """One loop iteration."""
        self.steps += 1
        if self.steps > self.limits.max_steps:
            raise self.fail(f"expression exceeded {self.limits.max_steps} steps")
        self.until_clock -= 1
        if self.until_clock <= 0:
            self.clock()

    def clock(self) -> None:
        self.until_clock = _CLOCK_EVERY
        if time.monotonic() > self.deadline:
            raise self.fail(f"expression exceeded {self.limits.max_seconds} s")

    def work(self, n: int) -> None:
        """Work proportional to n elements (comparing or scanning a large value)."""
        self.until_clock -= n >> 10
        if self.until_clock <= 0:
            self.clock()

    def built_value(self, n: int) -> None:
        """A new value of n elements exists."""
        self.built += n
        if self.built > self.limits.max_total_size:
            raise self.fail(f"expression built more than {self.limits.max_total_size} elements in total")
        self.work(n)


class Context:
    """One scope of a run: variables (writable), an outer read-only scope, and the shared meter."""

    __slots__ = ("vars", "outer", "limits", "meter", "max_bits", "text", "null_missing")

    def __init__(
        self,
        variables: dict[str, Any],
        outer: Mapping[str, Any] | None,
        limits: Limits,
        text: str,
        null_missing: bool = False,
    ) -> None:
        self.vars = variables
        self.outer = outer
        self.limits = limits
        self.meter = Meter(limits, text)
        # 3.33 bits per decimal digit, rounded up
        self.max_bits = limits.max_int_digits * 10 // 3 + 1
        self.text = text
        self.null_missing = null_missing

    def child(self, variables: dict[str, Any]) -> Context:
        """A scope for a comprehension: sees everything, writes stay local, limits are shared."""
        c = Context.__new__(Context)
        c.vars = variables
        c.outer = self.outer
        c.limits = self.limits
        c.meter = self.meter
        c.max_bits = self.max_bits
        c.text = self.text
        c.null_missing = self.null_missing
        return c

    @property
    def steps(self) -> int:
        return self.meter.steps

    def fail(self, detail: str) -> ExpressionFailed:
        return ExpressionFailed(detail, expression=self.text)

    def tick(self) -> None:
        self.meter.tick()

    def call_tick(self) -> None:
        """A call to an allowed function or method: calls can be costly, so the clock is read every time."""
        self.meter.tick()
        self.meter.clock()

    def too_large(self) -> ExpressionFailed:
        return self.fail(f"value larger than {self.limits.max_size} elements")

    def check_len(self, n: int) -> None:
        if n > self.limits.max_size:
            raise self.too_large()

    def check_int(self, value: Any) -> Any:
        if type(value) is int and value.bit_length() > self.max_bits:
            raise self.fail(f"integer larger than {self.limits.max_int_digits} digits")
        return value

    def check_result(self, value: Any) -> Any:
        """Size check and accounting for a value just built by a call or an operator."""
        t = type(value)
        if t is int:
            return self.check_int(value)
        if t in SIZED_TYPES:
            n = len(value)
            if n > self.limits.max_size:
                raise self.too_large()
            self.meter.built_value(n)
        return value


SIZED_TYPES = (str, list, tuple, dict, set, frozenset, bytes)
CONTAINERS = (list, tuple, dict, set, frozenset)


def deep_size(value: Any, budget: int) -> int:
    """Elements plus characters reachable from value, counting stops once past budget (so cost is bounded)."""
    total = 0
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is str or t is bytes:
            total += len(v) + 2
        elif t is dict:
            total += len(v) + 2
            if total <= budget:
                stack.extend(v.keys())
                stack.extend(v.values())
        elif t in CONTAINERS:
            total += len(v) + 2
            if total <= budget:
                stack.extend(v)
        else:
            total += 24  # numbers, dates, None: a generous upper bound of their text
        if total > budget:
            return total
    return total


def to_text(ctx: Context, value: Any) -> str:
    """str() that refuses before rendering a container whose text would be too large."""
    if type(value) is str:
        return value
    if type(value) in CONTAINERS and deep_size(value, ctx.limits.max_size) > ctx.limits.max_size:
        raise ctx.too_large()
    if type(value) is int and value.bit_length() > ctx.max_bits:
        raise ctx.fail(f"integer larger than {ctx.limits.max_int_digits} digits")
    text = str(value)
    ctx.meter.built_value(len(text))
    return text


# --- size-checked operators -----------------------------------------------------------------------------


def _repeat_count(ctx: Context, seq: Any, n: Any) -> None:
    if type(n) is bool:
        n = int(n)
    if type(n) is int and n > 0:
        length = len(seq) if type(seq) is not dict else 0
        if length and n > ctx.limits.max_size // length:
            raise ctx.too_large()


def op_mul(ctx: Context, a: Any, b: Any) -> Any:
    ta, tb = type(a), type(b)
    if ta in SIZED_TYPES or tb in SIZED_TYPES:
        if ta in SIZED_TYPES:
            _repeat_count(ctx, a, b)
        else:
            _repeat_count(ctx, b, a)
        return ctx.check_result(a * b)
    if ta is int and tb is int and a.bit_length() + b.bit_length() > ctx.max_bits:
        raise ctx.fail(f"integer larger than {ctx.limits.max_int_digits} digits")
    return a * b


def op_add(ctx: Context, a: Any, b: Any) -> Any:
    ta = type(a)
    if ta in SIZED_TYPES and type(b) is ta:
        if len(a) + len(b) > ctx.limits.max_size:
            raise ctx.too_large()
        return ctx.check_result(a + b)
    return ctx.check_int(a + b)


def op_pow(ctx: Context, a: Any, b: Any) -> Any:
    ints = type(a) in (int, bool) and type(b) in (int, bool)
    if ints and b > 0 and abs(a) > 1 and (b > ctx.max_bits or (abs(a).bit_length() - 1) * b > ctx.max_bits):
        raise ctx.fail(f"integer larger than {ctx.limits.max_int_digits} digits")
    return ctx.check_int(a**b)


def op_lshift(ctx: Context, a: Any, b: Any) -> Any:
    ints = type(a) in (int, bool) and type(b) in (int, bool)
    if ints and a and b > 0 and abs(a).bit_length() + b > ctx.max_bits:
        raise ctx.fail(f"integer larger than {ctx.limits.max_int_digits} digits")
    return a << b


def op_mod(ctx: Context, a: Any, b: Any) -> Any:
    if type(a) in (str, bytes):
        # printf-style formatting can pad to any width ('%*d') and reads mappings: not offered
        raise ctx.fail("'%' formatting of strings is not allowed; use str() or an f-string")
    return a % b


def materialize(ctx: Context, iterable: Any) -> list[Any]:
    if type(iterable) in (list, tuple, str, dict, set, frozenset):
        return list(iterable)
    raise ctx.fail(f"cannot iterate over a value of type {type(iterable).__name__}")


def iterate(ctx: Context, value: Any) -> Iterable[Any]:
    """What a for loop or comprehension may iterate over: plain data containers only."""
    t = type(value)
    if t in (list, tuple, str, set, frozenset):
        return list(value) if t in (set, frozenset) else value
    if t is dict:
        return list(value)
    raise ctx.fail(f"cannot iterate over a value of type {t.__name__}")
