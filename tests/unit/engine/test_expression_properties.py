"""Property tests: generated arithmetic/comparison/boolean expressions agree with Python's own semantics, and
their JUEL and FEEL renderings agree with the Python subset."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.expressions import evaluate
from app.errors import ExpressionFailed

NAMES = ("a", "b", "c")


@dataclass(frozen=True)
class Node:
    op: str  # "num", "var", "neg", binary/comparison/boolean operators, "not"
    children: tuple[Node, ...] = ()
    value: Any = None


ARITH = ("+", "-", "*")
COMPARE = ("==", "!=", "<", "<=", ">", ">=")


def numbers() -> st.SearchStrategy[Node]:
    leaf = st.one_of(
        st.integers(min_value=-1000, max_value=1000).map(lambda v: Node("num", value=v)),
        st.sampled_from(NAMES).map(lambda n: Node("var", value=n)),
    )
    return st.recursive(
        leaf,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(ARITH), inner, inner).map(lambda t: Node(t[0], (t[1], t[2]))),
            inner.map(lambda n: Node("neg", (n,))),
        ),
        max_leaves=12,
    )


def booleans() -> st.SearchStrategy[Node]:
    comparison = st.tuples(st.sampled_from(COMPARE), numbers(), numbers()).map(
        lambda t: Node(t[0], (t[1], t[2]))
    )
    return st.recursive(
        comparison,
        lambda inner: st.one_of(
            st.tuples(st.sampled_from(("and", "or")), inner, inner).map(lambda t: Node(t[0], (t[1], t[2]))),
            inner.map(lambda n: Node("not", (n,))),
        ),
        max_leaves=6,
    )


def render(node: Node, dialect: str) -> str:
    """Fully parenthesized text in one dialect."""
    if node.op == "num":
        return f"({node.value})"
    if node.op == "var":
        return node.value
    sub = [render(c, dialect) for c in node.children]
    if node.op == "neg":
        return f"(-{sub[0]})"
    if node.op == "not":
        return {"python": f"(not {sub[0]})", "juel": f"(!{sub[0]})", "feel": f"not({sub[0]})"}[dialect]
    op = node.op
    if dialect == "juel":
        op = {"and": "&&", "or": "||"}.get(op, op)
    if dialect == "feel":
        op = {"==": "="}.get(op, op)
    return f"({sub[0]} {op} {sub[1]})"


def wrap(text: str, dialect: str) -> str:
    return {"python": text, "juel": "${" + text + "}", "feel": "=" + text}[dialect]


ENV = st.fixed_dictionaries({n: st.integers(min_value=-(10**6), max_value=10**6) for n in NAMES})


@settings(max_examples=300, deadline=None)
@given(tree=numbers(), data=ENV)
def test_arithmetic_agrees_with_python(tree: Node, data: dict[str, int]) -> None:
    text = render(tree, "python")
    expected = eval(text, {"__builtins__": {}}, dict(data))  # noqa: S307 -- our own generated text, the oracle
    assert evaluate(text, data) == expected


@settings(max_examples=300, deadline=None)
@given(tree=booleans(), data=ENV)
def test_boolean_logic_agrees_with_python_in_every_dialect(tree: Node, data: dict[str, int]) -> None:
    expected = bool(eval(render(tree, "python"), {"__builtins__": {}}, dict(data)))  # noqa: S307
    for dialect in ("python", "juel", "feel"):
        assert bool(evaluate(wrap(render(tree, dialect), dialect), data)) == expected, dialect


@settings(max_examples=200, deadline=None)
@given(
    a=st.integers(min_value=-(10**30), max_value=10**30), b=st.integers(min_value=-(10**30), max_value=10**30)
)
def test_division_and_modulo_match_python_or_fail_cleanly_on_zero(a: int, b: int) -> None:
    for text, oracle in (("a // b", lambda: a // b), ("a % b", lambda: a % b), ("a / b", lambda: a / b)):
        try:
            expected = oracle()
        except ZeroDivisionError:
            try:
                evaluate(text, {"a": a, "b": b})
            except ExpressionFailed as e:
                assert "ZeroDivisionError" in e.detail
            else:
                raise AssertionError("division by zero did not fail")
        else:
            assert evaluate(text, {"a": a, "b": b}) == expected


@settings(max_examples=200, deadline=None)
@given(base=st.integers(min_value=-50, max_value=50), exponent=st.integers(min_value=0, max_value=5000))
def test_power_either_matches_python_or_is_refused_for_size(base: int, exponent: int) -> None:
    expected = base**exponent
    try:
        result = evaluate("x ** y", {"x": base, "y": exponent})
    except ExpressionFailed as e:
        assert "digits" in e.detail
        assert (
            abs(expected).bit_length() > 4300 * 3.3
        )  # refused only when the result really has > 4300 digits
    else:
        assert result == expected
