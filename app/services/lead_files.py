"""Tables of leads as people export them: CSV (any delimiter, UTF-8 or Windows-1251) and XLSX (read-only stream).

A table is a header row and data rows numbered as the spreadsheet shows them (the header is row 1); empty rows
are skipped, keeping the numbering."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.errors import InvalidInput, Problem

DELIMITERS = ";,\t|"
MAX_COLUMNS = 200


@dataclass
class Table:
    headers: list[str]
    rows: Iterator[tuple[int, list[Any]]]  # (row number, cells)


def kind_of(name: str | None, head: bytes) -> str:
    """`xlsx` for a ZIP container (whatever the name says), else `csv`."""
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if name and name.lower().endswith((".xls",)) and head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _refused("old Excel .xls files are not supported: save the sheet as .xlsx or CSV")
    return "csv"


def open_table(path: Path, kind: str) -> Table:
    return _xlsx(path) if kind == "xlsx" else _csv(path)


def count_rows(path: Path, kind: str) -> tuple[list[str], int]:
    table = open_table(path, kind)
    return table.headers, sum(1 for _ in table.rows)


def _csv(path: Path) -> Table:
    data = path.read_bytes()
    text = _decode(data)
    sample = text[:20000]
    try:
        dialect: Any = csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n" + sample, delimiters=DELIMITERS)
    except csv.Error:
        dialect = _by_count(sample)
    reader = csv.reader(io.StringIO(text, newline=""), dialect)
    headers = _headers(next(reader, None))

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in enumerate(reader, start=2):
            if any(c.strip() for c in cells):
                yield number, cells

    return Table(headers, rows())


def _by_count(sample: str) -> type[csv.Dialect]:
    """The sniffer gives up on one-column or irregular files: take the delimiter the header line uses most."""
    first = sample.split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count)

    class Dialect(csv.excel):
        pass

    Dialect.delimiter = delimiter if first.count(delimiter) else ";"
    return Dialect


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data[:4096]:
        raise _refused("the file is neither CSV text nor an XLSX workbook (UTF-16 CSV: save it as UTF-8)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1251", errors="replace")  # Russian Excel's "CSV (разделители — точка с запятой)"


def _xlsx(path: Path) -> Table:
    from openpyxl import load_workbook  # openpyxl uses defusedxml when installed: no entities, no bombs
    from openpyxl.utils.exceptions import InvalidFileException

    handle = path.open("rb")  # a file object: openpyxl then does not judge the file by its name
    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, InvalidFileException) as exc:
        handle.close()
        raise _refused(f"the workbook cannot be read ({type(exc).__name__}): save it again as .xlsx") from None
    sheet = book.worksheets[0] if book.worksheets else None
    if sheet is None:
        raise _refused("the workbook has no sheet")
    cells = sheet.iter_rows(values_only=True)
    headers = _headers([_cell(c) for c in next(cells, None) or ()])

    def rows() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, row in enumerate(cells, start=2):
                values = [_cell(c) for c in row]
                if any(v not in (None, "") for v in values):
                    yield number, values
        finally:
            book.close()
            handle.close()

    return Table(headers, rows())


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.date().isoformat() if isinstance(value, datetime) else value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _headers(cells: list[Any] | None) -> list[str]:
    headers = [str(c).strip() if c is not None else "" for c in cells or []]
    while headers and not headers[-1]:
        headers.pop()
    if not any(headers):
        raise _refused("the first row must hold the column headers (Компания, Телефон, ...); it is empty")
    if len(headers) > MAX_COLUMNS:
        raise _refused(f"the table has {len(headers)} columns; at most {MAX_COLUMNS}")
    seen: set[str] = set()
    for index, header in enumerate(headers):
        name = header or f"#{index + 1}"
        while name in seen:
            name += "'"
        headers[index] = name
        seen.add(name)
    return headers


def _refused(message: str) -> InvalidInput:
    return InvalidInput(message, problems=[Problem(message, field="file")])
