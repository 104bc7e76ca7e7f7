"""The gettext catalogues of everything people read, shared by the pages and the wiring (issue 20).

The catalogues live with the pages (``api/pages/locale/<lang>/LC_MESSAGES/
messages.po``, compiled to ``messages.mo`` at install), but the words the
borrower reads outside a page — the SMS with the one-time code, the labels
of the visible stamp on the PDF — are said by ``signing/``, which the
wiring builds. So the loading is here, beside ``api/settings.py``, where
both the pages (``api/pages/i18n.py``) and the wiring (``api/wiring/``) may
import it; it imports no room.

A catalogue whose ``.mo`` is missing or older than its ``.po`` (a
translator's edit not compiled yet) is compiled in memory from the ``.po``,
so nobody reads stale words.
"""

from __future__ import annotations

import functools
import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:   # Babel is imported when a catalogue is first read: the CLI's commands do without it
    from babel.support import Translations

log = logging.getLogger("qoltanba.pages")

LANGUAGES = ("kk", "ru", "en")
DEFAULT = "kk"
LOCALE_DIR = Path(__file__).resolve().parent / "pages" / "locale"
DOMAIN = "messages"


def _compiled(language: str) -> bytes:
    """The catalogue's .mo, or the .po compiled now when the .mo is missing or older than it."""
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    po, mo = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        return mo.read_bytes()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    log.info("the %s catalogue is read from its .po (no compiled .mo newer than it)", language)
    with po.open("rb") as source:
        catalogue = read_po(source, locale=language, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalogue)
    return buffer.getvalue()


@functools.cache
def translations(language: str) -> Translations:
    from babel.support import Translations

    if language not in LANGUAGES:
        raise ValueError(f"no catalogue for {language!r}")
    return Translations(io.BytesIO(_compiled(language)), domain=DOMAIN)


def say(language: str, message: str) -> str:
    """``message`` (English, the catalogues' source) in ``language``; English for a language we lack."""
    return translations(language).gettext(message) if language in LANGUAGES else message


__all__ = ["DEFAULT", "DOMAIN", "LANGUAGES", "LOCALE_DIR", "say", "translations"]
