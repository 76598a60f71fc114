"""Language and formatting for the pages: the locale (cookie, else Accept-Language), gettext catalogs, and
dates, numbers and durations formatted by Babel for that locale and the browser's time zone.

The catalogs are the `.po` files under `translations/`; they are compiled in memory on first use, so there is no
build step and no binary `.mo` file in the repository.
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.core import negotiate_locale
from babel.dates import format_date, format_datetime, format_timedelta
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import Request

LOCALES = ("ru", "en")
DEFAULT_LOCALE = "ru"  # the people who work these processes speak Russian first
LANG_COOKIE = "voronka_lang"
TZ_COOKIE = "voronka_tz"  # set by static/js/app.js from the browser's Intl time zone
DOMAIN = "messages"
TRANSLATIONS_DIR = Path(__file__).parent / "translations"


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where it is shown."""
    return message


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext.NullTranslations:
    """The catalog of `locale`, compiled from its .po file once per process."""
    po_path = TRANSLATIONS_DIR / locale / "LC_MESSAGES" / f"{DOMAIN}.po"
    if not po_path.exists():
        return gettext.NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=locale, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def negotiate(request: Request) -> str:
    """The chosen language: the cookie set by the switcher, else the browser's preference, else Russian."""
    chosen = request.cookies.get(LANG_COOKIE)
    if chosen in LOCALES:
        return chosen
    header = request.headers.get("accept-language", "")
    preferred = []
    for part in header.split(","):
        tag = part.split(";")[0].strip().replace("-", "_")
        if tag:
            preferred.append(tag)
    found = negotiate_locale(preferred, list(LOCALES)) if preferred else None
    if found is None:
        # "en_US" against ["ru", "en"]: Babel matches whole tags, so also try the language alone.
        found = negotiate_locale([p.split("_")[0] for p in preferred], list(LOCALES)) if preferred else None
    return found or DEFAULT_LOCALE


def timezone_of(request: Request) -> ZoneInfo:
    name = request.cookies.get(TZ_COOKIE, "")
    if name and len(name) < 64:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo("UTC")


_current: ContextVar[gettext.NullTranslations] = ContextVar("voronka_ui_translations")


def activate(locale: str) -> None:
    """Make `locale` the language of the templates rendered by this thread/task."""
    _current.set(translations(locale))


def gettext_(message: str) -> str:
    return _current.get(translations(DEFAULT_LOCALE)).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return _current.get(translations(DEFAULT_LOCALE)).ngettext(singular, plural, n)


@dataclass(frozen=True)
class Formatter:
    """Dates, numbers and ages for one locale and time zone (what templates call as `fmt`)."""

    locale: str
    tz: ZoneInfo

    @property
    def babel_locale(self) -> Locale:
        try:
            return Locale.parse(self.locale)
        except (UnknownLocaleError, ValueError):
            return Locale.parse(DEFAULT_LOCALE)

    def _aware(self, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)

    def datetime(self, value: datetime | None, format: str = "short") -> str:
        if value is None:
            return ""
        return format_datetime(self._aware(value), format=format, tzinfo=self.tz, locale=self.babel_locale)

    def date(self, value: date | datetime | str | None, format: str = "medium") -> str:
        if value in (None, ""):
            return ""
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value[:10])
            except ValueError:
                return value
        if isinstance(value, datetime):
            value = self._aware(value).astimezone(self.tz).date()
        return format_date(value, format=format, locale=self.babel_locale)

    def number(self, value: float | int | None) -> str:
        if value is None:
            return ""
        return format_decimal(value, locale=self.babel_locale)

    def age(self, value: datetime | None, now: datetime | None = None) -> str:
        """How long ago (or, for a future time, how far ahead): "3 hours", "2 дня"."""
        if value is None:
            return ""
        delta = (now or datetime.now(UTC)) - self._aware(value)
        return format_timedelta(abs(delta), granularity="minute", threshold=0.9, locale=self.babel_locale)

    def size(self, value: int) -> str:
        """A file size: "840 B", "12,5 kB", "3,1 MB" (decimal units, as file managers show them)."""
        for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
            if value >= scale:
                return f"{format_decimal(round(value / scale, 1), locale=self.babel_locale)} {unit}"
        return f"{value} B"

    def iso(self, value: datetime | None) -> str:
        return self._aware(value).isoformat() if value else ""

    def value(self, value: object) -> str:
        """A variable's value for reading: numbers and ISO dates localized, booleans as words."""
        if isinstance(value, bool):
            return gettext_("yes") if value else gettext_("no")
        if isinstance(value, int | float):
            return self.number(value)
        if isinstance(value, str) and len(value) == 10 and value[4:5] == "-" and value[7:8] == "-":
            return self.date(value)
        if value is None:
            return "—"
        return str(value)


def formatter_for(request: Request, locale: str) -> Formatter:
    return Formatter(locale, timezone_of(request))
