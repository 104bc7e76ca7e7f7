"""The CRL encoder (ca/crl.py): every field read back by cryptography, bytes checked against asn1crypto."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pytest
from asn1crypto import algos as asn1_algos
from asn1crypto import core as asn1_core
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

from ca import crl as crl_module
from ca.crl import REASON_CODES, CRLParams, assemble_crl, encode_tbs_crl, sign_crl
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, sign_certificate, signature_algorithm_der

MASTER = bytes(range(32))
UTC = dt.timezone.utc
THIS_UPDATE = dt.datetime(2026, 11, 21, 9, 30, 0, tzinfo=UTC)
NEXT_UPDATE = THIS_UPDATE + dt.timedelta(days=1)
DELTA_URL = "http://pki.example.kz/crl/national-delta.crl"
ECDSA_SHA256 = signature_algorithm_der(KeyAlgorithm.EC_P256, "sha256")
SERIAL_159 = (1 << 158) | 0x1234567890ABCDEF  # the shape of ca.issuance.new_serial()


def epoch(*args: int) -> int:
    return int(dt.datetime(*args, tzinfo=UTC).timestamp())


ENTRIES = [
    (SERIAL_159, epoch(2026, 11, 20, 23, 59, 59), 1),
    (0x0102030405060708, epoch(2026, 3, 1, 0, 0, 0), None),
    (0x8000000000000000, epoch(2025, 12, 31, 12, 0, 1), 0),  # top bit set: 00 pad
    (1, epoch(2024, 2, 29, 7, 8, 9), 4),
    (0xFF, epoch(2024, 2, 29, 7, 8, 9), 10),
]


class CA:
    def __init__(self, backend: SoftwareKeyBackend, algorithm: KeyAlgorithm) -> None:
        self.backend = backend
        self.handle = backend.generate(algorithm, f"crl test {algorithm.value}").handle
        self.public_key = backend.public_key(self.handle)
        name = x509.Name([x509.NameAttribute(NameOID.COUNTRY_NAME, "KZ"),
                          x509.NameAttribute(NameOID.COMMON_NAME, "Qoltanba CRL Test CA")])
        self.ski = x509.SubjectKeyIdentifier.from_public_key(self.public_key)
        builder = (
            x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(self.public_key).serial_number(SERIAL_159)
            .not_valid_before(THIS_UPDATE - dt.timedelta(days=30))
            .not_valid_after(THIS_UPDATE + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                           critical=True)
            .add_extension(self.ski, critical=False)
        )
        self.certificate = sign_certificate(backend, self.handle, builder)

    def params(self, **changes: object) -> CRLParams:
        fields = dict(issuer_name_der=self.certificate.subject.public_bytes(),
                      authority_key_identifier=self.ski.digest, this_update=THIS_UPDATE,
                      next_update=NEXT_UPDATE, crl_number=7, freshest_crl_url=DELTA_URL)
        fields.update(changes)
        return CRLParams(**fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> SoftwareKeyBackend:
    return SoftwareKeyBackend(Path(tmp_path_factory.mktemp("keys")), MASTER)


@pytest.fixture(scope="module")
def ec_ca(backend: SoftwareKeyBackend) -> CA:
    return CA(backend, KeyAlgorithm.EC_P256)


@pytest.fixture(scope="module")
def rsa_ca(backend: SoftwareKeyBackend) -> CA:
    return CA(backend, KeyAlgorithm.RSA_2048)


def tbs_of(der: bytes) -> asn1_crl.TbsCertList:
    return asn1_crl.CertificateList.load(der, strict=True)["tbs_cert_list"]


# --- what the CRL says ---------------------------------------------------------------


def test_full_crl_reads_back_field_by_field(ec_ca: CA) -> None:
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), ENTRIES))
    assert crl.issuer == ec_ca.certificate.subject
    assert crl.last_update_utc == THIS_UPDATE
    assert crl.next_update_utc == NEXT_UPDATE
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 7
    aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    assert aki.value.key_identifier == ec_ca.ski.digest and not aki.critical
    assert aki.value.authority_cert_issuer is None and aki.value.authority_cert_serial_number is None
    freshest = crl.extensions.get_extension_for_class(x509.FreshestCRL)
    assert not freshest.critical
    assert [p.full_name for p in freshest.value] == [[x509.UniformResourceIdentifier(DELTA_URL)]]
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert len(crl.extensions) == 3
    assert [e.critical for e in crl.extensions] == [False, False, False]


def test_entries_read_back_in_order_with_dates_and_reasons(ec_ca: CA) -> None:
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), ENTRIES))
    assert len(crl) == len(ENTRIES)
    for revoked, (serial, revoked_at, reason) in zip(crl, ENTRIES):
        assert revoked.serial_number == serial
        assert revoked.revocation_date_utc == dt.datetime.fromtimestamp(revoked_at, UTC)
        if reason:
            extension = revoked.extensions.get_extension_for_class(x509.CRLReason)
            assert not extension.critical
            assert _reason_code(extension.value.reason) == reason
        else:
            assert len(revoked.extensions) == 0


def _reason_code(flag: x509.ReasonFlags) -> int:
    codes = {
        x509.ReasonFlags.unspecified: 0, x509.ReasonFlags.key_compromise: 1,
        x509.ReasonFlags.ca_compromise: 2, x509.ReasonFlags.affiliation_changed: 3,
        x509.ReasonFlags.superseded: 4, x509.ReasonFlags.cessation_of_operation: 5,
        x509.ReasonFlags.certificate_hold: 6, x509.ReasonFlags.remove_from_crl: 8,
        x509.ReasonFlags.privilege_withdrawn: 9, x509.ReasonFlags.aa_compromise: 10,
    }
    return codes[flag]


def test_every_reason_code_but_unspecified_is_encoded(ec_ca: CA) -> None:
    entries = [(100 + code, epoch(2026, 1, 1), code) for code in REASON_CODES.values()]
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), entries))
    for revoked, (_, _, code) in zip(crl, entries):
        if code == 0:
            # RFC 5280 §5.3.1: unspecified is expressed by leaving reasonCode out.
            assert len(revoked.extensions) == 0
        else:
            assert _reason_code(revoked.extensions.get_extension_for_class(x509.CRLReason).value.reason) == code


def test_reason_code_names_are_rfc_5280_in_kebab_case() -> None:
    assert REASON_CODES == {
        "unspecified": 0, "key-compromise": 1, "ca-compromise": 2, "affiliation-changed": 3,
        "superseded": 4, "cessation-of-operation": 5, "certificate-hold": 6,
        "remove-from-crl": 8, "privilege-withdrawn": 9, "aa-compromise": 10,
    }


def test_delta_crl_carries_critical_delta_indicator_and_no_freshest_crl(ec_ca: CA) -> None:
    params = ec_ca.params(crl_number=9, delta_base=7, freshest_crl_url=None)
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), params, ENTRIES[:2]))
    indicator = crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator)
    assert indicator.critical and indicator.value.crl_number == 7
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == 9
    with pytest.raises(x509.ExtensionNotFound):
        crl.extensions.get_extension_for_class(x509.FreshestCRL)
    assert crl.is_signature_valid(ec_ca.public_key)


def test_version_is_v2_and_signature_fields_match(ec_ca: CA) -> None:
    der = sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), ENTRIES)
    certificate_list = asn1_crl.CertificateList.load(der, strict=True)
    tbs = certificate_list["tbs_cert_list"]
    assert tbs["version"].native == "v2"
    # RFC 5280 §5.1.1.2: signatureAlgorithm equals the TBSCertList's signature field.
    assert tbs["signature"].dump() == certificate_list["signature_algorithm"].dump() == ECDSA_SHA256


@pytest.mark.parametrize("which", ["ec_ca", "rsa_ca"])
def test_signature_verifies_with_the_ca_public_key(which: str, request: pytest.FixtureRequest) -> None:
    ca: CA = request.getfixturevalue(which)
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ca.backend, ca.handle), ca.params(), ENTRIES))
    assert crl.is_signature_valid(ca.public_key)
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA256)
    other = CA(ca.backend, KeyAlgorithm.EC_P256)
    assert not crl.is_signature_valid(other.public_key)


def test_explicit_hash_is_used(ec_ca: CA) -> None:
    crl = x509.load_der_x509_crl(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), ENTRIES, "sha384"))
    assert isinstance(crl.signature_hash_algorithm, hashes.SHA384)
    assert crl.is_signature_valid(ec_ca.public_key)


def test_empty_crl_leaves_revoked_certificates_out(ec_ca: CA) -> None:
    der = sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), [])
    crl = x509.load_der_x509_crl(der)
    assert len(crl) == 0 and crl.is_signature_valid(ec_ca.public_key)
    # RFC 5280 §5.1.2.6: absent, not an empty SEQUENCE.
    assert isinstance(tbs_of(der)["revoked_certificates"], asn1_core.Void)


# --- the bytes themselves --------------------------------------------------------------


def asn1crypto_tbs(params: CRLParams, entries: list, signature_algorithm: bytes) -> bytes:
    """The same TBSCertList built with asn1crypto, an independent encoder."""
    def time(when: dt.datetime) -> dict:
        return {"utc_time" if 1950 <= when.year < 2050 else "general_time": when}

    names = {code: name.replace("-", "_") for name, code in REASON_CODES.items()}
    revoked = [
        {"user_certificate": serial,
         "revocation_date": time(dt.datetime.fromtimestamp(at, UTC)),
         **({"crl_entry_extensions": [{"extn_id": "crl_reason", "extn_value": names[reason]}]}
            if reason else {})}
        for serial, at, reason in entries
    ]
    extensions = [
        {"extn_id": "authority_key_identifier", "extn_value": {"key_identifier": params.authority_key_identifier}},
        {"extn_id": "crl_number", "extn_value": params.crl_number},
    ]
    if params.delta_base is not None:
        extensions.append({"extn_id": "delta_crl_indicator", "critical": True, "extn_value": params.delta_base})
    if params.freshest_crl_url is not None:
        extensions.append({"extn_id": "freshest_crl", "extn_value": [
            {"distribution_point": {"full_name": [
                asn1_x509.GeneralName(name="uniform_resource_identifier", value=params.freshest_crl_url)]}}]})
    tbs = {
        "version": "v2",
        "signature": asn1_algos.SignedDigestAlgorithm.load(signature_algorithm),
        "issuer": asn1_x509.Name.load(params.issuer_name_der),
        "this_update": time(params.this_update),
        "next_update": time(params.next_update),
        "crl_extensions": extensions,
    }
    if revoked:
        tbs["revoked_certificates"] = revoked
    return asn1_crl.TbsCertList(tbs).dump(force=True)


@pytest.mark.parametrize("delta", [False, True])
def test_tbs_matches_asn1crypto_byte_for_byte(ec_ca: CA, delta: bool) -> None:
    params = ec_ca.params(crl_number=12, delta_base=11, freshest_crl_url=None) if delta else ec_ca.params()
    ours = encode_tbs_crl(params, ENTRIES, ECDSA_SHA256)
    assert ours == asn1crypto_tbs(params, ENTRIES, ECDSA_SHA256)


def test_empty_tbs_matches_asn1crypto_byte_for_byte(ec_ca: CA) -> None:
    assert encode_tbs_crl(ec_ca.params(), [], ECDSA_SHA256) == asn1crypto_tbs(ec_ca.params(), [], ECDSA_SHA256)


def test_large_crl_with_long_form_lengths_matches_asn1crypto(ec_ca: CA) -> None:
    rng = random.Random(5280)
    entries = [((1 << 158) | rng.getrandbits(158), epoch(2026, 1, 1) + rng.randrange(10**7),
                rng.choice([None, 1, 4, 5])) for _ in range(2000)]
    assert encode_tbs_crl(ec_ca.params(), entries, ECDSA_SHA256) == asn1crypto_tbs(ec_ca.params(), entries,
                                                                                     ECDSA_SHA256)


@pytest.mark.parametrize(("serial", "content"), [
    (1, "01"), (0x7F, "7f"), (0x80, "0080"), (0xFF, "00ff"), (0x100, "0100"),
    (0x7FFFFFFFFFFFFFFF, "7fffffffffffffff"), (0x8000000000000000, "008000000000000000"),
    (SERIAL_159, "40" + "00" * 11 + "1234567890abcdef"), ((1 << 159) - 1, "7f" + "ff" * 19),
])
def test_serials_are_minimal_positive_integers(ec_ca: CA, serial: int, content: str) -> None:
    tbs = tbs_of(sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), ec_ca.params(), [(serial, epoch(2026, 1, 1), None)]))
    integer = tbs["revoked_certificates"][0]["user_certificate"]
    assert integer.contents.hex() == content
    assert integer.native == serial


def test_assemble_wraps_signature_in_a_bit_string_without_unused_bits() -> None:
    tbs = b"\x30\x03\x02\x01\x01"
    der = assemble_crl(tbs, ECDSA_SHA256, b"\xAA" * 200)
    assert der[:4] == b"\x30\x81" + bytes((len(der) - 3,)) + b"\x30"
    assert der.endswith(b"\x03\x81\xc9\x00" + b"\xAA" * 200)


# --- times -------------------------------------------------------------------------------


def test_generalized_time_from_2050_and_before_1950(ec_ca: CA) -> None:
    params = ec_ca.params(this_update=dt.datetime(2049, 12, 31, 23, 59, 59, tzinfo=UTC),
                          next_update=dt.datetime(2050, 1, 1, tzinfo=UTC))
    entries = [(11, epoch(2050, 1, 1), 1), (12, epoch(2049, 12, 31, 23, 59, 59), None),
               (13, epoch(1949, 12, 31, 23, 59, 59), None), (14, epoch(1950, 1, 1), 2)]
    der = sign_crl(KeySigner(ec_ca.backend, ec_ca.handle), params, entries)
    tbs = tbs_of(der)
    assert tbs["this_update"].name == "utc_time" and tbs["next_update"].name == "general_time"
    assert tbs["next_update"].chosen.contents == b"20500101000000Z"
    kinds = [r["revocation_date"].name for r in tbs["revoked_certificates"]]
    assert kinds == ["general_time", "utc_time", "general_time", "utc_time"]
    assert tbs["revoked_certificates"][2]["revocation_date"].chosen.contents == b"19491231235959Z"
    crl = x509.load_der_x509_crl(der)
    assert crl.next_update_utc == dt.datetime(2050, 1, 1, tzinfo=UTC)
    assert [r.revocation_date_utc for r in crl] == [dt.datetime.fromtimestamp(e[1], UTC) for e in entries]
    assert encode_tbs_crl(params, entries, ECDSA_SHA256) == asn1crypto_tbs(params, entries, ECDSA_SHA256)


def test_fractions_of_a_second_are_dropped(ec_ca: CA) -> None:
    params = ec_ca.params(this_update=THIS_UPDATE.replace(microsecond=999999))
    tbs = asn1_crl.TbsCertList.load(encode_tbs_crl(params, [], ECDSA_SHA256), strict=True)
    assert tbs["this_update"].chosen.contents == b"261121093000Z"


def test_times_in_other_zones_are_written_in_utc(ec_ca: CA) -> None:
    almaty = dt.timezone(dt.timedelta(hours=5))
    params = ec_ca.params(this_update=THIS_UPDATE.astimezone(almaty))
    assert encode_tbs_crl(params, [], ECDSA_SHA256) == encode_tbs_crl(ec_ca.params(), [], ECDSA_SHA256)


# --- the fast path against the plain loop ---------------------------------------------------


def test_fast_path_matches_plain_loop_on_random_entries() -> None:
    rng = random.Random(20261121)
    codes = [None, *REASON_CODES.values()]
    for _ in range(300):
        bits = rng.choice([1, 7, 8, 9, 63, 64, 65, 158, 159, rng.randrange(1, 160)])
        low = rng.choice([epoch(1950, 1, 1), epoch(1969, 12, 31), epoch(2026, 1, 1)])
        entries = [(rng.randrange(1, 1 << bits) if bits > 1 else 1,
                    low + rng.randrange(0, 10**rng.randrange(1, 9)), rng.choice(codes))
                   for _ in range(rng.randrange(1, 40))]
        assert crl_module._encode_entries_fast(entries) == crl_module._encode_entries_plainly(entries)


def test_fast_path_times_on_hour_and_day_boundaries() -> None:
    moments = [epoch(2000, 2, 29, 23, 59, 59), epoch(2000, 3, 1), epoch(1969, 12, 31, 23, 59, 59),
               epoch(1970, 1, 1), epoch(2049, 12, 31, 23, 0, 0), epoch(2026, 11, 21, 10, 59, 59)]
    entries = [(i + 1, moment, None) for i, moment in enumerate(moments)]
    assert crl_module._encode_entries_fast(entries) == crl_module._encode_entries_plainly(entries)


def test_entries_may_be_any_iterable(ec_ca: CA) -> None:
    as_list = encode_tbs_crl(ec_ca.params(), ENTRIES, ECDSA_SHA256)
    assert encode_tbs_crl(ec_ca.params(), iter(ENTRIES), ECDSA_SHA256) == as_list
    assert encode_tbs_crl(ec_ca.params(), tuple(ENTRIES), ECDSA_SHA256) == as_list


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(("entry", "message"), [
    ((0, epoch(2026, 1, 1), None), "positive"),
    ((-5, epoch(2026, 1, 1), None), "positive"),
    ((1 << 159, epoch(2026, 1, 1), None), "20 octets"),
    (("01", epoch(2026, 1, 1), None), "positive"),
    ((5, epoch(2026, 1, 1), 7), "reason code"),
    ((5, epoch(2026, 1, 1), "key-compromise"), "reason code"),
    ((5, 1.5e9, None), "int seconds"),
    ((5, 10**12, None), "outside years"),
    ((5, epoch(2026, 1, 1)), "expected"),
])
def test_refuses_bad_entries_naming_the_entry(ec_ca: CA, entry: tuple, message: str) -> None:
    entries = [*ENTRIES, entry]
    with pytest.raises(ValueError, match=message) as caught:
        encode_tbs_crl(ec_ca.params(), entries, ECDSA_SHA256)
    assert f"entry {len(ENTRIES)}" in str(caught.value)


@pytest.mark.parametrize(("changes", "message"), [
    ({"this_update": THIS_UPDATE.replace(tzinfo=None)}, "aware"),
    ({"next_update": THIS_UPDATE}, "later"),
    ({"crl_number": -1}, "CRL number"),
    ({"crl_number": 1 << 159}, "CRL number"),
    ({"delta_base": 7, "freshest_crl_url": None}, "delta_base"),
    ({"delta_base": 3}, "Freshest CRL"),
    ({"freshest_crl_url": "http://пример.kz/delta.crl"}, "ASCII"),
    ({"authority_key_identifier": b""}, "authority key identifier"),
    ({"issuer_name_der": b"\x30\x00"}, "empty"),
])
def test_params_refuse_what_rfc_5280_forbids(ec_ca: CA, changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ec_ca.params(**changes)
