"""Long-term validation at every validation time: the table of issue 14, item 2 (ETSI EN 319 102-1 §5.5, §5.6).

Our own signatures, B-LT and B-LTA: a contract the client signed and the
MFO sealed through the service, and a PDF signed the way ``qoltanba sign``
signs (``SigningService.job_for`` and the PAdES engine, here with a key the
service holds). Each is verified offline (the document's own DSS) at:

| validation time | B-LT | B-LTA |
|---|---|---|
| before signing | INDETERMINATE / OUT_OF_BOUNDS_NO_POE | INDETERMINATE / OUT_OF_BOUNDS_NO_POE |
| at signing (a minute later) | TOTAL-PASSED | TOTAL-PASSED |
| a day later (the OCSP answers' window is over) | TOTAL-PASSED | TOTAL-PASSED |
| after the signer's certificate expired | INDETERMINATE / OUT_OF_BOUNDS_NO_POE | TOTAL-PASSED |
| after the TSA's certificate expired | INDETERMINATE / OUT_OF_BOUNDS_NO_POE | INDETERMINATE / OUT_OF_BOUNDS_NO_POE |
| after the national CA's certificate expired | INDETERMINATE / OUT_OF_BOUNDS_NO_POE | INDETERMINATE / OUT_OF_BOUNDS_NO_POE |
| after the root's certificate expired | INDETERMINATE / OUT_OF_BOUNDS_NO_POE | INDETERMINATE / OUT_OF_BOUNDS_NO_POE |

Past the expiry of any certificate of its chain, a B-LT signature has no
proof of existence left; a B-LTA signature keeps the one its archive
time-stamp gives while that time-stamp's TSA chain stands (then the archive
time-stamp itself is INDETERMINATE). Revocation: after the signature's
time-stamp it does not undo the signature (TOTAL-PASSED, the later "revoked"
answer in the DSS); before it, TOTAL-FAILED / REVOKED (docs/DECISIONS.md
"Verification").
"""

from __future__ import annotations

import datetime as dt
import time

import pytest
from cryptography.hazmat.primitives import serialization

from ca.revocation import RevocationRequest
from signing.pades import Level, ValidationData, add_validation_data
from signing.pades.engine import BackendKey
from signing.pades.validation_data import ocsp_request
from signing.verification import VerificationOptions
from tests.support.signing import client_with_held_key, embedded_services, latest_pdf, upload
from tests.support.verification import (
    client_signed,
    sign_with_revoked_certificate,
    signed_contract,
    verifier_of,
)

PASSED = ("TOTAL-PASSED", None)
NO_POE = ("INDETERMINATE", "OUT_OF_BOUNDS_NO_POE")
DAY = dt.timedelta(days=1)


@pytest.fixture(scope="module")
def services(tmp_path_factory):
    with embedded_services(tmp_path_factory.mktemp("lifetime") / "home", "88" * 32) as svc:
        yield svc


def _engine_signed(services, level: str) -> bytes:
    """A PDF signed the way ``qoltanba sign`` signs: ``job_for`` and the PAdES engine, no signing request."""
    from tests.support.pdfs import contract_pdf

    client = client_with_held_key(services)
    chain = tuple(services.hierarchy.chain("national"))
    job = services.signing.job_for(client.certificate, chain, level=Level(level), field_name="Signature1",
                                   index=0, document_id="lifetime", role="Signer")
    return services.signing_engine.sign(contract_pdf(pages=1), job, BackendKey(services.backend, client.key_handle))


@pytest.fixture(scope="module")
def documents(services) -> dict[tuple[str, str], bytes]:
    made = {}
    for level in ("B-LT", "B-LTA"):
        made[("service", level)] = signed_contract(services, level)[0]
        made[("engine", level)] = _engine_signed(services, level)
    return made


def _moments(services) -> dict[str, dt.datetime]:
    now = dt.datetime.now(dt.timezone.utc)
    national = services.hierarchy.chain("national")
    tsa = services.hierarchy.service_certificate("tsa")
    tsa_until = tsa.not_valid_after_utc if hasattr(tsa, "not_valid_after_utc") else tsa.not_after
    signer_until = now + dt.timedelta(days=365)   # individual-sign: one year (ca/profiles.py)
    return {"before signing": now - DAY, "at signing": now + dt.timedelta(minutes=1), "a day later": now + DAY,
            "after the signer's expiry": signer_until + DAY, "after the TSA's expiry": _aware(tsa_until) + DAY,
            "after the national CA's expiry": national[0].not_valid_after_utc + DAY,
            "after the root's expiry": national[-1].not_valid_after_utc + DAY}


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


EXPECTED = {  # validation time -> (B-LT, B-LTA)
    "before signing": (NO_POE, NO_POE),
    "at signing": (PASSED, PASSED),
    "a day later": (PASSED, PASSED),
    "after the signer's expiry": (NO_POE, PASSED),
    "after the TSA's expiry": (NO_POE, NO_POE),
    "after the national CA's expiry": (NO_POE, NO_POE),
    "after the root's expiry": (NO_POE, NO_POE),
}


def _verdicts(services, pdf: bytes, at: dt.datetime):
    report = verifier_of(services).verify(pdf, options=VerificationOptions(at=at))
    return report, {(s.kind, s.field): (s.verdict.indication.value, s.verdict.sub_indication)
                    for s in report.signatures}


@pytest.mark.parametrize("made_by", ["service", "engine"])
@pytest.mark.parametrize("moment", list(EXPECTED))
def test_ltv_table_b_lt_and_b_lta_at_every_validation_time(services, documents, made_by: str, moment: str) -> None:
    """Issue 14 item 2: the verdict of our own B-LT and B-LTA signatures at each validation time."""
    at = _moments(services)[moment]
    for level, expected in zip(("B-LT", "B-LTA"), EXPECTED[moment]):
        report, verdicts = _verdicts(services, documents[(made_by, level)], at)
        signatures = {k: v for k, v in verdicts.items() if k[0] == "signature"}
        assert signatures and set(signatures.values()) == {expected}, (level, moment, verdicts)
        assert {s.level for s in report.signatures if s.kind == "signature"} == {level}
        stamps = {k: v for k, v in verdicts.items() if k[0] == "document_timestamp"}
        assert bool(stamps) == (level == "B-LTA")
        if level == "B-LTA" and moment in ("after the TSA's expiry", "after the national CA's expiry",
                                           "after the root's expiry"):
            # The newest archive time-stamp's own chain has expired: it proves nothing any more.
            assert set(stamps.values()) == {NO_POE}, stamps
        if expected == NO_POE and moment != "before signing":
            entry = next(s for s in report.signatures if s.kind == "signature")
            assert "expired" in entry.sentence and "cannot be confirmed" in entry.sentence, entry.sentence
            assert entry.best_signature_time is None


@pytest.mark.parametrize("level", ["B-LT", "B-LTA"])
def test_revocation_after_the_signature_time_stamp_does_not_undo_the_signature(services, level: str) -> None:
    """The signer's certificate revoked after signing; the responder's "revoked" answer added to the DSS."""
    client = client_with_held_key(services)
    document = upload(services, client.iin, pages=1)
    pdf = client_signed(services, client, document.id, level)
    time.sleep(1.5)   # the revocation time (whole seconds) after the time-stamp's genTime
    services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test", reason="key-compromise"))
    issuer = services.hierarchy.chain("national")[0]
    answer = services.responder.respond(ocsp_request(client.certificate, issuer))
    from cryptography.x509 import ocsp

    assert ocsp.load_der_ocsp_response(answer).certificate_status == ocsp.OCSPCertStatus.REVOKED
    later = add_validation_data(pdf, ValidationData(ocsp_responses=(answer,)))
    for at in (dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1), dt.datetime.now(dt.timezone.utc) + DAY):
        _report, verdicts = _verdicts(services, later, at)
        assert verdicts[("signature", "Client-Signature")] == PASSED, verdicts


def test_revocation_before_the_signature_time_stamp_fails_the_signature(services) -> None:
    """TOTAL-FAILED / REVOKED: the DSS's own answer says revoked before the time-stamp's genTime."""
    client = client_with_held_key(services)
    document = upload(services, client.iin, pages=1)
    services.revocations.revoke(RevocationRequest(serial=client.serial, actor="test", reason="key-compromise"))
    time.sleep(1.5)
    pdf = sign_with_revoked_certificate(services, client, latest_pdf(services, document.id), document.id)
    _report, verdicts = _verdicts(services, pdf, dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=1))
    assert verdicts[("signature", "Client-Signature")] == ("TOTAL-FAILED", "REVOKED"), verdicts


def test_the_table_uses_certificates_that_expire_in_the_order_it_assumes(services) -> None:
    """The signer's certificate ends first, then the TSA's, the national CA's and the root's."""
    moments = _moments(services)
    order = ["after the signer's expiry", "after the TSA's expiry", "after the national CA's expiry",
             "after the root's expiry"]
    assert [moments[m] for m in order] == sorted(moments[m] for m in order)
    client = client_with_held_key(services)
    assert abs(client.certificate.not_valid_after_utc - (moments[order[0]] - DAY)) < dt.timedelta(hours=1)
    root = services.hierarchy.chain("national")[-1].public_bytes(serialization.Encoding.DER)
    assert root
