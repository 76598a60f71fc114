"""Evaluate a decision table: input expressions, FEEL unary tests, hit policies, aggregations.

Every text (input expression, test endpoint, output entry) goes through the safe evaluator as FEEL (JUEL when
written `${...}`), never Python `eval`. Unary tests are split here: `-`, lists (`"a","b"`), `not(...)`,
comparisons (`< 10`), ranges (`[1..10]`, `]1..10[`, `(1..10)`); anything else is a value compared for
equality, or, when it mentions `?` / `cellInput`, a boolean test of the input.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.engine.dmn import DecisionTable, Rule
from app.engine.expressions import evaluate
from app.errors import ExpressionFailed

_RANGE = re.compile(r"^([\[\]\(])\s*(.+?)\s*\.\.\s*(.+?)\s*([\[\]\)])$", re.S)
_COMPARISON = re.compile(r"^(<=|>=|<|>|!=)\s*(.+)$", re.S)
_QUESTION = re.compile(r"""\?(?=(?:[^"]*"[^"]*")*[^"]*$)""")


class DecisionFailed(ExpressionFailed):
    """A decision could not be made: a failing expression, or a hit policy the matches break."""


@dataclass
class Evaluation:
    key: str
    inputs: dict[str, Any]
    matched: list[Rule]
    results: list[dict[str, Any]]  # one per matched rule (one in all with an aggregation)
    required: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """What history shows: the inputs, the rules that matched and what came out."""
        return {"decision": self.key, "inputs": self.inputs,
                "matched_rules": [{"id": r.id, "row": r.row, **({"description": r.description}
                                                                 if r.description else {})} for r in self.matched],
                "results": self.results}


def split_top_level(text: str) -> list[str]:
    """Split on commas outside quotes, brackets and parentheses."""
    parts, depth, quoted, start = [], 0, False, 0
    for index, char in enumerate(text):
        if char == '"' and (index == 0 or text[index - 1] != "\\"):
            quoted = not quoted
        elif not quoted and char in "([":
            depth += 1
        elif not quoted and char in ")]":
            depth = max(depth - 1, 0)
        elif not quoted and depth == 0 and char == ",":
            parts.append(text[start:index])
            start = index + 1
    parts.append(text[start:])
    return parts


class _Evaluator:
    def __init__(self, key: str, variables: Mapping[str, Any], limits: Any) -> None:
        self.key = key
        self.variables = dict(variables)
        self.limits = limits

    def value(self, text: str, where: str, extra: Mapping[str, Any] | None = None) -> Any:
        source = text if text.lstrip().startswith(("${", "#{")) else "=" + text
        try:
            return evaluate(source, {**self.variables, **(extra or {})}, limits=self.limits)
        except ExpressionFailed as exc:
            raise DecisionFailed(f"decision {self.key}, {where}: {text!r}: {exc.detail}", expression=text) from None

    def matches(self, test: str, value: Any, where: str) -> bool:
        test = test.strip()
        if test in ("", "-"):
            return True
        negated = re.fullmatch(r"not\s*\((.*)\)", test, re.S)
        if negated:
            return not self.matches(negated.group(1), value, where)
        return any(self._one(part.strip(), value, where) for part in split_top_level(test))

    def _one(self, test: str, value: Any, where: str) -> bool:
        if test.startswith(("${", "#{")) or _QUESTION.search(test) or "cellInput" in test:
            result = self.value(_QUESTION.sub("cellInput", test), where, {"cellInput": value})
            if not isinstance(result, bool):
                raise DecisionFailed(f"decision {self.key}, {where}: test {test!r} is not true or false")
            return result
        found = _RANGE.match(test)
        if found:
            low = _like(self.value(found.group(2), where), value)
            high = _like(self.value(found.group(3), where), value)
            if value is None:
                return False
            above = value >= low if found.group(1) == "[" else value > low
            below = value <= high if found.group(4) == "]" else value < high
            return bool(above and below)
        found = _COMPARISON.match(test)
        if found:
            other = _like(self.value(found.group(2), where), value)
            if found.group(1) == "!=":
                return bool(value != other)
            if value is None or other is None:
                return False
            return bool({"<": value < other, "<=": value <= other, ">": value > other,
                         ">=": value >= other}[found.group(1)])
        return bool(value == _like(self.value(test, where), value))


def _like(endpoint: Any, value: Any) -> Any:
    """Compare dates with dates: an ISO text input meets a `date("...")` test as a date."""
    if isinstance(value, str) and isinstance(endpoint, datetime):
        return endpoint.isoformat()
    if isinstance(value, str) and isinstance(endpoint, date):
        return endpoint.isoformat()
    if isinstance(value, datetime) and isinstance(endpoint, str):
        return datetime.fromisoformat(endpoint)
    if isinstance(value, date) and isinstance(endpoint, str):
        return date.fromisoformat(endpoint)
    return endpoint


def evaluate_decision(table: DecisionTable, variables: Mapping[str, Any], *, limits: Any = None,
                      requirements: Mapping[str, DecisionTable] | None = None) -> Evaluation:
    """Evaluate `table` over `variables`; its required decisions run first and their outputs join the
    variables (one result: its values; several: a list per output)."""
    requirements = requirements or {}
    context = dict(variables)
    required: dict[str, Any] = {}
    for key in table.required:
        sub = evaluate_decision(requirements[key], context, limits=limits, requirements=requirements)
        merged = _merge_required(sub.results)
        context.update(merged)
        required[key] = merged
    evaluator = _Evaluator(table.key, context, limits)
    inputs = {i.label: evaluator.value(i.expression, f"input {i.label!r}") for i in table.inputs}
    values = list(inputs.values())
    matched = [rule for rule in table.rules
               if all(evaluator.matches(test, values[n], f"rule {rule.row}, input {table.inputs[n].label!r}")
                      for n, test in enumerate(rule.inputs[:len(values)]))]
    outputs = [{o.name: (evaluator.value(text, f"rule {rule.row}, output {o.name!r}") if text else None)
                for o, text in zip(table.outputs, rule.outputs, strict=False)} for rule in matched]
    matched, outputs = _apply_hit_policy(table, matched, outputs)
    return Evaluation(table.key, inputs, matched, outputs, required)


def _merge_required(results: list[dict[str, Any]]) -> dict[str, Any]:
    if len(results) == 1:
        return dict(results[0])
    merged: dict[str, list[Any]] = {}
    for result in results:
        for name, value in result.items():
            merged.setdefault(name, []).append(value)
    return merged


def _apply_hit_policy(table: DecisionTable, matched: list[Rule],
                      outputs: list[dict[str, Any]]) -> tuple[list[Rule], list[dict[str, Any]]]:
    policy = table.hit_policy
    rows = ", ".join(str(r.row) for r in matched)
    if policy == "UNIQUE" and len(matched) > 1:
        raise DecisionFailed(f"decision {table.key} (hit policy UNIQUE): rules {rows} all match; exactly one may")
    if policy == "ANY" and any(o != outputs[0] for o in outputs):
        raise DecisionFailed(f"decision {table.key} (hit policy ANY): rules {rows} match with different outputs")
    if policy in ("PRIORITY", "OUTPUT ORDER"):
        order = _priority(table)
        ranked = sorted(zip(matched, outputs, strict=True), key=lambda pair: order(pair[1]))
        matched, outputs = [p[0] for p in ranked], [p[1] for p in ranked]
    if policy in ("UNIQUE", "FIRST", "PRIORITY", "ANY"):
        return matched[:1], outputs[:1]
    if policy == "COLLECT" and table.aggregation:
        name = table.outputs[0].name
        numbers = [o[name] for o in outputs if o.get(name) is not None]
        aggregate: Callable[[list[Any]], Any] = {"SUM": sum, "MIN": min, "MAX": max, "COUNT": len}[table.aggregation]
        if table.aggregation in ("MIN", "MAX") and not numbers:
            return matched, []
        return matched, [{name: aggregate(numbers)}]
    return matched, outputs


def _priority(table: DecisionTable) -> Callable[[dict[str, Any]], tuple[int, ...]]:
    """Rank an output by the position of each value in its column's outputValues (unlisted values last)."""
    columns = []
    for output in table.outputs:
        listed = []
        for text in output.values:
            try:
                listed.append(evaluate("=" + text, {}))
            except ExpressionFailed:
                listed.append(text)
        columns.append((output.name, listed))

    def rank(result: dict[str, Any]) -> tuple[int, ...]:
        return tuple(listed.index(result.get(name)) if result.get(name) in listed else len(listed)
                     for name, listed in columns)

    return rank


# --- how a business rule task stores the result (camunda:mapDecisionResult) -----------------------------

def map_result(evaluation: Evaluation, mapping: str, element_id: str) -> Any:
    results = evaluation.results
    if mapping == "singleEntry":
        if len(results) > 1 or any(len(r) > 1 for r in results):
            raise DecisionFailed(f"{element_id}: mapDecisionResult singleEntry needs at most one result with one "
                                 f"entry; decision {evaluation.key} gave {results!r}")
        return next(iter(results[0].values())) if results else None
    if mapping == "singleResult":
        if len(results) > 1:
            raise DecisionFailed(f"{element_id}: mapDecisionResult singleResult needs at most one result; decision "
                                 f"{evaluation.key} gave {len(results)}")
        return results[0] if results else None
    if mapping == "collectEntries":
        if any(len(r) > 1 for r in results):
            raise DecisionFailed(f"{element_id}: mapDecisionResult collectEntries needs results with one entry")
        return [next(iter(r.values())) for r in results]
    if mapping == "zeebe":  # Camunda 8: one value, a context of several outputs, or a list of those
        single = [next(iter(r.values())) if len(r) == 1 else r for r in results]
        return single if len(single) != 1 or len(evaluation.matched) > 1 else single[0]
    return results  # resultList
