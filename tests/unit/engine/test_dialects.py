"""Each operator written in the Python subset, JUEL and FEEL gives the same result on the same data."""

from __future__ import annotations

from typing import Any

import pytest

from app.engine.expressions import check_expression, detect_dialect, evaluate
from app.errors import ExpressionFailed

DATA: dict[str, Any] = {
    "a": 5,
    "b": 3,
    "s": "abc",
    "flag": True,
    "off": False,
    "none": None,
    "items": [1, 2, 3],
    "empty_list": [],
    "order": {"total": 10, "lines": [{"qty": 2}]},
    "name": "Ivan",
}

# operator -> (python, [JUEL forms], [FEEL forms], expected)
TABLE: dict[str, tuple[str, list[str], list[str], Any]] = {
    "equal": ("a == 5", ["${a == 5}", "${a eq 5}"], ["=a = 5"], True),
    "not-equal": ("a != 3", ["${a != 3}", "${a ne 3}"], ["=a != 3"], True),
    "less": ("b < a", ["${b < a}", "${b lt a}"], ["=b < a"], True),
    "greater": ("b > a", ["${b > a}", "${b gt a}"], ["=b > a"], False),
    "less-equal": ("a <= 5", ["${a <= 5}", "${a le 5}"], ["=a <= 5"], True),
    "greater-equal": ("b >= 4", ["${b >= 4}", "${b ge 4}"], ["=b >= 4"], False),
    "and": ("flag and a > 1", ["${flag && a > 1}", "${flag and a > 1}"], ["=flag and a > 1"], True),
    "or": ("off or b > 5", ["${off || b > 5}", "${off or b > 5}"], ["=off or b > 5"], False),
    "not": ("not flag", ["${!flag}", "${not flag}"], ["=not(flag)"], False),
    "null": ("none is None", ["${none == null}"], ["=none = null"], True),
    "not-null": ("s is not None", ["${s != null}"], ["=s != null"], True),
    "empty": ("len(empty_list) == 0", ["${empty empty_list}"], ["=count(empty_list) = 0"], True),
    "not-empty": ("len(items) > 0", ["${!empty items}", "${not empty items}"], ["=count(items) > 0"], True),
    "true-literal": ("flag == True", ["${flag == true}"], ["= flag = true"], True),
    "false-literal": ("off == False", ["${off == false}"], ["=off = false"], True),
    "add-mul": ("a + b * 2", ["${a + b * 2}"], ["=a + b * 2"], 11),
    "sub": ("a - b", ["${a - b}"], ["=a - b"], 2),
    "div": ("a / 2", ["${a / 2}", "${a div 2}"], ["=a / 2"], 2.5),
    "mod": ("a % b", ["${a % b}", "${a mod b}"], [], 2),
    "power": ("a ** 2", [], ["=a ** 2"], 25),
    "negate": ("-a", ["${-a}"], ["=-a"], -5),
    "parentheses": ("(a + b) * 2", ["${(a + b) * 2}"], ["=(a + b) * 2"], 16),
    "string-equal": ("s == 'abc'", ["${s == 'abc'}", '${s == "abc"}'], ['=s = "abc"'], True),
    "string-concat": ("s + 'd'", [], ['=s + "d"'], "abcd"),
    "path": ("order.total", ["${order.total}"], ["=order.total"], 10),
    "nested-path": (
        "order['lines'][0]['qty']",
        ["${order.lines[0].qty}", "${order['lines'][0]['qty']}"],
        ["=order.lines[1].qty"],
        2,
    ),
    "index": ("items[0]", ["${items[0]}"], ["=items[1]"], 1),
    "conditional": (
        "'big' if a > 4 else 'small'",
        ["${a > 4 ? 'big' : 'small'}"],
        ['=if a > 4 then "big" else "small"'],
        "big",
    ),
    "membership": ("2 in items", ["${items.contains(2)}"], ["=list contains(items, 2)", "=2 in items"], True),
    "length": ("len(s)", ["${s.length()}", "${items.size() == 3 ? 3 : 0}"], ["=string length(s)"], 3),
    "upper": ("s.upper()", ["${s.toUpperCase()}"], ["=upper case(s)"], "ABC"),
    "between": ("1 <= a <= 10", ["${a >= 1 && a <= 10}"], ["=a between 1 and 10"], True),
    "list-literal": ("[1, 2]", ["${[1, 2]}"], ["=[1, 2]"], [1, 2]),
}


def cases() -> list[tuple[str, str, str, Any]]:
    out = []
    for op, (python, juel, feel, expected) in TABLE.items():
        out.append((op, "python", python, expected))
        out += [(op, "juel", text, expected) for text in juel]
        out += [(op, "feel", text, expected) for text in feel]
    return out


@pytest.mark.parametrize(
    ("op", "dialect", "text", "expected"), cases(), ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(cases())]
)
def test_operator_gives_same_result_in_every_dialect(op: str, dialect: str, text: str, expected: Any) -> None:
    assert detect_dialect(text) == dialect
    check_expression(text)
    assert evaluate(text, DATA) == expected


def test_every_operator_has_all_three_dialects_except_documented_gaps() -> None:
    gaps = {op for op, (_, juel, feel, _e) in TABLE.items() if not juel or not feel}
    assert gaps == {"mod", "power", "string-concat"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello ${name}!", "Hello Ivan!"),
        ("${name} has ${a} items", "Ivan has 5 items"),
        ("missing: [${none}]", "missing: []"),
        ("  ${a}  ", 5),
        ("#{a + 1}", 6),
    ],
)
def test_juel_template_and_full_expression_forms(text: str, expected: Any) -> None:
    assert evaluate(text, DATA) == expected


def test_python_string_containing_dollar_brace_stays_python() -> None:
    assert detect_dialect("'price: ${x}'") == "python"
    assert evaluate("'price: ${x}'", {}) == "price: ${x}"


def test_feel_unknown_names_and_paths_are_null_but_python_and_juel_unknown_names_fail() -> None:
    assert evaluate("=missing = null", {}) is True
    assert evaluate("=order.nothing.deeper", DATA) is None
    with pytest.raises(ExpressionFailed, match="name 'missing' is not defined"):
        evaluate("missing", {})
    with pytest.raises(ExpressionFailed, match="name 'missing' is not defined"):
        evaluate("${missing}", {})


def test_feel_list_filter_and_quantifiers() -> None:
    assert evaluate("=items[item > 1]", DATA) == [2, 3]
    assert evaluate("=items[-1]", DATA) == 3
    assert evaluate("=items[7]", DATA) is None
    assert evaluate("=for i in items return i * 2", DATA) == [2, 4, 6]
    assert evaluate("=some i in items satisfies i > 2", DATA) is True
    assert evaluate("=every i in items satisfies i > 2", DATA) is False
    assert evaluate('={total: a * 2, "label": s}', DATA) == {"total": 10, "label": "abc"}


def test_juel_execution_get_variable_reads_the_variable() -> None:
    assert evaluate("${execution.getVariable('a') > 4}", DATA) is True


@pytest.mark.parametrize(
    "text",
    [
        "PT24H",
        "P3D",
        "P1DT2H",
        "PT1S",
        "P1Y2M",
        "P2W",
        "2026-12-01T09:00:00Z",
        "2026-12-01T09:00:00+03:00",
        "2026-12-01",
        "R3/PT1H",
        "R/P1D",
        "R3/2026-12-01T09:00:00Z/PT1H",
        "  PT24H\n",
    ],
)
def test_bare_iso8601_timer_text_evaluates_to_itself(text: str) -> None:
    assert detect_dialect(text) == "iso8601"
    check_expression(text)
    assert evaluate(text, {}) == text.strip()


@pytest.mark.parametrize(
    ("text", "data", "expected"),
    [
        ('"PT1H"', {}, "PT1H"),
        ("${wait}", {"wait": "PT2H"}, "PT2H"),
        ("=wait", {"wait": "P1D"}, "P1D"),
        ("'PT' + str(hours) + 'H'", {"hours": 4}, "PT4H"),
        ("PT${hours}H", {"hours": 4}, "PT4H"),
    ],
)
def test_timer_expressions_that_produce_iso_text(text: str, data: dict[str, Any], expected: str) -> None:
    assert evaluate(text, data) == expected


@pytest.mark.parametrize(
    "text",
    ["${a >}", "${", "=a ==", "=unknownfn(1)", "a >", "${a ? 1}", "=if a then 1", "", "   "],
)
def test_text_that_does_not_parse_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(ExpressionFailed) as e:
        check_expression(text)
    assert e.value.detail


def test_indented_script_from_xml_runs() -> None:
    from app.engine.expressions import execute_script

    data: dict[str, Any] = {"a": 2}
    execute_script("\n        b = a * 2\n        if b > 3:\n            c = 'big'\n", data)
    assert data == {"a": 2, "b": 4, "c": "big"}
