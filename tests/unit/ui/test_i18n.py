from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from starlette.requests import Request

from app.ui import i18n

UI = Path(i18n.__file__).parent
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "gettext_": None, "translate": (2,)}


def request_with(headers: dict[str, str]) -> Request:
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/ui", "headers": raw, "query_string": b""})


@pytest.mark.parametrize(("headers", "expected"), [
    ({"Accept-Language": "en-US,en;q=0.9"}, "en"),
    ({"Accept-Language": "ru-RU,ru;q=0.9,en;q=0.5"}, "ru"),
    ({"Accept-Language": "de-DE,fr;q=0.5"}, "ru"),
    ({}, "ru"),
    ({"Accept-Language": "ru", "Cookie": "voronka_lang=en"}, "en"),
    ({"Accept-Language": "en", "Cookie": "voronka_lang=xx"}, "en"),
])
def test_the_language_comes_from_the_switch_then_the_browser(headers: dict[str, str], expected: str) -> None:
    assert i18n.negotiate(request_with(headers)) == expected


def test_an_unknown_time_zone_cookie_falls_back_to_utc() -> None:
    assert i18n.timezone_of(request_with({"Cookie": "voronka_tz=Europe/Moscow"})) == ZoneInfo("Europe/Moscow")
    assert i18n.timezone_of(request_with({"Cookie": "voronka_tz=../../etc/passwd"})) == ZoneInfo("UTC")


def test_dates_and_numbers_are_formatted_for_the_locale() -> None:
    moment = datetime(2026, 3, 5, 21, 30, tzinfo=UTC)
    ru = i18n.Formatter("ru", ZoneInfo("Europe/Moscow"))
    en = i18n.Formatter("en", ZoneInfo("UTC"))
    assert ru.datetime(moment) == "06.03.2026, 00:30"
    assert en.datetime(moment).startswith("3/5/26")
    assert ru.number(1234567.5) == "1\xa0234\xa0567,5" and en.number(1234567.5) == "1,234,567.5"
    assert ru.date("2026-03-05").startswith("5 мар. 2026") and en.date("2026-03-05") == "Mar 5, 2026"
    assert ru.age(moment - timedelta(hours=3), now=moment) == "3 часа"


def source_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "True", "lstrip_blocks": "True"}}
    for _file, _line, message, _comments, _context in extract_from_dir(str(UI), method_map, options, KEYWORDS):
        found.add(message if isinstance(message, str) else tuple(message[:2]))
    return found


def catalog_ids(path: Path) -> dict[str | tuple[str, str], object]:
    with path.open("rb") as handle:
        return {m.id if isinstance(m.id, str) else tuple(m.id): m.string for m in read_po(handle) if m.id}


def test_every_text_of_the_pages_has_a_russian_translation() -> None:
    wanted = source_messages()
    russian = catalog_ids(UI / "translations" / "ru" / "LC_MESSAGES" / "messages.po")
    missing = sorted(str(m) for m in wanted if not russian.get(m))
    assert not missing, f"add these to the ru catalog (make translations): {missing}"
    english = catalog_ids(UI / "translations" / "en" / "LC_MESSAGES" / "messages.po")
    assert wanted <= set(english), "the en catalog is behind: run make translations"
