"""What a signature's stamp shows: one ``StampContent`` per signature, validated when built (issue 4).

``text_params`` keys read by ``signing.stamps.stamp.QoltanbaStampStyle``:
``"qoltanba"`` (:data:`STAMP_CONTENT_KEY`) holds the :class:`StampContent`;
every other key (pyHanko adds ``"signer"``) is ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from ca.errors import InvalidInput, Problem

STAMP_CONTENT_KEY = "qoltanba"

# A longer URL makes a denser symbol: at 120 characters (version 7, level M)
# a module is still ~1.2 pt, ~3 pixels at 200 dpi.
MAX_URL_LENGTH = 120



def N_(message: str) -> str:  # noqa: N802 - gettext's name for "mark only, translate later" (make i18n)
    return message


# What a stamp's labels say, in English (the catalogues' source); a translation is looked up for a language.
LABELS = {"iin": N_("IIN"), "bin": N_("BIN"), "serial": N_("Serial"), "zone": N_("Almaty")}
ROLES = {"Client": N_("Client"), "MFO seal": N_("MFO seal")}
# (language, English) -> the words in that language: the pages' catalogues, handed in by the wiring.
Say = Callable[[str, str], str]


@dataclass(frozen=True)
class StampLabels:
    """The words beside the stamp's values, in the borrower's language (issue 20); English by default."""

    iin: str = LABELS["iin"]
    bin: str = LABELS["bin"]
    serial: str = LABELS["serial"]
    zone: str = "Asia/Almaty"

    @classmethod
    def said(cls, say: Say, language: str | None) -> StampLabels:
        if not language:
            return cls()
        return cls(**{name: say(language, words) for name, words in LABELS.items()})


_TWELVE_DIGITS = re.compile(r"[0-9]{12}")
_URL = re.compile(r"https?://[!-~]+")


@dataclass(frozen=True)
class StampContent:
    """What one signature's stamp shows. Validated when built (raises InvalidInput listing every problem).

    ``serial`` is the signer certificate's serial number (shown in hex);
    ``signed_at`` an aware datetime (shown in Asia/Almaty); ``role`` free
    text such as "Client" or "MFO seal"; ``verify_url`` what the QR code
    holds. At least one of ``iin`` (an individual) and ``bin`` (a legal
    entity) is given, each 12 digits.
    """

    signer_name: str
    serial: int
    signed_at: dt.datetime
    role: str
    verify_url: str
    iin: str | None = None
    bin: str | None = None
    labels: StampLabels = field(default_factory=StampLabels)

    def __post_init__(self) -> None:
        problems = []
        if not isinstance(self.signer_name, str) or not self.signer_name.strip():
            problems.append(Problem("signer_name", "must not be empty"))
        if not isinstance(self.serial, int) or isinstance(self.serial, bool) or self.serial <= 0:
            problems.append(Problem("serial", "must be a positive integer (RFC 5280 §4.1.2.2)"))
        if not isinstance(self.signed_at, dt.datetime) or self.signed_at.utcoffset() is None:
            problems.append(Problem("signed_at", "must be a datetime with a time zone"))
        if not isinstance(self.role, str) or not self.role.strip():
            problems.append(Problem("role", "must not be empty"))
        if not isinstance(self.verify_url, str) or not _URL.fullmatch(self.verify_url):
            problems.append(Problem("verify_url", "must be an http(s) URL of printable ASCII without spaces"))
        elif len(self.verify_url) > MAX_URL_LENGTH:
            problems.append(Problem("verify_url", f"must be at most {MAX_URL_LENGTH} characters"))
        for name in ("iin", "bin"):
            value = getattr(self, name)
            if value is not None and not (isinstance(value, str) and _TWELVE_DIGITS.fullmatch(value)):
                problems.append(Problem(name, "must be 12 digits"))
        if self.iin is None and self.bin is None:
            problems.append(Problem("iin", "an IIN or a BIN is required"))
        if problems:
            raise InvalidInput("invalid signature stamp content", problems)


def stamp_text_params(content: StampContent) -> dict:
    """The ``appearance_text_params`` that carry ``content`` to :class:`QoltanbaStampStyle`."""
    return {STAMP_CONTENT_KEY: content}


__all__ = ["LABELS", "MAX_URL_LENGTH", "ROLES", "STAMP_CONTENT_KEY", "Say", "StampContent", "StampLabels",
           "stamp_text_params"]
