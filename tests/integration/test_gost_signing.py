"""PDF and CMS signatures with GOST 2015 keys (issue 7, DOMAIN.md KZ-5), verified by pyHanko and our report.

Three signers: pyHanko's own ``PdfSigner`` with our ``GostSigner``; our
PAdES engine (signing/pades/engine.py) with a GOST key in the software backend,
as the service signs for a client whose key it holds; and the NCA RK's real
test key (tests/vectors/nca-rk, KZ-6). The certificates of the first two
come from tests/support/gost_pki.py (a GOST root built in the test, shaped
like the NCA's); the last test goes the whole service path, with a GOST
client key our national CA generated and certified. pyHanko's validation with our signature validator and our verification
report are the judges.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from pathlib import Path

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import pem
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import async_validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from ca.clock import FrozenClock
from ca.cms import SIGNATURE_VERIFIER, verify_signed_document
from keys import KeyAlgorithm, SoftwareKeyBackend
from keys.gost.pkcs12 import load_gost_pkcs12
from signing.pades.engine import BackendKey, PAdESSigner, SignatureJob
from signing.pades.gost_signer import GostSigner
from signing.pades import FieldPlan, Level
from signing.pades.signed_data import SignerIdentity
from signing.verification import Verifier
from signing.verification.context import TrustAnchors, VerificationOptions
from signing.verification.report import Indication
from tests.support.gost_pdfs import SIGNED_AT, engine_signed_pdf, pyhanko_signed_pdf
from tests.support.gost_pki import gost_end_entity, gost_root, to_crypto
from tests.support.pdfs import contract_pdf
from tests.support.verification import our_cms, tampered

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "nca-rk"
NCA_PASSWORD = "Qwerty12"   # tests/vectors/nca-rk/README.md
AT = SIGNED_AT
NCA_AT = dt.datetime(2024, 6, 1, tzinfo=dt.timezone.utc)   # inside the NCA test certificate's validity
PASSED, FAILED, INDETERMINATE = Indication.TOTAL_PASSED, Indication.TOTAL_FAILED, Indication.INDETERMINATE
NAMES = {512: ("kz_streebog512", "kz_gost3410_2015_512_streebog512"),
         256: ("kz_streebog256", "kz_gost3410_2015_256_streebog256")}


def _load(name: str) -> asn1_x509.Certificate:
    data = (VECTORS / name).read_bytes()
    return asn1_x509.Certificate.load(pem.unarmor(data)[2] if pem.detect(data) else data)


@pytest.fixture(scope="module")
def root():
    return gost_root()


@pytest.fixture(scope="module")
def backend(tmp_path_factory):
    return SoftwareKeyBackend(tmp_path_factory.mktemp("gost-keys"), b"\x42" * 32)


@pytest.fixture(scope="module", params=[512, 256])
def client(request, root, backend):
    """A client whose GOST key the service holds in its software backend, with a GOST certificate."""
    algorithm = KeyAlgorithm.GOST_2015_512 if request.param == 512 else KeyAlgorithm.GOST_2015_256
    info = backend.generate(algorithm, f"client-gost-{request.param}")
    cert = gost_end_entity(root, backend.public_key(info.handle))
    return request.param, BackendKey(backend, info.handle), cert


def _verifier(root) -> Verifier:
    return Verifier(TrustAnchors((root.certificate,)))


def _options(at: dt.datetime = AT) -> VerificationOptions:
    return VerificationOptions(at=at)


async def _pyhanko_status(pdf: bytes, anchor: asn1_x509.Certificate, moment: dt.datetime, **context):
    reader = PdfFileReader(io.BytesIO(pdf))
    (embedded,) = reader.embedded_signatures
    vc = ValidationContext(trust_roots=[anchor], moment=moment, signature_validator=SIGNATURE_VERIFIER, **context)
    return await async_validate_pdf_signature(embedded, vc)


def _one(report):
    (entry,) = [e for e in report.signatures if e.kind == "signature" or e.kind == "cms"]
    return entry


# --- pyHanko signs, pyHanko and our report verify -------------------------------------------


def test_kz5_pyhanko_signs_a_pdf_with_our_gost_signer_and_validates_it_with_our_validator(root, client) -> None:
    bits, key, cert = client
    pdf = pyhanko_signed_pdf(key, cert)
    status = asyncio.run(_pyhanko_status(pdf, root.certificate, AT))
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    assert status.coverage.name == "ENTIRE_FILE"
    assert (status.md_algorithm, status.pkcs7_signature_mechanism) == NAMES[bits]
    broken = asyncio.run(_pyhanko_status(tampered(pdf), root.certificate, AT))
    assert (broken.intact, broken.trusted) == (False, False)


def test_kz5_verification_report_treats_a_gost_pdf_like_rsa_total_passed_with_algorithm_names(root, client) -> None:
    bits, key, cert = client
    report = _verifier(root).verify(pyhanko_signed_pdf(key, cert), options=_options())
    entry = _one(report)
    assert report.verdict.indication is PASSED, report.as_json()
    assert entry.intact and entry.valid and entry.signer.iin == "850505300123"
    assert (entry.digest_algorithm, entry.signature_algorithm) == NAMES[bits]
    assert entry.trust_anchor.subject.endswith("CN=QOLTANBA TEST GOST ROOT")
    # The test certificates name no OCSP responder and no CRL: nothing to ask, said as such.
    assert entry.revocation.status == "not_checked"


def test_kz5_a_changed_byte_in_a_gost_pdf_is_total_failed_hash_failure(root, client) -> None:
    _bits, key, cert = client
    for pdf in (pyhanko_signed_pdf(key, cert), engine_signed_pdf(key, cert)):
        entry = _one(_verifier(root).verify(tampered(pdf), options=_options()))
        assert (entry.indication, entry.verdict.sub_indication, entry.intact) == (FAILED, "HASH_FAILURE", False)


def test_kz5_a_gost_pdf_signed_by_someone_else_is_not_trusted_under_another_gost_root(client) -> None:
    _bits, key, cert = client
    entry = _one(_verifier(gost_root()).verify(pyhanko_signed_pdf(key, cert), options=_options()))
    assert entry.intact and entry.valid
    assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "NO_CERTIFICATE_CHAIN_FOUND")


# --- our PAdES engine signs with a GOST key held in the software backend ----------------------


def test_kz5_our_engine_signs_a_client_pdf_with_a_held_gost_key_total_passed(root, client) -> None:
    bits, key, cert = client
    pdf = engine_signed_pdf(key, cert, (root.certificate,))
    status = asyncio.run(_pyhanko_status(pdf, root.certificate, AT))
    assert (status.intact, status.valid, status.trusted) == (True, True, True)
    entry = _one(_verifier(root).verify(pdf, options=_options()))
    assert entry.indication is PASSED, entry.verdict.reason
    assert (entry.digest_algorithm, entry.signature_algorithm) == NAMES[bits]
    assert entry.level == "B-B"


def test_kz5_our_engine_gost_signature_with_a_broken_value_is_sig_crypto_failure(root, client) -> None:
    _bits, key, cert = client

    class Spoiling:
        def sign(self, data: bytes, hash_name: str) -> bytes:
            value = bytearray(key.sign(data, hash_name))
            value[3] ^= 0x01
            return bytes(value)

    entry = _one(_verifier(root).verify(engine_signed_pdf(Spoiling(), cert), options=_options()))
    assert (entry.indication, entry.verdict.sub_indication) == (FAILED, "SIG_CRYPTO_FAILURE")
    assert entry.intact and not entry.valid


def test_kz5_engine_refuses_an_outside_gost_value_that_does_not_verify(root, client) -> None:
    from signing.pades.engine import SignatureRejected

    _bits, key, cert = client
    engine = PAdESSigner(FrozenClock(AT))
    job = SignatureJob(SignerIdentity(to_crypto(cert)), FieldPlan(name="Client-Signature"), Level.B_B)
    prepared = engine.prepare(contract_pdf(pages=1), job, external=True)
    good = key.sign(prepared.signed_attributes, prepared.hash_name)
    with pytest.raises(SignatureRejected):
        engine.complete(prepared, job, signature=bytes(reversed(good)), verify=True)
    pdf = engine.complete(prepared, job, signature=good, verify=True)
    assert _one(_verifier(root).verify(pdf, options=_options())).indication is PASSED


def test_kz5_engine_embeds_a_clients_own_gost_cms_over_the_document_digest(root, client) -> None:
    """Way 2 with a whole CMS (NCALayer's hash signing), here made by pyHanko with our GostSigner."""
    from signing.pades.engine import SignatureRejected

    _bits, key, cert = client
    engine = PAdESSigner(FrozenClock(AT))
    job = SignatureJob(SignerIdentity(to_crypto(cert)), FieldPlan(name="Client-Signature"), Level.B_B)
    prepared = engine.prepare(contract_pdf(pages=1), job, external=True)
    signer = GostSigner(key, cert, (root.certificate,))
    token_cms = asyncio.run(signer.async_sign(prepared.document_digest, signer.digest_algorithm,
                                              use_pades=True)).dump()
    pdf = engine.complete(prepared, job, cms=token_cms)
    entry = _one(_verifier(root).verify(pdf, options=_options()))
    assert entry.indication is PASSED, entry.verdict.reason
    other = asyncio.run(signer.async_sign(bytes(len(prepared.document_digest)), signer.digest_algorithm,
                                          use_pades=True)).dump()
    with pytest.raises(SignatureRejected, match="does not sign this document"):
        engine.complete(prepared, job, cms=other)


# --- CMS ------------------------------------------------------------------------------------


@pytest.mark.parametrize("attached", [False, True])
def test_kz5_verification_report_gost_cms_total_passed_and_hash_failure_when_changed(root, client,
                                                                                       attached) -> None:
    bits, key, cert = client
    content = "Заявление о досрочном погашении".encode()
    cms = our_cms(key, to_crypto(cert), (), content, attached=attached)
    verifier = _verifier(root)
    entry = _one(verifier.verify(cms, detached=None if attached else content, options=_options()))
    assert entry.indication is PASSED, entry.verdict.reason
    assert (entry.digest_algorithm, entry.signature_algorithm) == NAMES[bits]
    if attached:
        spoilt = cms.replace(content[-8:], b"X" + content[-7:])
        bad = _one(verifier.verify(spoilt, options=_options()))
    else:
        bad = _one(verifier.verify(cms, detached=content + b" ", options=_options()))
    assert (bad.indication, bad.verdict.sub_indication) == (FAILED, "HASH_FAILURE")


def test_kz5_verification_report_gost_cms_with_a_flipped_signature_is_sig_crypto_failure(root, client) -> None:
    _bits, key, cert = client
    info = asn1_cms.ContentInfo.load(our_cms(key, to_crypto(cert), (), b"contract"))
    signer = info["content"]["signer_infos"][0]
    value = bytearray(signer["signature"].native)
    value[0] ^= 0x80
    signer["signature"] = bytes(value)
    entry = _one(_verifier(root).verify(info.dump(), detached=b"contract", options=_options()))
    assert (entry.indication, entry.verdict.sub_indication) == (FAILED, "SIG_CRYPTO_FAILURE")


# --- ground truth: the NCA RK's real GOST key (KZ-6) ---------------------------------------------


@pytest.fixture(scope="module")
def nca():
    key, _certificates = load_gost_pkcs12((VECTORS / "keys/individual_gost2015.p12").read_bytes(), NCA_PASSWORD)
    return key, _load("certs/individual_gost2015.cer"), _load("ca/nca_gost2015_test.cer")


def test_kz6_pdf_signed_with_the_ncas_real_gost_key_verifies_under_the_nca_ca(nca) -> None:
    """The NCA's key and certificate, signed by pyHanko and by our engine; the NCA's GOST CA as anchor.

    Its certificate names the NCA's OCSP responder and CRL, which cannot be
    asked offline (and the certificate expired in 2024): the report says
    INDETERMINATE / TRY_LATER with the signature intact and valid, and
    pyHanko with revocation checking soft-fail calls it trusted.
    """
    key, cert, ca = nca
    verifier = Verifier(TrustAnchors((ca,)))
    for pdf in (pyhanko_signed_pdf(key, cert, (ca,)), engine_signed_pdf(key, cert, (ca,))):
        status = asyncio.run(_pyhanko_status(pdf, ca, NCA_AT, revocation_mode="soft-fail"))
        assert (status.intact, status.valid, status.trusted) == (True, True, True)
        entry = _one(verifier.verify(pdf, options=_options(NCA_AT)))
        assert entry.intact and entry.valid and entry.signer.iin == "123456789011"
        assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "TRY_LATER")
        assert entry.revocation.status == "unknown"
        assert NAMES[512] == (entry.digest_algorithm, entry.signature_algorithm)
        bad = _one(verifier.verify(tampered(pdf), options=_options(NCA_AT)))
        assert (bad.indication, bad.verdict.sub_indication) == (FAILED, "HASH_FAILURE")


@pytest.mark.parametrize("attached", [False, True])
def test_kz6_cms_signed_with_the_ncas_real_gost_key_verifies(nca, attached) -> None:
    key, cert, ca = nca
    content = "Заявление на отзыв".encode()
    cms = our_cms(key, to_crypto(cert), (to_crypto(ca),), content, attached=attached)
    document = verify_signed_document(cms, detached_content=None if attached else content)
    assert document.content == content and document.digest_algorithm == "kz_streebog512"
    signer = GostSigner(key, cert, (ca,))
    pyhanko_cms = asyncio.run(signer.async_sign_general_data(content, signer.digest_algorithm,
                                                             detached=not attached)).dump()
    for der in (cms, pyhanko_cms):
        entry = _one(Verifier(TrustAnchors((ca,))).verify(der, detached=None if attached else content,
                                                          options=_options(NCA_AT)))
        assert entry.intact and entry.valid, entry.verdict.reason
        assert (entry.indication, entry.verdict.sub_indication) == (INDETERMINATE, "TRY_LATER")
        assert entry.signer.iin == "123456789011"


# --- a time-stamped GOST signature (B-T): our TSA stamps the GOST signature value ----------------


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    svc = Services.build(Settings(home=tmp_path_factory.mktemp("gost-tsa") / "home", master_key="44" * 32),
                         clock=FrozenClock(start))
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


def test_kz5_a_gost_client_signature_time_stamped_by_our_tsa_is_b_t(services, root, client) -> None:
    """The service's engine (TSA included) signs with the held GOST key; the token's imprint is SHA-256."""
    from tests.support.verification import anchors_of

    _bits, key, cert = client
    pdf = engine_signed_pdf(key, cert, (root.certificate,), engine=services.signing_engine, level=Level.B_T)
    anchors = anchors_of(services).plus(TrustAnchors((root.certificate,)))
    entry = _one(Verifier(anchors, clock=services.clock).verify(pdf))
    assert entry.intact and entry.valid and entry.level == "B-T", entry.verdict.reason
    assert entry.timestamp.tsa == "QOLTANBA TSA" and entry.timestamp.intact
    assert entry.indication is PASSED, entry.verdict.reason


def test_kz5_the_service_signs_for_a_client_whose_held_key_is_gost_with_the_visible_stamp(services, root) -> None:
    """The service's own job (field, stamp with the IIN, reason) and engine, for a GOST key in its backend,
    under a GOST root (the certificate is from the test GOST root; the national CA's path is the last test)."""
    from signing.requests.service import CLIENT_FIELD
    from tests.support import factories as f
    from tests.support.signing import latest_pdf, upload
    from tests.support.verification import anchors_of

    iin = f.iin()
    backend = services.backend
    info = backend.generate(KeyAlgorithm.GOST_2015_512, "client-gost-service")
    cert = gost_end_entity(root, backend.public_key(info.handle), iin=iin)
    document = upload(services, iin)
    job = services.signing.job_for(to_crypto(cert), (to_crypto(root.certificate),), level=Level.B_T,
                                   field_name=CLIENT_FIELD, index=0, document_id=document.id, role="Client")
    assert job.identity.hash_name == "streebog512" and job.plan.stamp_index == 0
    pdf = services.signing_engine.sign(latest_pdf(services, document.id), job, BackendKey(backend, info.handle))
    anchors = anchors_of(services).plus(TrustAnchors((root.certificate,)))
    entry = _one(Verifier(anchors, clock=services.clock).verify(pdf))
    assert entry.indication is PASSED, entry.verdict.reason
    assert entry.field == CLIENT_FIELD and entry.signer.iin == iin and entry.level == "B-T"
    assert (entry.digest_algorithm, entry.signature_algorithm) == NAMES[512]


def test_kz5_kz6_qoltanba_verify_as_a_process_judges_gost_pdfs(services, root, nca, tmp_path) -> None:
    """The CLI's sandboxed worker (a forked process) hashes Streebog and checks GOST like the in-process verifier."""
    import json
    import os
    import subprocess
    import sys

    from cryptography.hazmat.primitives import serialization

    project = Path(__file__).resolve().parents[2]

    def qoltanba(*args: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "PYTHONPATH": str(project)}
        env.pop("QOLTANBA_DATABASE_URL", None)
        return subprocess.run([sys.executable, "-m", "api.cli", "verify", *args, "--home", str(services.settings.home),
                               "--json"], cwd=project, env=env, capture_output=True, text=True, timeout=120)

    from keys.gost import TC26_256_A, GostPrivateKey

    key = GostPrivateKey.generate(TC26_256_A)
    (tmp_path / "ours.pdf").write_bytes(pyhanko_signed_pdf(key, gost_end_entity(root, key.public_key())))
    (tmp_path / "root.pem").write_bytes(to_crypto(root.certificate).public_bytes(serialization.Encoding.PEM))
    result = qoltanba(str(tmp_path / "ours.pdf"), "--trust", str(tmp_path / "root.pem"), "--at", AT.isoformat())
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["signatures"][0]["indication"] == "TOTAL-PASSED"

    nca_key, nca_cert, nca_ca = nca
    (tmp_path / "nca.pdf").write_bytes(tampered(pyhanko_signed_pdf(nca_key, nca_cert, (nca_ca,))))
    result = qoltanba(str(tmp_path / "nca.pdf"), "--trust", str(VECTORS / "ca/nca_gost2015_test.cer"),
                      "--at", NCA_AT.isoformat())
    assert result.returncode == 1, result.stdout + result.stderr
    (entry,) = json.loads(result.stdout)["signatures"]
    assert (entry["indication"], entry["sub_indication"]) == ("TOTAL-FAILED", "HASH_FAILURE")


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.GOST_2015_512, KeyAlgorithm.GOST_2015_256])
def test_kz5_national_ca_issues_a_gost_client_key_and_the_service_signs_b_lt_with_it(services, algorithm) -> None:
    """KZ-5: the whole service path with a GOST client: our national CA generates the client's GOST key into the
    backend and certifies it, the client signs with an authorisation (sign_with_client_key), the MFO seal follows,
    B-LT with our OCSP answers in the DSS; our report passes both, and pyHanko (with revocation from the DSS
    only, hard-fail) calls the GOST signature intact, valid and trusted."""
    from cryptography.hazmat.primitives.serialization import Encoding

    from tests.support.signing import client_with_held_key, latest_pdf, sign_client_and_seal, upload
    from tests.support.verification import verifier_of

    client = client_with_held_key(services, algorithm=algorithm)
    assert client.certificate.signature_algorithm_oid.dotted_string.startswith("1.2.840.10045")   # ECDSA national CA
    document = upload(services, client.iin)
    sign_client_and_seal(services, client, document.id, level="B-LT")
    pdf = latest_pdf(services, document.id)

    report = verifier_of(services).verify(pdf)
    client_entry, seal_entry = [e for e in report.signatures if e.kind == "signature"]
    bits = 512 if algorithm is KeyAlgorithm.GOST_2015_512 else 256
    assert client_entry.indication is PASSED and seal_entry.indication is PASSED, client_entry.verdict.reason
    assert (client_entry.digest_algorithm, client_entry.signature_algorithm) == NAMES[bits]
    assert client_entry.signer.iin == client.iin and client_entry.level == "B-LT"

    root = asn1_x509.Certificate.load(services.hierarchy.chain("national")[-1].public_bytes(Encoding.DER))
    reader = PdfFileReader(io.BytesIO(pdf))
    client_signature = reader.embedded_regular_signatures[0]
    dss = reader.root["/DSS"]
    vc = ValidationContext(trust_roots=[root], allow_fetching=False, revocation_mode="hard-fail",
                           other_certs=[asn1_x509.Certificate.load(c.get_object().data) for c in dss["/Certs"]],
                           ocsps=[o.get_object().data for o in dss["/OCSPs"]], signature_validator=SIGNATURE_VERIFIER)
    status = asyncio.run(async_validate_pdf_signature(client_signature, vc))
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()

    tampered_report = verifier_of(services).verify(tampered(pdf))
    assert [e.indication for e in tampered_report.signatures if e.kind == "signature"][0] is FAILED
