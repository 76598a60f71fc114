"""Evaluations per second: our safe evaluator vs plain Python eval (compiled once, and compiled every time).

Run: python bench/bench_expressions.py [seconds-per-measurement]
The safe evaluator caches the checked, compiled form of each text (LRU), so repeated evaluation of the same
condition costs only the interpretation. JUEL/FEEL rows compare against eval of the equivalent Python text.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine.expressions import evaluate  # noqa: E402

DATA: dict[str, Any] = {
    "amount": 1500,
    "approved": True,
    "vip": False,
    "status": "qualified",
    "name": "Ivan Petrov",
    "items": [1, 2, 3, 4, 5],
    "order": {"total": 250.0, "currency": "EUR"},
    "customer": {"region": "EU", "segment": "SMB"},
    "lines": [{"price": 10.0, "qty": 2}, {"price": 5.5, "qty": 4}, {"price": 100.0, "qty": 1}],
}

# (label, our text, equivalent Python text for the eval baseline)
EXPRESSIONS: list[tuple[str, str, str]] = [
    ("compare", "amount > 1000", "amount > 1000"),
    ("and", "amount > 1000 and approved", "amount > 1000 and approved"),
    ("in tuple", "status in ('new', 'qualified')", "status in ('new', 'qualified')"),
    ("subscript arith", "order['total'] * 1.2", "order['total'] * 1.2"),
    ("len call", "len(items) > 0", "len(items) > 0"),
    (
        "sum generator",
        "sum(l['price'] * l['qty'] for l in lines)",
        "sum(l['price'] * l['qty'] for l in lines)",
    ),
    (
        "bool mix",
        "customer['region'] == 'EU' and amount >= 500 or vip",
        "customer['region'] == 'EU' and amount >= 500 or vip",
    ),
    ("conditional", "'big' if amount > 10000 else 'small'", "'big' if amount > 10000 else 'small'"),
    ("methods", "name.lower().startswith('ivan')", "name.lower().startswith('ivan')"),
    ("comprehension", "[i for i in items if i > 2]", "[i for i in items if i > 2]"),
    ("JUEL", "${amount > 1000 && approved}", "amount > 1000 and approved"),
    ("JUEL path", "${order.total > 100}", "order['total'] > 100"),
    ("FEEL", "=amount > 1000 and approved = true", "amount > 1000 and approved == True"),
    ("ISO timer", "PT24H", "'PT24H'"),
]


def rate(fn: Callable[[], Any], seconds: float) -> float:
    """Calls per second of fn, measured for about `seconds`."""
    n, batch = 0, 100
    start = time.perf_counter()
    while True:
        for _ in range(batch):
            fn()
        n += batch
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return n / elapsed
        batch = min(batch * 2, 20000)


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 0.3
    print(f"Python {sys.version.split()[0]}, {seconds:.2f} s per measurement, evaluations per second")
    header = (
        f"{'expression':<16} {'safe (ours)':>12} {'eval compiled':>14} {'eval text':>12} "
        f"{'ours/compiled':>14} "
        f"{'ours/text':>10}"
    )
    print(header)
    print("-" * len(header))
    totals = [0.0, 0.0, 0.0]
    for label, ours, python in EXPRESSIONS:
        assert evaluate(ours, DATA) == eval(python, {"__builtins__": __builtins__}, dict(DATA)), label  # noqa: S307
        code = compile(python, "<bench>", "eval")
        env = {"__builtins__": __builtins__, **DATA}
        safe = rate(lambda t=ours: evaluate(t, DATA), seconds)
        compiled = rate(lambda c=code, g=env: eval(c, g), seconds)  # noqa: S307 -- the baseline being compared
        text = rate(lambda p=python, g=env: eval(p, g), seconds)  # noqa: S307
        for i, v in enumerate((safe, compiled, text)):
            totals[i] += 1 / v
        print(
            f"{label:<16} {safe:>12,.0f} {compiled:>14,.0f} {text:>12,.0f} {safe / compiled:>14.2f} "
            f"{safe / text:>10.2f}"
        )
    n = len(EXPRESSIONS)
    mean = [n / t for t in totals]  # harmonic mean of rates = rate over the whole mix
    print("-" * len(header))
    print(
        f"{'whole mix':<16} {mean[0]:>12,.0f} {mean[1]:>14,.0f} {mean[2]:>12,.0f} {mean[0] / mean[1]:>14.2f} "
        f"{mean[0] / mean[2]:>10.2f}"
    )


if __name__ == "__main__":
    main()
