"""What a lead is: column headers mapped onto a start form, cells turned into checked variables, and the
normalised keys (phone, e-mail, INN, company) duplicates are found by. Pure functions, no I/O."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from app.errors import ValidationFailed
from app.services.variables import validate_form

# Header words (normalised: lower case, letters and digits only) by the meaning of the field they fill.
HEADER_WORDS: dict[str, tuple[str, ...]] = {
    "company": ("компания", "организация", "названиекомпании", "наименование", "клиент", "company", "companyname",
                "organization", "organisation", "account"),
    "inn": ("инн", "inn", "taxid", "innкомпании"),
    "contact": ("контакт", "контактноелицо", "фио", "имя", "contact", "contactname", "contactperson", "name"),
    "phone": ("телефон", "тел", "мобильный", "номертелефона", "phone", "phonenumber", "tel", "mobile"),
    "email": ("email", "емейл", "почта", "элпочта", "электроннаяпочта", "mail"),
    "source": ("источник", "источниклида", "source", "leadsource"),
    "segment": ("сегмент", "segment"),
    "comment": ("комментарий", "примечание", "заметка", "comment", "comments", "note", "notes"),
}
LEGAL_FORMS = ("ооо", "оао", "зао", "пао", "ао", "ип", "нко", "ано", "гуп", "муп", "фгуп", "llc", "ltd", "inc",
               "gmbh", "corp", "co", "plc", "jsc", "ojsc", "cjsc", "pjsc", "ooo", "zao")
_QUOTES = re.compile(r"[\"'«»“”„`’‘]")
_NON_WORD = re.compile(r"[^\w]+", re.UNICODE)
_YES = {"да", "yes", "true", "1", "y", "д", "истина"}
_NO = {"нет", "no", "false", "0", "n", "н", "ложь"}


def compact(text: str) -> str:
    return _NON_WORD.sub("", text.lower().replace("ё", "е")).replace("_", "")


def meaning(spec: dict[str, Any]) -> str | None:
    """Which kind of lead data a form field holds, from its id (the shipped model's names, and the usual ones)."""
    name = (spec.get("id") or "").lower()
    if "phone" in name:
        return "phone"
    if "email" in name or name == "mail":
        return "email"
    if name == "inn" or name.endswith("_inn"):
        return "inn"
    for kind in ("company", "contact", "source", "segment", "comment"):
        if name == kind:
            return kind
    return None


def propose_mapping(headers: list[str], form: list[dict[str, Any]]) -> dict[str, str]:
    """Column header -> form field: the field's id or label, else the header words of the field's meaning."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        key = compact(header)
        if not key:
            continue
        for spec in form:
            field_id = spec.get("id")
            if not field_id or field_id in taken or (spec.get("type") or "").lower() == "file":
                continue
            words = {compact(field_id), compact(spec.get("label") or "")}
            words.update(HEADER_WORDS.get(meaning(spec) or "", ()))
            if key in words:
                mapping[header] = field_id
                taken.add(field_id)
                break
    return mapping


def normal_phone(text: str) -> str | None:
    """E.164 (`+79161234567`), Russian numbers without a country code understood; None when not a number."""
    try:
        number = phonenumbers.parse(text, "RU")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normal_email(text: str) -> str | None:
    try:
        return validate_email(text, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def valid_inn(text: str) -> bool:
    """Russian taxpayer number: 10 digits (organisations) or 12 (people), with their check digits."""
    if not text.isdigit() or len(text) not in (10, 12):
        return False
    digits = [int(c) for c in text]

    def check(weights: tuple[int, ...]) -> int:
        return sum(w * d for w, d in zip(weights, digits, strict=False)) % 11 % 10

    if len(digits) == 10:
        return check((2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[9]
    return (check((7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[10]
            and check((3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)) == digits[11])


def normal_company(text: str) -> str:
    """Case, quotes and legal-form words do not make another company: «ООО "Ромашка"» = "Ромашка ООО"."""
    words = _NON_WORD.sub(" ", _QUOTES.sub(" ", text.lower().replace("ё", "е"))).split()
    return " ".join(w for w in words if w not in LEGAL_FORMS)


@dataclass
class Lead:
    variables: dict[str, Any] = field(default_factory=dict)
    problems: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)  # (column, code, args)
    keys: list[tuple[str, str]] = field(default_factory=list)  # (kind, normalised value)


def build_lead(form: list[dict[str, Any]], values: dict[str, Any], *, columns: dict[str, str] | None = None,
               defaults: dict[str, Any] | None = None) -> Lead:
    """Form field -> raw value (cell text, JSON value) into checked, typed variables with located problems.
    `columns` names the column each field came from (for the report); `defaults` fill fields left empty."""
    columns = columns or {}
    lead = Lead()
    by_id = {spec["id"]: spec for spec in form if spec.get("id")}
    for name, raw in {**(defaults or {}), **{k: v for k, v in values.items() if not _blank(v)}}.items():
        spec = by_id.get(name)
        if spec is None or _blank(raw):
            continue
        column = columns.get(name, name)
        try:
            lead.variables[name] = _convert(spec, raw)
        except _Refused as refused:
            lead.problems.append((column, refused.code, {"value": str(raw)[:100], **refused.args}))
    try:
        lead.variables = validate_form(form, lead.variables)
    except ValidationFailed as exc:
        for problem in exc.problems:
            name = problem.field or ""
            code = "required" if problem.message.endswith("is required") else "invalid"
            lead.problems.append((columns.get(name, name), code, {"detail": problem.message}))
    lead.keys = lead_keys(form, lead.variables)
    return lead


def lead_keys(form: list[dict[str, Any]], variables: dict[str, Any]) -> list[tuple[str, str]]:
    """The normalised identifiers of a lead (already checked values)."""
    keys: list[tuple[str, str]] = []
    for spec in form:
        kind, value = meaning(spec), variables.get(spec.get("id") or "")
        if not isinstance(value, str) or not value:
            continue
        if kind in ("phone", "email", "inn"):
            keys.append((kind, value))
        elif kind == "company":
            name = normal_company(value)
            if len(name) >= 2:
                keys.append(("company", name[:255]))
    return keys


class _Refused(Exception):
    def __init__(self, code: str, **args: Any) -> None:
        super().__init__(code)
        self.code = code
        self.args_ = args

    @property
    def args(self) -> dict[str, Any]:  # type: ignore[override]
        return self.args_


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _convert(spec: dict[str, Any], raw: Any) -> Any:
    kind = (spec.get("type") or "string").lower()
    text = raw.isoformat()[:10] if isinstance(raw, date | datetime) else str(raw).strip()
    if isinstance(raw, float) and raw.is_integer():
        text = str(int(raw))
    if kind == "enum":
        for option in spec.get("options") or []:
            if compact(text) in (compact(str(option.get("id") or "")), compact(str(option.get("name") or ""))):
                return option.get("id")
        names = ", ".join(str(o.get("name") or o.get("id")) for o in spec.get("options") or [])
        raise _Refused("enum", options=names)
    if kind in ("long", "integer", "int"):
        digits = text.replace(" ", "").replace("\u00a0", "")
        if not re.fullmatch(r"[+-]?\d{1,18}", digits):
            raise _Refused("number")
        return int(digits)
    if kind == "boolean":
        if text.lower() in _YES:
            return True
        if text.lower() in _NO:
            return False
        raise _Refused("boolean")
    if kind == "date":
        return _date(text)
    return _text(meaning(spec), text)


def _text(kind: str | None, text: str) -> str:
    if kind == "phone":
        phone = normal_phone(text)
        if phone is None:
            raise _Refused("phone")
        return phone
    if kind == "email":
        email = normal_email(text)
        if email is None:
            raise _Refused("email")
        return email
    if kind == "inn":
        digits = re.sub(r"\s", "", text)
        if not valid_inn(digits):
            raise _Refused("inn")
        return digits
    return text


def _date(text: str) -> str:
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y"):
        try:
            return datetime.strptime(text[:10], pattern).date().isoformat()
        except ValueError:
            continue
    raise _Refused("date")
