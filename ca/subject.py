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
    elif not data.common_name:
        add("common_name", "is required")
    elif len(data.common_name) > 64:
        add("common_name", "is longer than 64 characters")
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
    attrs: list[x509.NameAttribute] = []
    person = profile.holder_kind in (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)
    if person:
        cn = f"{data.surname} {data.given_name}".upper()
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
        attrs.append(x509.NameAttribute(NameOID.SURNAME, data.surname.upper()))  # type: ignore[union-attr]
        if data.iin:
            attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, f"IIN{data.iin}"))
    else:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, data.common_name))  # type: ignore[arg-type]
    attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, data.country))
    if data.state:
        attrs.append(x509.NameAttribute(NameOID.STATE_OR_PROVINCE_NAME, data.state))
    if data.locality:
        attrs.append(x509.NameAttribute(NameOID.LOCALITY_NAME, data.locality))
    if data.organisation:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, data.organisation))
    if data.bin:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{data.bin}"))
    if person and data.patronymic:
        attrs.append(x509.NameAttribute(NameOID.GIVEN_NAME, data.patronymic.upper()))
    if data.email:
        attrs.append(x509.NameAttribute(NameOID.EMAIL_ADDRESS, data.email))
    return x509.Name(attrs)


def holder_numbers(serial_numbers: Iterable[str], units: Iterable[str]) -> tuple[str | None, str | None]:
    """(IIN, BIN) read back from a subject laid out as :func:`build_name` writes it.

    DOMAIN.md KZ-1: SERIALNUMBER=IIN<12 digits>, OU=BIN<12 digits>. Takes the
    attribute values, so certificates parsed by cryptography and by
    asn1crypto are read by the same rule.
    """
    iin = next((s[3:] for s in serial_numbers if s.startswith("IIN")), None)
    bin_ = next((u[3:] for u in units if u.startswith("BIN")), None)
    return iin, bin_
