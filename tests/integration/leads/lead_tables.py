"""Lead tables made in the tests: CSV (UTF-8 or Windows-1251, any delimiter) and XLSX, with known duplicates
and invalid rows."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from typing import Any

HEADERS = ["Компания", "ИНН", "Контакт", "Телефон", "E-mail", "Сегмент", "Комментарий"]


def inn_for(n: int) -> str:
    """A valid 10-digit INN made from a number (the check digit computed)."""
    digits = [int(c) for c in f"{77 * 10_000_000 + n:09d}"[-9:]]
    weights = (2, 4, 10, 3, 5, 9, 4, 6, 8)
    return "".join(map(str, digits)) + str(sum(w * d for w, d in zip(weights, digits, strict=True)) % 11 % 10)


@dataclass
class Plan:
    rows: list[list[Any]] = field(default_factory=list)
    valid: int = 0
    duplicates: int = 0
    invalid: int = 0
    invalid_rows: list[int] = field(default_factory=list)  # file row numbers


def lead_rows(count: int, *, duplicate_every: int = 10, invalid_every: int = 20, offset: int = 0) -> Plan:
    """`count` rows: every `duplicate_every`-th repeats an earlier company's phone, every `invalid_every`-th
    (not a duplicate) has a bad phone; the rest are distinct valid leads."""
    plan = Plan()
    for i in range(count):
        n = offset + i
        row_number = i + 2
        if i and i % duplicate_every == 0:
            original = plan.rows[i - 1]
            plan.rows.append([f"ООО «Дубль {n}»", "", "Пётр", original[3], "", "Малый бизнес", "повтор"])
            plan.duplicates += 1
        elif i % invalid_every == 3:
            plan.rows.append([f"Фирма {n}", "", "Анна", "12", "", "smb", ""])
            plan.invalid += 1
            plan.invalid_rows.append(row_number)
        else:
            phone = f"+7 916 {n // 10000:03d}-{n % 10000:04d}"
            plan.rows.append([f"ООО \"Клиент {n}\"", inn_for(n), f"Иван {n}", phone, f"lead{n}@example.ru",
                              "Средний бизнес", ""])
            plan.valid += 1
    return plan


def csv_bytes(rows: list[list[Any]], *, delimiter: str = ";", encoding: str = "utf-8",
              headers: list[str] = HEADERS, blank_every: int = 0) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(headers)
    for i, row in enumerate(rows):
        writer.writerow(row)
        if blank_every and i % blank_every == blank_every - 1:
            writer.writerow([""] * len(headers))
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]], *, headers: list[str] = HEADERS) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Лиды")
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
