"""Every certificate profile, judged by tools we did not write, and the DOMAIN rules on it.

Part 1 (external judges): for each profile in ``ca.profiles.PROFILES``, from
each centre that issues it and for an EC and an RSA holder key, plus the root
certificate and the service certificates ``init`` creates: pkilint reports no
ERROR/FATAL finding and ``openssl verify -x509_strict`` accepts the chain.
The certificate's bytes do not depend on the database, so these run on
SQLite only.

Part 2 (DOMAIN rules, KZ-1..KZ-4, NAT-2/NAT-4/NAT-8, GOV-7, ROOT-5): checked
on produced certificates, on both databases. The expected values are written
out here from DOMAIN.md and the NCA RK's public test certificates, not read
back from the profiles, so a wrong profile cannot pass its own test.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.name import _ASN1Type
from cryptography.x509.oid import (
    AuthorityInformationAccessOID,
    ExtendedKeyUsageOID,
    NameOID,
)

from ca.hierarchy import SERVICE_HOLDERS
from ca.issuance import IssuedCertificate, IssueRequest, KeySource
from ca.identity import make_test_iin
from ca.profiles import PROFILES, Role
from ca.subject import SubjectData
from tests.support.judges import (
    blocking,
    format_findings,
    gost_verify,
    involves_gost,
    openssl_text,
    openssl_verify,
    pkilint_findings,
    verify_issued_by,
)

pytestmark = pytest.mark.interop

# The certificate is the same on either database; the external tools are the slow part.
SQLITE_ONLY = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

VALID_BIN = "190340000017"
KEY_KINDS = ("ec-p256", "rsa-2048")

# --- DOMAIN.md, written out ----------------------------------------------------

# KZ-3
POLICY_OIDS = {
    "legal-sign": "1.2.398.3.3.2.1",
    "legal-auth": "1.2.398.3.3.2.2",
    "individual-sign": "1.2.398.3.3.2.3",
    "individual-auth": "1.2.398.3.3.2.4",
    # A state body is a legal entity signing documents (GOV-1): legal-entity signing.
    "government-employee": "1.2.398.3.3.2.1",
    "subordinate-ca": "1.2.398.3.3.1.1",
    "tsa": "1.2.398.3.3.2.6.1",
}
# KZ-4
EKU_INDIVIDUAL = "1.2.398.3.3.4.1.1"
EKU_ORGANISATION = "1.2.398.3.3.4.1.2"
EKU_FIRST_HEAD = "1.2.398.3.3.4.1.2.1"
EKU_MAY_SIGN = "1.2.398.3.3.4.1.2.2"
EKU_FINANCIAL = "1.2.398.3.3.4.1.2.3"
EKU_HR = "1.2.398.3.3.4.1.2.4"
EKU_EMPLOYEE = "1.2.398.3.3.4.1.2.5"
ORGANISATION_ROLE_EKUS = {EKU_FIRST_HEAD, EKU_MAY_SIGN, EKU_FINANCIAL, EKU_HR, EKU_EMPLOYEE}
EMAIL_PROTECTION = ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string

# KZ-1, read off the NCA RK's test certificates (vectors/nca-rk/certs/
# individual_valid_sign_2004_rsa.cer and ceo_valid_sign_2004_gost.cer):
# attribute types in DER order, one attribute per RDN, with their string types.
NCA_INDIVIDUAL_LAYOUT = (
    (NameOID.COMMON_NAME, _ASN1Type.UTF8String),
    (NameOID.SURNAME, _ASN1Type.UTF8String),
    (NameOID.SERIAL_NUMBER, _ASN1Type.PrintableString),
    (NameOID.COUNTRY_NAME, _ASN1Type.PrintableString),
    (NameOID.GIVEN_NAME, _ASN1Type.UTF8String),
)
NCA_LEGAL_LAYOUT = (
    (NameOID.COMMON_NAME, _ASN1Type.UTF8String),
    (NameOID.SURNAME, _ASN1Type.UTF8String),
    (NameOID.SERIAL_NUMBER, _ASN1Type.PrintableString),
    (NameOID.COUNTRY_NAME, _ASN1Type.PrintableString),
    (NameOID.ORGANIZATION_NAME, _ASN1Type.UTF8String),
    (NameOID.ORGANIZATIONAL_UNIT_NAME, _ASN1Type.UTF8String),
    (NameOID.GIVEN_NAME, _ASN1Type.UTF8String),
)
# The NCA's own test person, "ТЕСТОВ ТЕСТ ТЕСТОВИЧ".
NCA_SURNAME, NCA_NAME, NCA_PATRONYMIC = "Тестов", "Тест", "Тестович"

# The NCA RK's public test certificates, copied into the repository with
# their provenance (tests/vectors/nca-rk/README.md).
NCA_VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"


def nca_vector(name: str) -> x509.Certificate:
    data = (NCA_VECTORS / "certs" / name).read_bytes()
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


# --- issuing ---------------------------------------------------------------


def _iin(serial: int) -> str:
    while True:
        try:
            return make_test_iin(dt.date(1985, 3, 14), "M", serial)
        except ValueError:  # ~1 in 121 serials has no check digit
            serial += 1


def _csr(kind: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec-p256" else rsa.generate_private_key(65537, 2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")])
    return x509.CertificateSigningRequestBuilder().subject_name(name).sign(key, hashes.SHA256()).public_bytes(
        serialization.Encoding.PEM)


def subject_for(profile: str, serial: int = 1, **overrides) -> SubjectData:
    """A full subject for the profile's holder kind."""
    kind = PROFILES[profile].holder_kind.value
    if kind == "individual":
        data = dict(surname=NCA_SURNAME, given_name=NCA_NAME, patronymic=NCA_PATRONYMIC, iin=_iin(serial),
                    email="testov@example.kz")
    elif kind in ("legal-entity", "government"):
        data = dict(surname=NCA_SURNAME, given_name=NCA_NAME, patronymic=NCA_PATRONYMIC, iin=_iin(serial),
                    email="testov@example.kz", bin=VALID_BIN, organisation='АО "ТЕСТ"',
                    roles=(Role.FIRST_HEAD, Role.FINANCIAL))
    elif kind == "ca":
        data = dict(common_name="QOLTANBA TEST SUBORDINATE CA", organisation="QOLTANBA")
    elif profile == "legal-seal":   # an MFO's seal (issue 15): the organisation and its BIN, no person
        data = dict(common_name='АО "ТЕСТ"', organisation='АО "ТЕСТ"', bin=VALID_BIN)
    else:
        data = dict(common_name=f"QOLTANBA TEST {profile.upper()}", organisation="QOLTANBA")
    data.update(overrides)
    return SubjectData(**data)


def issue(services, profile: str, centre: str | None = None, *, key: str = "ec-p256",
          subject: SubjectData | None = None) -> IssuedCertificate:
    centre = centre or sorted(PROFILES[profile].centres)[0]
    return services.issuance.issue(IssueRequest(
        centre=centre, profile=profile, subject=subject or subject_for(profile),
        key=KeySource(csr=_csr(key)), actor="test"))


def _issuable() -> list:
    cases = []
    for name, prof in PROFILES.items():
        if name == "root-ca":  # made by init only; judged as the root certificate below
            continue
        for centre in sorted(prof.centres):
            for key in KEY_KINDS:
                cases.append(pytest.param(name, centre, key, id=f"{name}-{centre}-{key}"))
    return cases


END_ENTITY = [n for n, p in PROFILES.items() if not p.is_ca]
SUBSCRIBER = ["individual-sign", "individual-auth", "legal-sign", "legal-auth", "government-employee"]

# What ``openssl verify -purpose`` should accept each profile for.
PURPOSES = {
    "individual-sign": ("smimesign",),
    "individual-auth": ("sslclient",),
    "legal-sign": ("smimesign",),
    "legal-auth": ("sslclient",),
    "legal-seal": ("smimesign",),
    "government-employee": ("smimesign", "sslclient"),
    "tsa": ("timestampsign",),
    "ocsp-responder": ("ocsphelper",),
    "subordinate-ca": ("any",),
}


def _pem(der: bytes) -> bytes:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM)


def _judge(cert_pem: bytes, chain: list[x509.Certificate], tmp_path: Path, purposes: tuple[str, ...] = ()) -> None:
    findings = pkilint_findings(cert_pem, tmp_path)
    bad = blocking(findings)
    assert not bad, (f"pkilint ERROR/FATAL findings:\n{format_findings(bad)}\n\nall findings:\n"
                     f"{format_findings(findings)}\n\n{openssl_text(cert_pem)}")
    if involves_gost(cert_pem, chain):
        # GOV-7: the government CA is on GOST, which OpenSSL cannot verify; our
        # verifier (the NCA vectors' code path) judges the chain and purposes.
        ok, output = gost_verify(cert_pem, chain, purposes)
        assert ok, output
        return
    ok, output = openssl_verify(cert_pem, chain, tmp_path)
    assert ok, output
    for purpose in purposes:
        ok, output = openssl_verify(cert_pem, chain, tmp_path, purpose=purpose)
        assert ok, output


# --- part 1: external judges ----------------------------------------------------


@SQLITE_ONLY
@pytest.mark.parametrize(("profile", "centre", "key"), _issuable())
def test_profile_passes_pkilint_and_openssl(services, tmp_path, profile, centre, key):
    """pkilint (RFC 5280) finds no ERROR/FATAL; openssl verifies the chain and the purpose."""
    issued = issue(services, profile, centre, key=key)
    if profile == "subordinate-ca":
        chain = services.hierarchy.chain("root")
    else:
        chain = services.hierarchy.chain(centre)
    _judge(issued.pem, chain, tmp_path, PURPOSES.get(profile, ()))


@SQLITE_ONLY
def test_root_certificate_passes_pkilint_and_openssl(services, tmp_path):
    """The self-signed root (ROOT-5: it signs with its own key) is clean and a trust anchor for openssl."""
    root = services.hierarchy.chain("root")[-1]
    assert services.hierarchy.chain("national")[-1] == root
    _judge(root.public_bytes(serialization.Encoding.PEM), [root], tmp_path)


@SQLITE_ONLY
@pytest.mark.parametrize("code", ["national", "government"])
def test_centre_certificate_passes_pkilint_and_openssl(services, tmp_path, code):
    """The subordinate centres' certificates init made, judged like any other."""
    chain = services.hierarchy.chain(code)
    _judge(chain[0].public_bytes(serialization.Encoding.PEM), chain[1:], tmp_path, ("any",))


@SQLITE_ONLY
@pytest.mark.parametrize("name", sorted(SERVICE_HOLDERS))
def test_service_certificate_passes_pkilint_and_openssl(services, tmp_path, name):
    """The OCSP, TSA and MFO seal certificates init made."""
    centre, profile = SERVICE_HOLDERS[name]
    row = services.hierarchy.service_certificate(name)
    _judge(_pem(row.der), services.hierarchy.chain(centre), tmp_path, PURPOSES.get(profile, ()))


@SQLITE_ONLY
def test_judges_are_not_vacuous(services, tmp_path):
    """openssl refuses a wrong chain and an expired moment; pkilint reports a broken certificate."""
    issued = issue(services, "individual-sign", key="rsa-2048")
    ok, output = openssl_verify(issued.pem, services.hierarchy.chain("government"), tmp_path)
    assert not ok, output
    after = issued.certificate.not_valid_after_utc + dt.timedelta(days=1)
    ok, output = openssl_verify(issued.pem, services.hierarchy.chain("national"), tmp_path, at=after)
    assert not ok and "expired" in output, output
    ok, output = openssl_verify(issued.pem, services.hierarchy.chain("national"), tmp_path,
                                at=issued.certificate.not_valid_before_utc + dt.timedelta(days=30))
    assert ok, output
    # A certificate with an empty subject and no SAN is an RFC 5280 error.
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.timezone.utc)
    broken = (x509.CertificateBuilder().subject_name(x509.Name([])).issuer_name(x509.Name([]))
              .public_key(key.public_key()).serial_number(1).not_valid_before(now)
              .not_valid_after(now + dt.timedelta(days=1)).sign(key, hashes.SHA256()))
    assert blocking(pkilint_findings(broken.public_bytes(serialization.Encoding.DER), tmp_path))


GOST_2015_512_KEY = "1.2.398.3.10.1.1.2.2"
GOST_2015_512_SIGNATURE = "1.2.398.3.10.1.1.2.3.2"  # KZ-5


def _gost_csr(tmp_path: Path) -> bytes:
    from keys import KeyAlgorithm, SoftwareKeyBackend
    from keys.x509sign import build_csr

    backend = SoftwareKeyBackend(tmp_path / "holder-keys", b"h" * 32)
    handle = backend.generate(KeyAlgorithm.GOST_2015_512, "holder").handle
    return build_csr(backend, handle, x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "holder")]))


@SQLITE_ONLY
@pytest.mark.parametrize("key", ["gost2015-512", *KEY_KINDS])
def test_gov7_government_centre_signs_with_gost_and_our_verifier_judges_it(services, tmp_path, key):
    """GOV-7, KZ-5: the government CA's key and signatures are GOST R 34.10-2015 512; pkilint lints the
    structure, our GOST verifier the chain and purposes, and it is not vacuous."""
    chain = services.hierarchy.chain("government")
    gov_ca = chain[0]
    assert gov_ca.public_key_algorithm_oid.dotted_string == GOST_2015_512_KEY
    csr = _gost_csr(tmp_path) if key.startswith("gost") else _csr(key)
    issued = services.issuance.issue(IssueRequest(
        centre="government", profile="government-employee", subject=subject_for("government-employee"),
        key=KeySource(csr=csr), actor="test"))
    assert issued.certificate.signature_algorithm_oid.dotted_string == GOST_2015_512_SIGNATURE
    if key.startswith("gost"):
        assert issued.certificate.public_key_algorithm_oid.dotted_string == GOST_2015_512_KEY
    _judge(issued.pem, chain, tmp_path, PURPOSES["government-employee"])
    # Not vacuous: one bit flipped in the signature, the wrong chain, a purpose it lacks, too late.
    der = bytearray(issued.certificate.public_bytes(serialization.Encoding.DER))
    der[-10] ^= 0x01
    assert gost_verify(bytes(der), chain) == (False, "the issuer's signature does not verify")
    assert not gost_verify(issued.pem, services.hierarchy.chain("national"))[0]
    assert not gost_verify(issued.pem, chain, ("timestampsign",))[0]
    late = issued.certificate.not_valid_after_utc + dt.timedelta(days=1)
    assert "expired" in gost_verify(issued.pem, chain, at=late)[1]


# --- part 2: DOMAIN rules ---------------------------------------------------------


def _layout(name: x509.Name) -> list[tuple]:
    assert all(len(rdn) == 1 for rdn in name.rdns), "one attribute per RDN, as the NCA does"
    return [(attr.oid, attr._type) for attr in name]


def _values(name: x509.Name) -> list[tuple]:
    return [(attr.oid, attr.value) for attr in name]


def test_kz1_individual_dn_matches_nca_layout(services):
    """KZ-1: CN=SURNAME NAME, SURNAME, SERIALNUMBER=IIN…, C=KZ, G=patronymic, then E — as the NCA's."""
    subject = subject_for("individual-sign", 7)
    cert = issue(services, "individual-sign", subject=subject).certificate
    assert _values(cert.subject) == [
        (NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
        (NameOID.SURNAME, "ТЕСТОВ"),
        (NameOID.SERIAL_NUMBER, f"IIN{subject.iin}"),
        (NameOID.COUNTRY_NAME, "KZ"),
        (NameOID.GIVEN_NAME, "ТЕСТОВИЧ"),
        (NameOID.EMAIL_ADDRESS, "testov@example.kz"),
    ]
    layout = _layout(cert.subject)
    assert tuple(layout[:-1]) == NCA_INDIVIDUAL_LAYOUT
    assert layout[-1] == (NameOID.EMAIL_ADDRESS, _ASN1Type.IA5String)


def test_kz1_legal_entity_dn_matches_nca_layout(services):
    """KZ-1: a legal entity's DN adds O and OU=BIN… after C, before G, as the NCA's CEO certificate."""
    subject = subject_for("legal-sign", 8)
    cert = issue(services, "legal-sign", subject=subject).certificate
    assert _values(cert.subject) == [
        (NameOID.COMMON_NAME, "ТЕСТОВ ТЕСТ"),
        (NameOID.SURNAME, "ТЕСТОВ"),
        (NameOID.SERIAL_NUMBER, f"IIN{subject.iin}"),
        (NameOID.COUNTRY_NAME, "KZ"),
        (NameOID.ORGANIZATION_NAME, 'АО "ТЕСТ"'),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, f"BIN{VALID_BIN}"),
        (NameOID.GIVEN_NAME, "ТЕСТОВИЧ"),
        (NameOID.EMAIL_ADDRESS, "testov@example.kz"),
    ]
    assert tuple(_layout(cert.subject)[:-1]) == NCA_LEGAL_LAYOUT


def test_kz1_without_patronymic_or_email(services):
    """KZ-1: G and E are left out, not emptied, when the holder has none."""
    subject = subject_for("individual-auth", 9, patronymic=None, email=None)
    cert = issue(services, "individual-auth", subject=subject, key="rsa-2048").certificate
    assert [oid for oid, _ in _layout(cert.subject)] == [oid for oid, _ in NCA_INDIVIDUAL_LAYOUT[:4]]


@pytest.mark.parametrize(("vector", "layout"), [
    ("individual_valid_sign_2004_rsa.cer", NCA_INDIVIDUAL_LAYOUT),
    ("individual_valid_sign_2004_rsa_auth.cer", NCA_INDIVIDUAL_LAYOUT),
    ("individual_gost2015.cer", NCA_INDIVIDUAL_LAYOUT),
    ("ceo_valid_sign_2004_gost.cer", NCA_LEGAL_LAYOUT),
])
def test_kz1_layout_constants_are_the_real_nca_layout(vector, layout):
    """KZ-1/KZ-6: the layouts above are those of the NCA RK's real test certificates."""
    cert = nca_vector(vector)
    assert tuple(_layout(cert.subject)) == layout
    values = dict(_values(cert.subject))
    assert values[NameOID.COMMON_NAME] == f"{NCA_SURNAME} {NCA_NAME}".upper()
    assert values[NameOID.SURNAME] == NCA_SURNAME.upper()
    assert values[NameOID.GIVEN_NAME] == NCA_PATRONYMIC.upper()
    assert values[NameOID.SERIAL_NUMBER].startswith("IIN")


def test_nat4_subject_and_issuer_fields(services):
    """NAT-4: the subject carries E, SN=IIN…, CN, OU=BIN…, O, L, ST, C=KZ; the issuer C=KZ, O, CN."""
    subject = subject_for("legal-sign", 10, locality="Астана", state="Астана")
    cert = issue(services, "legal-sign", subject=subject).certificate
    oids = [oid for oid, _ in _values(cert.subject)]
    assert set(oids) == {NameOID.EMAIL_ADDRESS, NameOID.SERIAL_NUMBER, NameOID.COMMON_NAME, NameOID.SURNAME,
                         NameOID.ORGANIZATIONAL_UNIT_NAME, NameOID.ORGANIZATION_NAME, NameOID.LOCALITY_NAME,
                         NameOID.STATE_OR_PROVINCE_NAME, NameOID.COUNTRY_NAME, NameOID.GIVEN_NAME}
    # L and ST come right after C (KZ-1 keeps CN, SURNAME, SERIALNUMBER first).
    c = oids.index(NameOID.COUNTRY_NAME)
    assert set(oids[c + 1:c + 3]) == {NameOID.LOCALITY_NAME, NameOID.STATE_OR_PROVINCE_NAME}
    issuer = dict(_values(cert.issuer))
    assert issuer[NameOID.COUNTRY_NAME] == "KZ"
    assert issuer[NameOID.ORGANIZATION_NAME] and issuer[NameOID.COMMON_NAME]
    assert cert.issuer == services.hierarchy.chain("national")[0].subject


def _key_usage(cert: x509.Certificate) -> set[str]:
    ext = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ext.critical, "keyUsage is critical (RFC 5280 §4.2.1.3, and the NCA's)"
    ku = ext.value
    names = {"digital_signature", "content_commitment", "key_encipherment", "data_encipherment",
             "key_agreement", "key_cert_sign", "crl_sign"}
    return {n for n in names if getattr(ku, n)}


def _ekus(cert: x509.Certificate) -> set[str]:
    try:
        return {o.dotted_string for o in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value}
    except x509.ExtensionNotFound:
        return set()


def test_kz2_auth_certificate(services):
    """KZ-2: AUTH = digitalSignature + keyEncipherment, EKU clientAuth (and no emailProtection)."""
    cert = issue(services, "individual-auth", key="rsa-2048").certificate
    assert _key_usage(cert) == {"digital_signature", "key_encipherment"}
    assert _ekus(cert) == {CLIENT_AUTH, EKU_INDIVIDUAL}


@pytest.mark.parametrize("profile", ["individual-auth", "legal-auth", "government-employee"])
def test_kz2_auth_with_ec_key_agrees_instead_of_enciphering(services, profile):
    """KZ-2 on an EC key: RFC 5480 §3 forbids keyEncipherment, so keyAgreement takes its place."""
    centre = sorted(PROFILES[profile].centres)[0]
    cert = issue(services, profile, centre, key="ec-p256").certificate
    usages = _key_usage(cert)
    assert "key_encipherment" not in usages
    assert {"digital_signature", "key_agreement"} <= usages
    assert CLIENT_AUTH in _ekus(cert)


def test_kz2_sign_certificate(services):
    """KZ-2: SIGN = digitalSignature + nonRepudiation, EKU emailProtection (and no clientAuth)."""
    cert = issue(services, "individual-sign").certificate
    assert _key_usage(cert) == {"digital_signature", "content_commitment"}
    assert _ekus(cert) == {EMAIL_PROTECTION, EKU_INDIVIDUAL}


@pytest.mark.parametrize(("profile", "vector"), [
    ("individual-sign", "individual_valid_sign_2004_rsa.cer"),
    ("individual-auth", "individual_valid_sign_2004_rsa_auth.cer"),
])
def test_kz2_pair_matches_nca_certificates(services, profile, vector):
    """KZ-2/KZ-6: our SIGN and AUTH key usages and EKUs are exactly those of the NCA's RSA pair."""
    nca = nca_vector(vector)
    cert = issue(services, profile, key="rsa-2048").certificate
    assert _key_usage(cert) == _key_usage(nca)
    assert _ekus(cert) == _ekus(nca)


def _policies(cert: x509.Certificate) -> list[x509.PolicyInformation]:
    return list(cert.extensions.get_extension_for_class(x509.CertificatePolicies).value)


@pytest.mark.parametrize("profile", sorted(POLICY_OIDS))
def test_kz3_policy_oid(services, profile):
    """KZ-3: each profile carries the NCA's policy OID, with our CPS as qualifier."""
    centre = sorted(PROFILES[profile].centres)[0]
    cert = issue(services, profile, centre).certificate
    policies = _policies(cert)
    assert [p.policy_identifier.dotted_string for p in policies] == [POLICY_OIDS[profile]]
    assert policies[0].policy_qualifiers == [f"{services.settings.base_url}/cps"]


@pytest.mark.parametrize("code", ["national", "government"])
def test_kz3_centre_certificates_carry_the_ca_policy(services, code):
    """KZ-3: the intermediate CAs carry 1.2.398.3.3.1.1, as the NCA's intermediate does."""
    cert = services.hierarchy.chain(code)[0]
    assert [p.policy_identifier.dotted_string for p in _policies(cert)] == [POLICY_OIDS["subordinate-ca"]]


def test_kz4_role_ekus_on_legal_sign(services):
    """KZ-4: a first head with financial signing right: organisation + first-head + financial EKUs."""
    subject = subject_for("legal-sign", 11, roles=(Role.FIRST_HEAD, Role.FINANCIAL))
    cert = issue(services, "legal-sign", subject=subject).certificate
    assert _ekus(cert) == {EMAIL_PROTECTION, EKU_ORGANISATION, EKU_FIRST_HEAD, EKU_FINANCIAL}
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert not eku.critical  # the NCA's are not critical either


def test_kz4_ceo_ekus_match_nca_certificate(services):
    """KZ-4/KZ-6: a first head's SIGN certificate has the EKUs of the NCA's CEO certificate."""
    nca = nca_vector("ceo_valid_sign_2004_gost.cer")
    subject = subject_for("legal-sign", 12, roles=(Role.FIRST_HEAD,))
    cert = issue(services, "legal-sign", subject=subject).certificate
    assert _ekus(cert) == _ekus(nca)
    assert _key_usage(cert) == _key_usage(nca)


def test_kz4_default_role_is_employee(services):
    """KZ-4: a legal entity's representative without a named role is an employee (.4.1.2.5)."""
    cert = issue(services, "legal-auth", key="rsa-2048", subject=subject_for("legal-auth", 13, roles=())).certificate
    assert _ekus(cert) == {CLIENT_AUTH, EKU_ORGANISATION, EKU_EMPLOYEE}


@pytest.mark.parametrize("profile", ["individual-sign", "individual-auth"])
def test_kz4_individual_has_no_organisation_ekus(services, profile):
    """KZ-4: an individual's certificate carries 1.2.398.3.3.4.1.1 and no organisation role."""
    ekus = _ekus(issue(services, profile, key="rsa-2048").certificate)
    assert EKU_INDIVIDUAL in ekus
    assert not ekus & (ORGANISATION_ROLE_EKUS | {EKU_ORGANISATION})


def _end_entity_cases() -> list:
    cases = [pytest.param("issue", p, c, id=f"{p}-{c}") for p in END_ENTITY for c in sorted(PROFILES[p].centres)]
    cases += [pytest.param("service", name, SERVICE_HOLDERS[name][0], id=f"service-{name}")
              for name in sorted(SERVICE_HOLDERS)]
    return cases


@pytest.mark.parametrize(("how", "what", "centre"), _end_entity_cases())
def test_nat8_end_entity_has_aia_and_crl_points_at_base_url(services, how, what, centre):
    """NAT-8/ROOT-6: every end-entity certificate names its CA's certificate, OCSP and CRL under the base URL."""
    if how == "issue":
        cert = issue(services, what, centre, key="rsa-2048").certificate
    else:
        cert = x509.load_der_x509_certificate(services.hierarchy.service_certificate(what).der)
    base = services.settings.base_url
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    by_method: dict = {}
    for desc in aia:
        by_method.setdefault(desc.access_method, []).append(desc.access_location.value)
    assert by_method.get(AuthorityInformationAccessOID.CA_ISSUERS) == [f"{base}/ca/{centre}.cer"]
    assert by_method.get(AuthorityInformationAccessOID.OCSP) == [f"{base}/ocsp/{centre}"]
    cdp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    urls = [n.value for dp in cdp for n in dp.full_name or ()]
    assert urls == [f"{base}/crl/{centre}.crl"]
    assert all(u.startswith(base + "/") for u in urls)
    # the CA named in AIA is the one that signed it
    verify_issued_by(cert, services.hierarchy.chain(centre)[0])


@pytest.mark.parametrize("profile", SUBSCRIBER)
def test_nat2_gov7_end_entity_validity_is_one_year(services, profile):
    """NAT-2 / GOV-7: a subscriber's certificate is valid for 1 year, i.e. 365 days."""
    centre = sorted(PROFILES[profile].centres)[0]
    cert = issue(services, profile, centre, key="rsa-2048").certificate
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(days=365)
    now = dt.datetime.now(dt.timezone.utc)
    assert abs(cert.not_valid_before_utc - now) < dt.timedelta(minutes=5)


def test_root5_hierarchy_is_signed_by_the_root(services):
    """ROOT-5: the centres' certificates are signed by the root CA's key; the root signs itself."""
    root = services.hierarchy.chain("root")[-1]
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    for code in ("national", "government"):
        chain = services.hierarchy.chain(code)
        assert len(chain) == 2 and chain[-1] == root
        chain[0].verify_directly_issued_by(root)
        bc = chain[0].extensions.get_extension_for_class(x509.BasicConstraints).value
        assert bc.ca and bc.path_length == 0
    sub = issue(services, "subordinate-ca", "root").certificate
    sub.verify_directly_issued_by(root)
