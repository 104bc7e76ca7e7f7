"""Validators for Kazakh identifiers and contact details.

Pure functions: no I/O, no clock (pass ``today`` where a date matters).

Every ``validate_*`` function returns a list of human-readable problems; an
empty list means the value is valid. ``is_valid_*`` wrappers return a bool.

IIN / BIN layout and checksum
-----------------------------
Both are 12 digits; the 12th is a check digit computed over the first 11
(Rules for forming IIN/BIN, Government Decree of the Republic of Kazakhstan
No. 406 of 22 May 2007, https://adilet.zan.kz/rus/docs/P070000406_ ; the same
algorithm is described in the OECD "Kazakhstan - Information on Tax
Identification Numbers" sheet):

* ``r = sum(d[i] * w[i]) mod 11`` with weights 1..11;
* if ``r == 10``, recompute with weights 3,4,5,6,7,8,9,10,11,1,2;
* if it is 10 again the number is never issued (invalid); otherwise ``r`` must
  equal the 12th digit.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from operator import mul

__all__ = [
    "BIN_ENTITY_TYPES",
    "BIN_DIVISIONS",
    "iin_check_digit",
    "validate_iin",
    "is_valid_iin",
    "iin_birth_date",
    "validate_bin",
    "is_valid_bin",
    "validate_email",
    "is_valid_email",
    "normalize_phone",
    "validate_phone",
    "is_valid_phone",
    "validate_person_name",
    "is_valid_person_name",
    "make_test_iin",
]

_WEIGHTS_1 = (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)

_TWELVE_DIGITS = re.compile(r"[0-9]{12}")


def iin_check_digit(first11: str) -> int | None:
    """Check digit for the first 11 digits of an IIN/BIN.

    Returns ``None`` when both rounds give 10, i.e. no valid number can end
    these 11 digits.
    """
    if len(first11) != 11 or not first11.isascii() or not first11.isdigit():
        raise ValueError("expected exactly 11 ASCII digits")
    digits = list(map(int, first11))
    r = sum(map(mul, digits, _WEIGHTS_1)) % 11
    if r == 10:
        r = sum(map(mul, digits, _WEIGHTS_2)) % 11
        if r == 10:
            return None
    return r


def _checksum_problems(number: str, label: str) -> list[str]:
    expected = iin_check_digit(number[:11])
    if expected is None:
        return [f"{label} checksum: no valid check digit exists for the first 11 digits"]
    if expected != int(number[11]):
        return [f"{label} checksum mismatch: check digit is {number[11]}, expected {expected}"]
    return []


def _format_problems(number: object, label: str) -> list[str]:
    if not isinstance(number, str):
        return [f"{label} must be a string"]
    # str.isdigit() accepts non-ASCII digits; the regex is ASCII-only.
    if not _TWELVE_DIGITS.fullmatch(number):
        return [f"{label} must be exactly 12 digits"]
    return []


# --------------------------------------------------------------------------
# IIN — individual identification number
# --------------------------------------------------------------------------

# 7th digit: century of birth and sex (Decree No. 406):
#   1 / 2 — male / female born in the 19th century (1800-1899)
#   3 / 4 — male / female born in the 20th century (1900-1999)
#   5 / 6 — male / female born in the 21st century (2000-2099)
# Decision on 0: some IINs issued to foreign citizens carry 0 here (the birth
# date/century is then not encoded reliably). A qualified certificate is issued
# only after identity checks against the state database, where such IINs are
# rare and the birth date cannot be cross-checked, so by default 0 is REJECTED.
# Callers that must accept them pass ``allow_foreign_zero=True``: the first six
# digits must then still be a calendar date in the 1900s or 2000s, and the
# century is not reported.
_CENTURY_BY_DIGIT = {"1": 1800, "2": 1800, "3": 1900, "4": 1900, "5": 2000, "6": 2000}


def _birth_date(number: str) -> date | None:
    century = _CENTURY_BY_DIGIT.get(number[6])
    if century is None:
        return None
    try:
        return date(century + int(number[0:2]), int(number[2:4]), int(number[4:6]))
    except ValueError:
        return None


def validate_iin(
    iin: str, *, allow_foreign_zero: bool = False, today: date | None = None
) -> list[str]:
    """Problems with an IIN; empty list when valid.

    ``today``: when given, a birth date after it is a problem.
    """
    problems = _format_problems(iin, "IIN")
    if problems:
        return problems

    marker = iin[6]
    if marker in _CENTURY_BY_DIGIT:
        born = _birth_date(iin)
        if born is None:
            problems.append(
                f"IIN birth date {iin[0:6]} (YYMMDD) is not a valid calendar date "
                f"for century digit {marker}"
            )
        elif today is not None and born > today:
            problems.append(f"IIN birth date {born.isoformat()} is in the future")
    else:
        # Century unknown: the date must at least exist in the 1900s or 2000s.
        if not any(_valid_ymd(c + int(iin[0:2]), iin[2:4], iin[4:6]) for c in (1900, 2000)):
            problems.append(f"IIN birth date {iin[0:6]} (YYMMDD) is not a valid calendar date")
        if not (marker == "0" and allow_foreign_zero):
            problems.append(f"IIN 7th digit (century and sex) must be 1-6, got {marker}")

    problems.extend(_checksum_problems(iin, "IIN"))
    return problems


def _valid_ymd(year: int, mm: str, dd: str) -> bool:
    try:
        date(year, int(mm), int(dd))
    except ValueError:
        return False
    return True


def is_valid_iin(iin: str, *, allow_foreign_zero: bool = False, today: date | None = None) -> bool:
    return not validate_iin(iin, allow_foreign_zero=allow_foreign_zero, today=today)


def iin_birth_date(iin: str) -> date | None:
    """Birth date encoded in a valid IIN (None if invalid or century digit 0)."""
    if validate_iin(iin):
        return None
    return _birth_date(iin)


# --------------------------------------------------------------------------
# BIN — business identification number
# --------------------------------------------------------------------------

# Layout (Decree No. 406, Rules for forming BIN; also summarised in the OECD
# Kazakhstan TIN sheet and python-stdnum's ``stdnum.kz.bin``):
#   digits 1-4  YYMM of state (re-)registration, month 01-12
#   digit 5     type: 4 resident legal entity, 5 non-resident legal entity,
#               6 individual entrepreneur operating as joint entrepreneurship
#   digit 6     division: 0 head office, 1 branch, 2 representative office,
#               3 peasant (farm) enterprise on a joint-entrepreneurship basis
#   digits 7-11 serial number
#   digit 12    check digit (same algorithm as the IIN)
BIN_ENTITY_TYPES = {
    "4": "resident legal entity",
    "5": "non-resident legal entity",
    "6": "individual entrepreneur (joint entrepreneurship)",
}
BIN_DIVISIONS = {
    "0": "head office",
    "1": "branch",
    "2": "representative office",
    "3": "peasant farm (joint entrepreneurship)",
}


def validate_bin(bin_: str) -> list[str]:
    """Problems with a BIN; empty list when valid."""
    problems = _format_problems(bin_, "BIN")
    if problems:
        return problems
    month = int(bin_[2:4])
    if not 1 <= month <= 12:
        problems.append(f"BIN registration month (digits 3-4) must be 01-12, got {bin_[2:4]}")
    if bin_[4] not in BIN_ENTITY_TYPES:
        problems.append(f"BIN 5th digit (entity type) must be 4, 5 or 6, got {bin_[4]}")
    if bin_[5] not in BIN_DIVISIONS:
        problems.append(f"BIN 6th digit (division) must be 0-3, got {bin_[5]}")
    problems.extend(_checksum_problems(bin_, "BIN"))
    return problems


def is_valid_bin(bin_: str) -> bool:
    return not validate_bin(bin_)


# --------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------

# Pragmatic check, not full RFC 5322: dot-atom local part, DNS host name with
# at least two labels. Internationalised domains are checked in their IDNA
# (punycode) form. No DNS lookups.
_LOCAL_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+")
_DOMAIN_LABEL = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?")


def validate_email(email: str) -> list[str]:
    if not isinstance(email, str) or not email:
        return ["e-mail address is empty"]
    if email != email.strip() or any(c.isspace() for c in email):
        return ["e-mail address must not contain whitespace"]
    if len(email) > 254:
        return ["e-mail address is longer than 254 characters"]
    if email.count("@") != 1:
        return ["e-mail address must contain exactly one '@'"]
    local, domain = email.split("@")
    problems: list[str] = []
    if not 1 <= len(local) <= 64:
        problems.append("e-mail local part must be 1-64 characters")
    elif not all(_LOCAL_ATOM.fullmatch(atom) for atom in local.split(".")):
        problems.append("e-mail local part has invalid characters or misplaced dots")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if domain else ""
    except UnicodeError:
        ascii_domain = ""
    labels = ascii_domain.split(".") if ascii_domain else []
    if (
        len(labels) < 2
        or len(ascii_domain) > 253
        or not all(_DOMAIN_LABEL.fullmatch(label) for label in labels)
        or labels[-1].isdigit()
    ):
        problems.append("e-mail domain is not a valid host name")
    return problems


def is_valid_email(email: str) -> bool:
    return not validate_email(email)


# --------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------

# Kazakhstan shares country code +7 with Russia. Kazakh numbers have a national
# significant number starting with 7 (7xx: mobile and geographic codes) or 6
# (6xx: range allotted to Kazakhstan in 2023-2024); other +7 numbers (3xx, 4xx,
# 8xx, 9xx) are Russian and rejected here.
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def _phone_digits(raw: str) -> tuple[str | None, list[str]]:
    if not isinstance(raw, str) or not raw.strip():
        return None, ["phone number is empty"]
    compact = _PHONE_SEPARATORS.sub("", raw)
    if compact.startswith("+"):
        if not compact.startswith("+7"):
            return None, ["phone number must use country code +7"]
        national = compact[2:]
    elif len(compact) == 11 and compact[0] in "78":
        # 8 7xx ... (domestic trunk prefix) or 7 7xx ... (missing '+').
        national = compact[1:]
    else:
        return None, ["phone number must be +7 followed by 10 digits (or 8 followed by 10 digits)"]
    if not (national.isascii() and national.isdigit()) or len(national) != 10:
        return None, ["phone number must be +7 followed by 10 digits"]
    if national[0] not in "67":
        return None, ["phone number is not a Kazakhstan number (+7 6xx or +7 7xx expected)"]
    return national, []


def normalize_phone(raw: str) -> str:
    """Return ``+7XXXXXXXXXX``; raise ``ValueError`` when invalid."""
    national, problems = _phone_digits(raw)
    if problems:
        raise ValueError("; ".join(problems))
    return "+7" + national


def validate_phone(raw: str) -> list[str]:
    """Problems with a phone number (spaces, dashes, brackets, 8-prefix allowed)."""
    return _phone_digits(raw)[1]


def is_valid_phone(raw: str) -> bool:
    return not validate_phone(raw)


# --------------------------------------------------------------------------
# Person name
# --------------------------------------------------------------------------

# Letters: Latin (incl. the 2021 Kazakh Latin alphabet letters), Russian
# Cyrillic, and the Kazakh Cyrillic letters Ә Ғ Қ Ң Ө Ұ Ү І Һ. Separators:
# space, hyphen, apostrophe (ASCII ', U+2019 ’, U+02BC ʼ). The name must begin
# and end with a letter and must not contain two separators in a row.
# Input is NFC-normalised first, so decomposed "Ё" (Е + U+0308) is accepted.
_LETTERS = (
    "A-Za-z"
    "ÄäĞğÑñÖöŞşŪūÜüİı"
    "А-Яа-яЁё"
    "ӘәҒғҚқҢңӨөҰұҮүІіҺһ"
)
_SEPARATORS = " \\-'\u2019\u02bc"
_NAME = re.compile(
    rf"[{_LETTERS}](?:[{_LETTERS}]|[{_SEPARATORS}](?=[{_LETTERS}]))*"
)
_NAME_CHAR = re.compile(rf"[{_LETTERS}{_SEPARATORS}]")


def validate_person_name(name: str) -> list[str]:
    if not isinstance(name, str) or not name:
        return ["name is empty"]
    name = unicodedata.normalize("NFC", name)
    if len(name) <= 64 and _NAME.fullmatch(name):
        return []   # the common case: a well-formed name has none of the problems below
    problems: list[str] = []
    if len(name) > 64:
        problems.append("name is longer than 64 characters")
    bad = sorted({c for c in name if not _NAME_CHAR.fullmatch(c)})
    if bad:
        problems.append("name contains characters not allowed: " + " ".join(repr(c) for c in bad))
    elif not _NAME.fullmatch(name):
        problems.append(
            "name must start and end with a letter and must not repeat spaces, hyphens or apostrophes"
        )
    return problems


def is_valid_person_name(name: str) -> bool:
    return not validate_person_name(name)


# --------------------------------------------------------------------------
# Test data
# --------------------------------------------------------------------------

_SEX_CODES = {"m": 0, "male": 0, "f": 1, "female": 1}


def make_test_iin(birth: date, sex: str, serial: int) -> str:
    """A valid IIN for ``birth`` (1800-2099), ``sex`` ("M"/"F"), ``serial`` 0-9999.

    Raises ``ValueError`` for the ~1 in 121 serials whose 11 digits admit no
    check digit (the state registry skips those too); the caller picks another
    serial. Distinct (birth, sex, serial) always give distinct IINs.
    """
    try:
        sex_offset = _SEX_CODES[sex.strip().lower()]
    except (KeyError, AttributeError):
        raise ValueError(f"sex must be 'M' or 'F', got {sex!r}") from None
    if not 1800 <= birth.year <= 2099:
        raise ValueError("birth year must be 1800-2099")
    if not 0 <= serial <= 9999:
        raise ValueError("serial must be 0-9999")
    century_digit = (birth.year // 100 - 18) * 2 + 1 + sex_offset
    first11 = f"{birth:%y%m%d}{century_digit}{serial:04d}"
    check = iin_check_digit(first11)
    if check is None:
        raise ValueError(f"serial {serial} gives no valid check digit for {first11}; use another")
    return f"{first11}{check}"
