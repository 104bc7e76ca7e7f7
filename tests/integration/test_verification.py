"""Verification reports on our own contracts, in every state a verifier meets (issue 6 must-show).

One hierarchy on SQLite for the module, with a clock the tests move forward
so that revocations fall clearly before or after a signature's time-stamp.
Verification runs in-process here; the worker process is tested in
test_verification_robustness.py and through the route and the CLI.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from ca.clock import FrozenClock
from ca.revocation import RevocationRequest
from signing.verification import Verifier
from signing.verification.context import TrustAnchors, VerificationOptions, read_certificates
from signing.verification.report import Indication
from tests.support.signing import TENANT, client_with_held_key, latest_pdf, upload
from tests.support.verification import (
    anchors_of,
    client_signed,
    sign_with_revoked_certificate,
    signed_contract,
    tampered,
    verifier_of,
    with_page_added,
)

NCA_ROOT = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk" / "ca" / "nca_rsa_test.crt"
PASSED, FAILED, INDETERMINATE = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    settings = Settings(home=tmp_path_factory.mktemp("verification") / "home", master_key="33" * 32)
    svc = Services.build(settings, clock=FrozenClock(start))
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


def _by_field(report) -> dict:
    return {entry.field: entry for entry in report.signatures}


def _later(services, **delta) -> None:
    services.clock.advance(dt.timedelta(**delta))


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_our_signed_contract_is_total_passed_with_signer_chain_time_stamp_and_revocation(services, level) -> None:
    pdf, client, _document = signed_contract(services, level)
    report = verifier_of(services).verify(pdf)
    assert report.verdict.indication is PASSED, report.as_json()
    entries = _by_field(report)
    client_entry, seal = entries["Client-Signature"], entries["MFO-Seal"]
    for entry in (client_entry, seal):
        assert entry.intact and entry.valid and entry.level == level
        assert entry.revocation.status == "good" and entry.revocation.source == "document"
        assert entry.timestamp.tsa == "QOLTANBA TSA" and entry.best_signature_time == entry.timestamp.gen_time
        assert entry.trust_anchor.subject.endswith("CN=QOLTANBA ROOT CA")
        assert entry.signer.key_usage_fit
    assert client_entry.signer.iin == client.iin and client_entry.signer.roles == ("individual",)
    assert client_entry.modification == "form_filling" and client_entry.coverage == "entire_revision"
    tenant = services.tenants.get(TENANT)   # issue 15: the tenant's own seal, naming its BIN and name
    assert seal.signer.bin == tenant.bin and "organisation" in seal.signer.roles
    assert seal.signer.organisation == tenant.name
    assert seal.modification == "none"
    kinds = [e.kind for e in report.signatures]
    assert kinds.count("document_timestamp") == (2 if level == "B-LTA" else 0)
    assert "valid" in client_entry.sentence and client.iin in client_entry.sentence


def test_stable_json_keys_of_every_entry(services) -> None:
    pdf, _client, _document = signed_contract(services, "B-LTA")
    body = verifier_of(services).verify(pdf).as_json()
    assert {"kind", "indication", "sub_indication", "sentence", "document", "signatures"} <= body.keys()
    for entry in body["signatures"]:
        assert {"kind", "field", "intact", "valid", "indication", "sub_indication", "modification", "coverage",
                "level", "signer", "chain", "trust_anchor", "claimed_signing_time", "timestamp", "revocation",
                "factors", "sentence"} <= entry.keys()


def test_one_changed_byte_is_total_failed_hash_failure(services) -> None:
    pdf, _client, _document = signed_contract(services, "B-LT")
    report = verifier_of(services).verify(tampered(pdf))
    assert report.verdict.indication is FAILED
    for entry in report.signatures:
        assert (entry.indication, entry.verdict.sub_indication, entry.intact) == (FAILED, "HASH_FAILURE", False)


def test_signer_revoked_before_signing_is_total_failed_revoked(services) -> None:
    client = client_with_held_key(services)
    document = upload(services, client.iin)
    revoked = services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test",
                                                            reason="key-compromise"))
    _later(services, minutes=5)
    pdf = sign_with_revoked_certificate(services, client, latest_pdf(services, document.id), document.id)
    (entry,) = verifier_of(services).verify(pdf).signatures
    assert (entry.indication, entry.verdict.sub_indication) == (FAILED, "REVOKED"), entry.as_json()
    assert entry.revocation.status == "revoked" and entry.revocation.source == "document"
    assert entry.revocation.revoked_at == revoked.revoked_at.replace(microsecond=0)
    assert entry.best_signature_time > entry.revocation.revoked_at


def test_signer_revoked_after_the_time_stamp_stays_total_passed(services) -> None:
    pdf, client, _document = signed_contract(services, "B-LT")
    _later(services, hours=2)
    services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test", reason="key-compromise"))
    _later(services, days=30)
    report = verifier_of(services).verify(pdf)
    assert report.verdict.indication is PASSED, report.as_json()
    entry = _by_field(report)["Client-Signature"]
    assert entry.revocation.status == "good" and entry.revocation.checked_at == entry.best_signature_time


def test_untrusted_chain_is_indeterminate_no_certificate_chain_found(services) -> None:
    pdf, _client, _document = signed_contract(services, "B-LT")
    stranger = TrustAnchors(tuple(read_certificates(NCA_ROOT.read_bytes())))
    report = Verifier(stranger, clock=services.clock).verify(pdf)
    for entry in report.signatures:
        assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")
        assert entry.intact and entry.valid and entry.trust_anchor is None
    # The same anchor given per call next to ours changes nothing for our documents.
    assert verifier_of(services).verify(pdf, extra_anchors=stranger).verdict.indication is PASSED


def test_page_added_after_the_seal_is_reported_as_a_modification(services) -> None:
    pdf, _client, _document = signed_contract(services, "B-LT")
    report = verifier_of(services).verify(with_page_added(pdf))
    entries = _by_field(report)
    seal, client_entry = entries["MFO-Seal"], entries["Client-Signature"]
    assert seal.intact and seal.valid and seal.modification == "other" and seal.coverage == "entire_revision"
    # The seal's lock (FieldMDP, /P 1) forbids any change: the document as presented fails.
    assert (seal.indication, seal.verdict.sub_indication) == (FAILED, "FORMAT_FAILURE")
    assert (client_entry.indication, client_entry.verdict.sub_indication) == (INDETERMINATE,
                                                                              "SIG_CONSTRAINTS_FAILURE")
    assert client_entry.modification == "other"
    assert report.verdict.indication is FAILED and "changed after" in seal.sentence


def test_contract_signed_only_by_the_client_is_valid_and_shows_no_later_change(services) -> None:
    client = client_with_held_key(services)
    document = upload(services, client.iin)
    (entry,) = verifier_of(services).verify(client_signed(services, client, document.id)).signatures
    assert entry.indication is PASSED and entry.modification == "none"


def test_archived_document_validated_years_later_passes_on_its_time_stamp_not_without_one(services) -> None:
    """--at: a B-LTA signature proves its time; B-B and (past the signer's expiry) B-LT ones have no proof.

    Issue 14, item 2: a B-LT signature has no archive time-stamp, so once a certificate of its chain has
    expired nothing proves it existed while that certificate was valid (ETSI EN 319 102-1 §5.5, §5.6).
    """
    long_term, _client, _document = signed_contract(services, "B-LTA")
    basic, _client2, _document2 = signed_contract(services, "B-B")
    plain_lt, _client3, _document3 = signed_contract(services, "B-LT")
    later = VerificationOptions(at=services.clock.now() + dt.timedelta(days=2 * 365))
    assert verifier_of(services).verify(long_term, options=later).verdict.indication is PASSED
    for entry in verifier_of(services).verify(basic, options=later).signatures:
        assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")
    for entry in verifier_of(services).verify(plain_lt, options=later).signatures:
        assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "OUT_OF_BOUNDS_NO_POE")


def test_time_stamped_contract_without_revocation_data_is_try_later_offline(services) -> None:
    pdf, _client, _document = signed_contract(services, "B-T")
    for entry in verifier_of(services).verify(pdf).signatures:
        assert (entry.indication, entry.verdict.sub_indication, entry.level) == (INDETERMINATE, "TRY_LATER", "B-T")
        assert entry.revocation.status == "unknown"


def test_trust_store_adds_lists_and_removes_an_imported_anchor(services) -> None:
    store = services.trust_store
    pem = NCA_ROOT.read_bytes()
    (added,) = store.add(pem, "NCA RK RSA test root", "test")
    listed = store.list()
    assert [a.source for a in listed] == ["hierarchy", "imported"] and listed[1].sha256 == added.sha256
    assert len(store.anchors().certificates) == 2
    from ca.errors import ConflictError, InvalidInput

    with pytest.raises(ConflictError):
        store.add(pem, "again", "test")
    leaf = services.hierarchy.chain("national")[0].public_bytes(serialization.Encoding.PEM)
    assert store.add(leaf, "national CA", "test")  # a CA certificate, so it may be an anchor
    person = client_with_held_key(services).certificate.public_bytes(serialization.Encoding.PEM)
    with pytest.raises(InvalidInput, match="CA certificates"):
        store.add(person, "a person", "test")
    store.remove(added.sha256, "test")
    assert added.sha256 not in {a.sha256 for a in store.list()}


@pytest.mark.parametrize("attached", [False, True], ids=["detached", "attached"])
def test_cms_made_by_our_code_is_total_passed_and_a_changed_file_is_hash_failure(services, attached) -> None:
    from signing.pades.engine import BackendKey
    from signing.verification.context import UnverifiableInput
    from tests.support.verification import our_cms

    client = client_with_held_key(services)
    content = "Заявление о досрочном погашении, договор MK-2026/7".encode()
    cms = our_cms(BackendKey(services.backend, client.key_handle), client.certificate,
                  services.hierarchy.chain("national"), content, attached=attached)
    verifier = verifier_of(services)
    report = verifier.verify(cms, detached=None if attached else content)
    (entry,) = report.signatures
    assert report.kind == "cms" and entry.kind == "cms" and entry.intact and entry.valid, entry.verdict.reason
    assert entry.signer.iin == client.iin and entry.level == "B-B"
    # No time-stamp and no revocation data in the CMS: offline, the status is unknown.
    assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "TRY_LATER")
    if attached:
        spoilt = cms.replace(content[-10:], b"X" + content[-9:])
        (bad,) = verifier.verify(spoilt).signatures
    else:
        (bad,) = verifier.verify(cms, detached=content + b" ").signatures
        with pytest.raises(UnverifiableInput, match="detached"):
            verifier.verify(cms)
    assert (bad.indication, bad.verdict.sub_indication) == (FAILED, "HASH_FAILURE")


def test_kz5_kz6_a_gost_cms_is_judged_like_rsa_passed_when_valid_failed_when_forged() -> None:
    """GOST 2015 signatures (DOMAIN.md KZ-5) go through the same checks as RSA ones.

    A valid one under a trusted GOST root is TOTAL-PASSED; one in the shape
    NCANode gives with the NCA RK's certificate (KZ-6) but a forged digest
    and signature value is TOTAL-FAILED / HASH_FAILURE, with the signer named.
    """
    from asn1crypto import pem

    from keys.gost import TC26_512_A, GostPrivateKey
    from tests.support.gost_pki import ISSUED_AT, gost_end_entity, gost_root, to_crypto
    from tests.support.verification import gost_cms, our_cms

    root, key = gost_root(), GostPrivateKey.generate(TC26_512_A)
    cms = our_cms(key, to_crypto(gost_end_entity(root, key.public_key())), (), b"contract", attached=True)
    options = VerificationOptions(at=ISSUED_AT + dt.timedelta(days=1))
    (entry,) = Verifier(TrustAnchors((root.certificate,))).verify(cms, options=options).signatures
    assert (entry.indication, entry.intact, entry.valid) == (PASSED, True, True), entry.verdict.reason
    assert entry.signature_algorithm == "kz_gost3410_2015_512_streebog512"

    data = (NCA_ROOT.parents[1] / "certs" / "individual_gost2015.cer").read_bytes()
    der = pem.unarmor(data)[2] if pem.detect(data) else data
    (forged,) = Verifier(TrustAnchors()).verify(gost_cms(der, b"contract")).signatures
    assert (forged.indication, forged.verdict.sub_indication) == (FAILED, "HASH_FAILURE")
    assert forged.signer.iin == "123456789011" and forged.digest_algorithm == "kz_streebog512"