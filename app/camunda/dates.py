"""Camunda's date format on the wire: `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (e.g. `2026-11-29T10:00:00.000+0000`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.errors import InvalidInput

# Camunda writes `+0000`; clients also send `+00:00`, `Z` or no zone (read as UTC).
_ZONE = re.compile(r"([+-]\d{2})(\d{2})$")


def camunda_date(value: datetime | None) -> str | None:
    """A timezone-aware datetime as Camunda writes it, always in UTC."""
    if value is None:
        return None
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def parse_camunda_date(text: str, *, field: str = "date") -> datetime:
    """Read a date a Camunda client sent: Camunda's own format or ISO 8601; naive means UTC."""
    raw = text.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    raw = _ZONE.sub(r"\1:\2", raw)
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{field}: cannot read {text!r} as a date; use yyyy-MM-dd'T'HH:mm:ss.SSSZ, "
                           "e.g. 2026-11-29T10:00:00.000+0000") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
