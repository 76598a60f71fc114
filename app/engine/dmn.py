"""DMN files -> decision tables we can store as JSON and evaluate with the safe evaluator (`dmn_eval.py`).

Read with the hardened XML parser; DMN 1.1 to 1.5 namespaces (Camunda Modeler writes 1.3). Every decision with a
decision table becomes a decision definition keyed by its id; a decision's required decisions (a DRD) travel
with it, so one stored row evaluates on its own. Refusals name the file, line and element.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lxml import etree

from app.engine.xml import parse_xml
from app.errors import InvalidModel, Problem

DMN_NAMESPACES = (
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    "https://www.omg.org/spec/DMN/20191111/MODEL/",
    "https://www.omg.org/spec/DMN/20211108/MODEL/",
    "https://www.omg.org/spec/DMN/20230324/MODEL/",
)
DMN_ROOTS = frozenset(f"{{{ns}}}definitions" for ns in DMN_NAMESPACES)
HIT_POLICIES = ("UNIQUE", "FIRST", "PRIORITY", "ANY", "COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")


def is_dmn_file(filename: str) -> bool:
    name = filename.lower()
    return name.endswith((".dmn", ".dmn11.xml"))


@dataclass
class Input:
    label: str
    expression: str
    type_ref: str | None = None


@dataclass
class Output:
    name: str
    label: str | None = None
    type_ref: str | None = None
    values: list[str] = field(default_factory=list)  # outputValues: the priority order (PRIORITY, OUTPUT ORDER)


@dataclass
class Rule:
    id: str
    row: int
    inputs: list[str]
    outputs: list[str]
    description: str | None = None


@dataclass
class DecisionTable:
    key: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: list[Input]
    outputs: list[Output]
    rules: list[Rule]
    required: list[str] = field(default_factory=list)  # ids of required decisions, evaluated first

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DecisionTable:
        return cls(key=data["key"], name=data["name"], hit_policy=data["hit_policy"],
                   aggregation=data.get("aggregation"), inputs=[Input(**i) for i in data["inputs"]],
                   outputs=[Output(**o) for o in data["outputs"]], rules=[Rule(**r) for r in data["rules"]],
                   required=list(data.get("required") or []))


@dataclass
class ParsedDecision:
    """One decision of an upload: its table and the tables of every decision it requires (by key)."""

    key: str
    name: str
    filename: str
    table: DecisionTable
    requirements: dict[str, DecisionTable]

    def stored(self) -> dict[str, Any]:
        return {"table": self.table.as_dict(),
                "requirements": {k: t.as_dict() for k, t in self.requirements.items()}}


def _text(element: etree._Element | None, path: str, ns: dict[str, str]) -> str:
    if element is None:
        return ""
    found = element.find(path, ns)
    return (found.text or "").strip() if found is not None else ""


class _File:
    def __init__(self, filename: str, tree: etree._ElementTree) -> None:
        self.filename = filename
        root = tree.getroot()
        self.ns = {"d": etree.QName(root).namespace or ""}
        self.root = root
        self.problems: list[Problem] = []

    def problem(self, element: etree._Element, message: str) -> None:
        owner = element
        while owner is not None and owner.get("id") is None:
            owner = owner.getparent()
        self.problems.append(Problem(message, file=self.filename, line=element.sourceline,
                                     element_id=owner.get("id") if owner is not None else None))

    def tables(self) -> dict[str, DecisionTable]:
        tables: dict[str, DecisionTable] = {}
        for decision in self.root.findall("d:decision", self.ns):
            table = self._table(decision)
            if table is not None:
                tables[table.key] = table
        return tables

    def _table(self, decision: etree._Element) -> DecisionTable | None:
        key = decision.get("id") or ""
        element = decision.find("d:decisionTable", self.ns)
        if element is None:
            kind = next((etree.QName(c).localname for c in decision if isinstance(c.tag, str)
                         and etree.QName(c).localname not in ("informationRequirement", "authorityRequirement",
                                                              "knowledgeRequirement", "variable",
                                                              "extensionElements", "description")), "nothing")
            self.problem(decision, f"decision {key!r} is a {kind}, not a decision table: only decision tables "
                                   "are supported; model it as a table")
            return None
        hit_policy = (element.get("hitPolicy") or "UNIQUE").upper()
        aggregation = (element.get("aggregation") or "").upper() or None
        if hit_policy not in HIT_POLICIES:
            self.problem(element, f"hit policy {hit_policy!r} is unknown; use one of {', '.join(HIT_POLICIES)}")
        if aggregation and (hit_policy != "COLLECT" or aggregation not in AGGREGATIONS):
            self.problem(element, f"aggregation {aggregation!r} needs hit policy COLLECT and one of "
                                  f"{', '.join(AGGREGATIONS)}")
        inputs = [Input(label=i.get("label") or i.get("id") or f"input {n + 1}",
                        expression=_text(i, "d:inputExpression/d:text", self.ns),
                        type_ref=(i.find("d:inputExpression", self.ns).get("typeRef")
                                  if i.find("d:inputExpression", self.ns) is not None else None))
                  for n, i in enumerate(element.findall("d:input", self.ns))]
        for n, i in enumerate(element.findall("d:input", self.ns)):
            if not inputs[n].expression:
                self.problem(i, f"input {inputs[n].label!r} has no input expression: name the variable it reads")
        outputs = [Output(name=o.get("name") or o.get("label") or o.get("id") or f"output{n + 1}",
                          label=o.get("label"), type_ref=o.get("typeRef"),
                          values=_split_values(_text(o, "d:outputValues/d:text", self.ns)))
                   for n, o in enumerate(element.findall("d:output", self.ns))]
        if not outputs:
            self.problem(element, "the decision table has no output column")
        if aggregation and len(outputs) > 1:
            self.problem(element, f"aggregation {aggregation} works on one output column; this table has "
                                  f"{len(outputs)}")
        rules = []
        for row, rule in enumerate(element.findall("d:rule", self.ns), start=1):
            entries = [(e.findtext("d:text", "", self.ns) or "").strip()
                       for e in rule.findall("d:inputEntry", self.ns)]
            results = [(e.findtext("d:text", "", self.ns) or "").strip()
                       for e in rule.findall("d:outputEntry", self.ns)]
            if len(entries) != len(inputs) or len(results) != len(outputs):
                self.problem(rule, f"rule {row} has {len(entries)} input and {len(results)} output entries; the "
                                   f"table has {len(inputs)} inputs and {len(outputs)} outputs")
            rules.append(Rule(id=rule.get("id") or f"row {row}", row=row, inputs=entries, outputs=results,
                              description=_text(rule, "d:description", self.ns) or None))
        required = [(r.get("href") or "").lstrip("#")
                    for r in decision.findall("d:informationRequirement/d:requiredDecision", self.ns)]
        return DecisionTable(key=key, name=decision.get("name") or key, hit_policy=hit_policy,
                             aggregation=aggregation, inputs=inputs, outputs=outputs, rules=rules,
                             required=[r for r in required if r])


def _split_values(text: str) -> list[str]:
    """`"a","b", "c"` -> ['"a"', '"b"', '"c"'] (commas inside quotes kept)."""
    from app.engine.dmn_eval import split_top_level

    return [part.strip() for part in split_top_level(text)] if text else []


def parse_dmn_files(files: list[tuple[str, bytes]], *, max_bytes: int) -> list[ParsedDecision]:
    """Every decision table of the DMN files of one upload, or InvalidModel naming file, line and element."""
    problems: list[Problem] = []
    parsed: list[ParsedDecision] = []
    for filename, data in files:
        try:
            tree = parse_xml(data, filename=filename, max_bytes=max_bytes, roots=DMN_ROOTS)
        except InvalidModel as exc:
            problems.extend(Problem(p.message.replace("a BPMN 2.0 file", "a DMN file")
                                    .replace("<definitions> in namespace", "DMN <definitions>, not"),
                                    file=p.file, line=p.line) for p in exc.problems)
            continue
        file = _File(filename, tree)
        tables = file.tables()
        if not tables and not file.problems:
            file.problem(file.root, "no decision in this DMN file")
        for table in tables.values():
            missing = [r for r in table.required if r not in tables]
            if missing:
                file.problems.append(Problem(f"decision {table.key!r} requires {', '.join(missing)}, which this "
                                             "file does not define", file=filename, element_id=table.key))
        problems.extend(file.problems)
        for table in tables.values():
            parsed.append(ParsedDecision(table.key, table.name, filename, table, _closure(table, tables)))
    if problems:
        first = problems[0]
        where = ", ".join(x for x in (first.file, f"line {first.line}" if first.line else None,
                                       f"element {first.element_id}" if first.element_id else None) if x)
        raise InvalidModel(f"{where}: {first.message}", problems=problems[:20])
    return parsed


def _closure(table: DecisionTable, tables: dict[str, DecisionTable]) -> dict[str, DecisionTable]:
    found: dict[str, DecisionTable] = {}
    pending = list(table.required)
    while pending:
        key = pending.pop()
        if key in found or key == table.key or key not in tables:
            continue
        found[key] = tables[key]
        pending.extend(tables[key].required)
    return found
