"""The shape every analytics figure comes back in: named tables of rows (the first is the main one) plus a
summary, so the API, the CSV export and the UI treat all figures alike."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

from app.errors import Problem, ValidationFailed


@dataclass
class Table:
    columns: list[str]
    rows: list[dict[str, Any]]


@dataclass
class Report:
    figure: str
    filters: dict[str, Any]
    tables: dict[str, Table]  # the first is the main table ("items" in JSON)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def main(self) -> str:
        return next(iter(self.tables))

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"figure": self.figure, "filters": self.filters, **self.summary,
                                "items": self.tables[self.main].rows, "total": len(self.tables[self.main].rows)}
        for name, table in self.tables.items():
            if name != self.main:
                body[name] = table.rows
        return body

    def table(self, name: str | None) -> Table:
        if name is None:
            return self.tables[self.main]
        if name not in self.tables:
            message = f"table must be one of {', '.join(self.tables)}"
            raise ValidationFailed(message, problems=[Problem(message, field="table")])
        return self.tables[name]


def to_csv(table: Table, *, delimiter: str = ",") -> bytes:
    """UTF-8 with a byte-order mark: Excel then reads Cyrillic correctly. Lists are joined with '; '."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(table.columns)
    for row in table.rows:
        writer.writerow([_cell(row.get(c)) for c in table.columns])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return _text("; ".join(str(v) for v in value))
    if isinstance(value, dict):
        return _text("; ".join(f"{k}: {v}" for k, v in value.items()))
    if isinstance(value, str):
        return _text(value)
    return value


def _text(value: str) -> str:
    # A cell starting like a formula is run by Excel (CSV injection): lost reasons are typed by users.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
