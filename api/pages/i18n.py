"""The pages' languages: which one a visitor reads, its catalogue, its dates and numbers.

Kazakh, Russian and English (issue 20). The language is the ``qoltanba_lang``
cookie the switch on every page sets; without it the browser's
Accept-Language is the first guess; Kazakh is the default, as on the NCA
RK's and eGov's own pages.

Every string is a gettext message (``api/pages/locale/<lang>/LC_MESSAGES/
messages.po``), compiled to ``messages.mo`` when the project is installed
(``make install`` runs ``pybabel compile``; setup.py's ``build_py`` does too).
The catalogues are loaded by ``api/catalogues.py`` (shared with the wiring,
which hands signing/ the words of the SMS and the stamp); a catalogue whose
``.mo`` is missing or older than its ``.po`` is read from the ``.po`` itself,
so the pages never show stale words. Dates are written in Almaty time, numbers with the
language's separators (Babel, from the CLDR).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from babel import Locale
from babel.dates import format_datetime
from babel.numbers import format_decimal
from babel.support import Translations
from starlette.requests import HTTPConnection

from api.catalogues import DEFAULT, LANGUAGES, translations
from signing.verification.words import Voice

log = logging.getLogger("qoltanba.pages")

COOKIE = "qoltanba_lang"
# Each language's own name, as the switch shows it.
NAMES = {"kk": "Қазақша", "ru": "Русский", "en": "English"}
TIME_ZONE = "Asia/Almaty"


def _accepted(header: str) -> list[str]:
    """Accept-Language's languages, most wanted first (RFC 9110 §12.5.4); q=0 means 'not this'."""
    ranked = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag.strip().lower()))
    return [tag for _q, _p, tag in sorted(ranked)]


def choose(connection: HTTPConnection) -> str:
    """The visitor's language: the cookie, else the best of Accept-Language we have, else Kazakh."""
    chosen = connection.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    for tag in _accepted(connection.headers.get("accept-language", "")[:512]):
        primary = tag.split("-")[0]
        if primary in LANGUAGES:
            return primary
    return DEFAULT


@dataclass(frozen=True)
class Language:
    """One request's language: its code, words, and how it writes moments and numbers."""

    code: str

    @property
    def catalogue(self) -> Translations:
        return translations(self.code)

    @property
    def name(self) -> str:
        return NAMES[self.code]

    def gettext(self, message: str) -> str:
        return self.catalogue.gettext(message)

    def ngettext(self, singular: str, plural: str, count: int) -> str:
        return self.catalogue.ngettext(singular, plural, count)

    def moment(self, value: dt.datetime | str | None) -> str:
        """A moment in Almaty time, e.g. '7 декабря 2026 г., 01:30:00 (UTC+5)'."""
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return format_datetime(value, "long", tzinfo=TIME_ZONE, locale=self.code).replace(" +0500", " (UTC+5)")

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.code)

    def size(self, count: int) -> str:
        """A size as people say it: '20 MB', '1,5 MB', '812 KB' (units of 1024, as file managers count)."""
        for unit, factor in ((self.gettext("MB"), 1024 * 1024), (self.gettext("KB"), 1024)):
            if count >= factor:
                return f"{format_decimal(round(count / factor, 1), locale=self.code)} {unit}"
        unit = self.gettext("bytes")
        return f"{format_decimal(count, locale=self.code)} {unit}"

    @property
    def voice(self) -> Voice:
        """signing/verification/words.py's sentences in this language."""
        return Voice(gettext=self.gettext, ngettext=self.ngettext, moment=self.moment)

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.code)


def language_of(connection: HTTPConnection) -> Language:
    return Language(choose(connection))


__all__ = ["COOKIE", "DEFAULT", "LANGUAGES", "Language", "NAMES", "TIME_ZONE", "choose", "language_of",
           "translations"]
