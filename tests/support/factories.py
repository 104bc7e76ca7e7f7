"""Small builders for test data: valid IINs, CSRs, application forms."""

from __future__ import annotations

import datetime as dt
import itertools

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ca.identity import make_test_iin

VALID_BIN = "190340000017"
_serials = itertools.count(1)


def iin() -> str:
    """A fresh valid IIN on every call."""
    while True:
        serial = next(_serials)
        try:
            return make_test_iin(dt.date(1985, 5, 5) + dt.timedelta(days=serial // 9000), "M", serial % 9000)
        except ValueError:
            continue


def bad_iin() -> str:
    good = iin()
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def csr_pem(tamper: bool = False, key=None) -> bytes:
    """A CSR for ``key`` (a fresh P-256 key by default); ``tamper`` breaks its signature."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    csr = x509.CertificateSigningRequestBuilder().subject_name(
        x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "holder")])).sign(key, hashes.SHA256())
    der = bytearray(csr.public_bytes(serialization.Encoding.DER))
    if tamper:
        der[-3] ^= 0x01  # inside the signature value
    return b"-----BEGIN CERTIFICATE REQUEST-----\n" + __import__("base64").encodebytes(bytes(der)) + \
        b"-----END CERTIFICATE REQUEST-----\n"


def individual_form(**overrides: object) -> dict:
    form = {"iin": iin(), "surname": "Тестов", "given_name": "Тест", "patronymic": "Тестович",
            "region": "Алматы", "city": "Алматы", "email": "test@example.kz", "phone": "+7 701 123 45 67",
            "usage_areas": ["e-government"], "eds_tool": "NCALayer", "algorithm": "ECDSA P-256"}
    form.update(overrides)
    return form


def legal_form(**overrides: object) -> dict:
    form = individual_form(bin=VALID_BIN, organisation="ТОО Тест", short_name="ТЕСТ", role="first-head")
    form.update(overrides)
    return form


def government_form(persons: list[str], letter: str = "01-15/123") -> dict:
    return {"state_body": "МИНИСТЕРСТВО ТЕСТА", "state_body_bin": VALID_BIN, "letter_number": letter,
            "letter_date": "2026-11-20", "form_numbers": "F-1",
            "persons": [{"iin": p, "surname": "Иванов", "given_name": "Иван", "position": "specialist",
                         "region": "Астана"} for p in persons]}


def government_attachments(persons: list[str]) -> list[dict]:
    return [{"kind": "official-letter", "name": "letter.pdf"}] + [
        {"kind": "id-copy", "name": f"{p}.pdf", "person_iin": p} for p in persons]


def issue_person(services, *, centre: str = "national", profile: str = "individual-sign", holder_iin: str | None = None,
                 password: bytes | None = None, bin_: str | None = None):
    """Issue one certificate straight through the authority (no application), for revocation tests.

    ``password``: the centre generates the key into a PKCS#12 carrier (government CA style).
    """
    from ca.issuance import IssueRequest, KeySource
    from ca.profiles import Role
    from ca.subject import SubjectData

    legal = profile.startswith("legal") or centre == "government"
    subject = SubjectData(surname="Тестов", given_name="Тест", iin=holder_iin or iin(), email="t@example.kz",
                          bin=(bin_ or VALID_BIN) if legal else None,
                          organisation="МИНИСТЕРСТВО ТЕСТА" if legal else None,
                          roles=(Role.EMPLOYEE,) if legal else ())
    key = KeySource(pkcs12_password=password) if password else KeySource(csr=csr_pem())
    if centre == "government":
        profile = "government-employee"
    return services.issuance.issue(IssueRequest(centre=centre, profile=profile, subject=subject, key=key,
                                                 actor="test"))


def loan_metadata(**overrides: object) -> dict:
    """Valid metadata of a consumer microcredit contract to an individual (LOAN-13's limits respected)."""
    metadata = {"kind": "contract", "contract_number": f"MK-2026/{next(_serials):05d}", "client_id_number": iin(),
                "client_kind": "individual", "loan_amount": "250000.00", "term_days": 180,
                "annual_effective_rate": "45.90", "interest_rate": "39.50", "secured": False,
                "purpose": "consumer", "template_version": "2026-01", "title": "Microcredit contract"}
    metadata.update(overrides)
    return {k: v for k, v in metadata.items() if v is not None}


def joint_entrepreneurship_bin() -> str:
    """A valid BIN whose 5th digit is 6: individual entrepreneurs in joint entrepreneurship."""
    from ca.identity import iin_check_digit

    for serial in range(1, 100):
        first11 = f"190360{serial:05d}"
        check = iin_check_digit(first11)
        if check is not None:
            return first11 + str(check)
    raise AssertionError("no check digit found")
