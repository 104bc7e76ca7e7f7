"""Subject data and the distinguished names built from it.

The DN follows the NCA RK's certificates (DOMAIN.md KZ-1, read off the test
certificates in order): CN=SURNAME NAME, SURNAME, SERIALNUMBER=IIN…, C=KZ,
then for a legal entity O and OU=BIN…, then G (the patronymic, as the NCA
puts it) and E. L and ST follow C when the application gives them (NAT-4).
"""

from __future__ import annotations

from collections.abc import Iterable

from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from ca import identity
from ca.errors import Problem
from ca.profiles import CertificateProfile, HolderKind, Role

MAX_ORG = 64  # X.520 ub-organization-name; also NAT-2's short-name limit.
MAX_CN = 64   # X.520 ub-common-name, as cryptography counts it: bytes of UTF-8 (a Cyrillic letter is two)


@dataclass(frozen=True)
class SubjectData:
    """Who a certificate is for. Person fields for people, name/org for CAs and services."""

    surname: str | None = None
    given_name: str | None = None
    patronymic: str | None = None
    iin: str | None = None
    email: str | None = None
    bin: str | None = None
    organisation: str | None = None
    locality: str | None = None
    state: str | None = None
    common_name: str | None = None
    country: str = "KZ"
    roles: tuple[Role, ...] = ()

    @property
    def display_name(self) -> str:
        if self.common_name:
            return self.common_name
        return " ".join(p for p in (self.surname, self.given_name, self.patronymic) if p)

    @property
    def holder(self) -> str:
        """A stable holder identity: the person's IIN, else the CN."""
        if self.iin:
            return f"IIN{self.iin}" + (f"/BIN{self.bin}" if self.bin else "")
        return f"CN:{self.display_name}"[:64]


def check_subject(profile: CertificateProfile, data: SubjectData, prefix: str = "") -> list[Problem]:
    """Every problem with the subject for this profile, all at once."""
    problems: list[Problem] = []

    def add(name: str, message: str) -> None:
        problems.append(Problem(prefix + name, message))

    person = profile.holder_kind in (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)
    if person:
        for name in ("surname", "given_name"):
            value = getattr(data, name)
            if not value:
                add(name, "is required")
            else:
                problems.extend(Problem(prefix + name, m) for m in identity.validate_person_name(value))
        if data.patronymic:
            problems.extend(Problem(prefix + "patronymic", m) for m in identity.validate_person_name(data.patronymic))
        if data.surname and data.given_name and len(f"{data.surname} {data.given_name}".upper().encode()) > MAX_CN:
            add("given_name", f"with the surname makes a common name (CN) longer than {MAX_CN} bytes in UTF-8")
    elif not data.common_name:
        add("common_name", "is required")
    elif len(data.common_name.encode()) > MAX_CN:
        add("common_name", f"is longer than {MAX_CN} bytes in UTF-8 (a Cyrillic letter is two)")
    if profile.requires_iin or data.iin:
        if not data.iin:
            add("iin", "is required")
        else:
            problems.extend(Problem(prefix + "iin", m) for m in identity.validate_iin(data.iin))
    if profile.requires_bin or data.bin:
        if not data.bin:
            add("bin", "is required")
        else:
            problems.extend(Problem(prefix + "bin", m) for m in identity.validate_bin(data.bin))
    if profile.requires_bin and not data.organisation:
        add("organisation", "is required")
    if data.organisation and len(data.organisation) > MAX_ORG:
        add("organisation", f"is longer than {MAX_ORG} characters")
    if data.email:
        problems.extend(Problem(prefix + "email", m) for m in identity.validate_email(data.email))
    if data.roles and not profile.allows_roles:
        add("roles", f"profile {profile.name} takes no roles")
    if len(data.country) != 2 or not data.country.isalpha() or not data.country.isupper():
        add("country", "must be a two-letter ISO 3166 code")
    for name in ("locality", "state"):
        value = getattr(data, name)
        if value is not None and not (1 <= len(value) <= 128):
            add(name, "must be 1-128 characters")
    return problems


def build_name(profile: CertificateProfile, data: SubjectData) -> x509.Name:
    return name_and_dn(profile, data)[0]


def name_and_dn(profile: CertificateProfile, data: SubjectData) -> tuple[x509.Name, str]:
    """The subject as :func:`build_name` makes it, and its RFC 4514 string (``x509.Name.rfc4514_string()``'s).

    The string is written from the pairs the name is made of, with cryptography's own attribute names and
    escaping rules: ``rfc4514_string()`` walks the name's objects again, a tenth of a P-256 issuance
    (benchmarks/RESULTS.md, issue.py). tests/unit/test_subject_dn.py holds the two equal.
    """
    pairs: list[tuple[x509.ObjectIdentifier, str]] = []
    person = profile.holder_kind in (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)
    if person:
        pairs.append((NameOID.COMMON_NAME, f"{data.surname} {data.given_name}".upper()))
        pairs.append((NameOID.SURNAME, data.surname.upper()))  # type: ignore[union-attr]
        if data.iin:
            pairs.append((NameOID.SERIAL_NUMBER, f"IIN{data.iin}"))
    else:
        pairs.append((NameOID.COMMON_NAME, data.common_name))  # type: ignore[arg-type]
    pairs.append((NameOID.COUNTRY_NAME, data.country))
    if data.state:
        pairs.append((NameOID.STATE_OR_PROVINCE_NAME, data.state))
    if data.locality:
        pairs.append((NameOID.LOCALITY_NAME, data.locality))
    if data.organisation:
        pairs.append((NameOID.ORGANIZATION_NAME, data.organisation))
    if data.bin:
        pairs.append((NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{data.bin}"))
    if person and data.patronymic:
        pairs.append((NameOID.GIVEN_NAME, data.patronymic.upper()))
    if data.email:
        pairs.append((NameOID.EMAIL_ADDRESS, data.email))
    name = x509.Name([x509.NameAttribute(oid, value) for oid, value in pairs])
    return name, ",".join(f"{_RFC4514_NAMES[oid]}={_rfc4514_value(value)}" for oid, value in reversed(pairs))


# The attribute names rfc4514_string() uses for the attributes above (short names where it has one, else the
# dotted OID), asked of cryptography once.
_RFC4514_NAMES = {oid: x509.NameAttribute(oid, "KZ" if oid == NameOID.COUNTRY_NAME else "x").rfc4514_attribute_name
                  for oid in (NameOID.COMMON_NAME, NameOID.SURNAME, NameOID.SERIAL_NUMBER, NameOID.COUNTRY_NAME,
                              NameOID.STATE_OR_PROVINCE_NAME, NameOID.LOCALITY_NAME, NameOID.ORGANIZATION_NAME,
                              NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.GIVEN_NAME, NameOID.EMAIL_ADDRESS)}
_RFC4514_SPECIAL = str.maketrans({"\\": "\\\\", '"': '\\"', "+": "\\+", ",": "\\,", ";": "\\;", "<": "\\<",
                                  ">": "\\>", "\0": "\\00"})


def _rfc4514_value(value: str) -> str:
    """RFC 4514 section 2.4's escaping of a string value, as cryptography's ``rfc4514_string()`` does it."""
    if not value:
        return ""
    value = value.translate(_RFC4514_SPECIAL)
    if value[0] == "#" or (value[0] == " " and len(value) > 1):
        value = "\\" + value
    if value[-1] == " ":
        value = value[:-1] + "\\ "
    return value


def holder_numbers(serial_numbers: Iterable[str], units: Iterable[str]) -> tuple[str | None, str | None]:
    """(IIN, BIN) read back from a subject laid out as :func:`build_name` writes it.

    DOMAIN.md KZ-1: SERIALNUMBER=IIN<12 digits>, OU=BIN<12 digits>. Takes the
    attribute values, so certificates parsed by cryptography and by
    asn1crypto are read by the same rule.
    """
    iin = next((s[3:] for s in serial_numbers if s.startswith("IIN")), None)
    bin_ = next((u[3:] for u in units if u.startswith("BIN")), None)
    return iin, bin_
