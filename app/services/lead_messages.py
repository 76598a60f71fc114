"""Why a lead row was refused, in words a person fixes it by, in Russian and English.

A reason is stored as JSON (`{"code", "row", "column", ...}`) and put into words when it is shown, so the error
report comes in the reader's language."""

from __future__ import annotations

import json
from typing import Any

TEXTS: dict[str, tuple[str, str]] = {  # code -> (en, ru)
    "required": ("fill in this column", "заполните эту колонку"),
    "phone": ("“{value}” is not a phone number", "«{value}» — не номер телефона"),
    "email": ("“{value}” is not an e-mail address", "«{value}» — не адрес e-mail"),
    "inn": ("“{value}” is not a valid INN (10 or 12 digits with a correct check digit)",
            "«{value}» — неверный ИНН (10 или 12 цифр с верной контрольной цифрой)"),
    "enum": ("“{value}” is not one of: {options}", "«{value}» — нет среди вариантов: {options}"),
    "number": ("“{value}” is not a whole number", "«{value}» — не целое число"),
    "boolean": ("“{value}” is not yes or no", "«{value}» — не «да» и не «нет»"),
    "date": ("“{value}” is not a date (YYYY-MM-DD or DD.MM.YYYY)", "«{value}» — не дата (ДД.ММ.ГГГГ)"),
    "invalid": ("{detail}", "{detail}"),
    "duplicate_deal": ("duplicate of the deal “{deal}” (same {kind}): {link}",
                       "дубль сделки «{deal}» (совпадает {kind_ru}): {link}"),
    "duplicate_row": ("duplicate of row {other} of this file (same {kind})",
                      "дубль строки {other} этого файла (совпадает {kind_ru})"),
    "start_failed": ("the deal could not be started: {detail}", "сделку не удалось начать: {detail}"),
}
KINDS_RU = {"phone": "телефон", "email": "e-mail", "inn": "ИНН", "company": "компания"}
KINDS_EN = {"phone": "phone", "email": "e-mail", "inn": "INN", "company": "company name"}


def reason(code: str, *, row: int, column: str | None = None, **args: Any) -> str:
    return json.dumps({"code": code, "row": row, "column": column, **args}, ensure_ascii=False, default=str)


def describe(stored: str, lang: str = "en") -> str:
    """`row 5, column «Телефон»: “12” is not a phone number` (or in Russian)."""
    try:
        data = json.loads(stored)
    except ValueError:
        return stored
    if not isinstance(data, dict):
        return stored
    ru = lang == "ru"
    en_text, ru_text = TEXTS.get(str(data.get("code")), ("{detail}", "{detail}"))
    kind = str(data.get("kind") or "")
    values = {"value": "", "options": "", "detail": data.get("code"), "deal": "", "link": "", "other": "",
              **data, "kind": KINDS_EN.get(kind, kind), "kind_ru": KINDS_RU.get(kind, kind)}
    text = (ru_text if ru else en_text).format(**values)
    where = (f"строка {data.get('row')}" if ru else f"row {data.get('row')}")
    if data.get("column"):
        where += f", колонка «{data['column']}»" if ru else f", column “{data['column']}”"
    return f"{where}: {text}"
