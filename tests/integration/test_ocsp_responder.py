"""The OCSP responder through the HTTP app: statuses, nonce, garbage, the cache and revocation."""

from __future__ import annotations

import base64

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509 import ocsp

from api.wiring import Services
from ca.revocation import RevocationRequest
from tests.support import factories as f

OCSP_REQUEST = {"Content-Type": "application/ocsp-request"}


def _request(cert: x509.Certificate, issuer: x509.Certificate, *, nonce: bytes | None = None,
             algorithm: hashes.HashAlgorithm = hashes.SHA1()) -> bytes:
    builder = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, algorithm)
    if nonce is not None:
        builder = builder.add_extension(x509.OCSPNonce(nonce), critical=False)
    return builder.build().public_bytes(serialization.Encoding.DER)


def _post(http, body: bytes, code: str = "national") -> ocsp.OCSPResponse:
    response = http.post(f"/ocsp/{code}", content=body, headers=OCSP_REQUEST)
    assert response.status_code == 200 and response.headers["content-type"] == "application/ocsp-response"
    return ocsp.load_der_ocsp_response(response.content)


@pytest.fixture
def person(services):
    return f.issue_person(services).certificate, services.hierarchy.issuing_ca("national").certificate


def test_good_then_revoked_with_time_and_reason(services, http, person):
    cert, issuer = person
    answer = _post(http, _request(cert, issuer))
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    assert answer.certificate_status == ocsp.OCSPCertStatus.GOOD
    responder = answer.certificates[0]
    assert responder.extensions.get_extension_for_class(x509.OCSPNoCheck)
    responder.public_key().verify(answer.signature, answer.tbs_response_bytes,
                                  ec.ECDSA(hashes.SHA256()))
    services.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="t",
                                                  reason="key-compromise"))
    answer = _post(http, _request(cert, issuer))
    assert answer.certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert answer.revocation_reason == x509.ReasonFlags.key_compromise
    assert answer.revocation_time_utc is not None


def test_get_and_post_give_the_same_answer(http, person):
    cert, issuer = person
    body = _request(cert, issuer, algorithm=hashes.SHA256())
    by_get = http.get("/ocsp/national/" + base64.b64encode(body).decode())
    assert by_get.status_code == 200 and "max-age" in by_get.headers["cache-control"]
    assert ocsp.load_der_ocsp_response(by_get.content).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert by_get.content == http.post("/ocsp/national", content=body, headers=OCSP_REQUEST).content


def test_nonce_is_echoed_and_not_cached(http, person):
    cert, issuer = person
    answers = [_post(http, _request(cert, issuer, nonce=n)) for n in (b"a" * 16, b"b" * 16)]
    assert [a.extensions.get_extension_for_class(x509.OCSPNonce).value.nonce for a in answers] == [b"a" * 16,
                                                                                                    b"b" * 16]


def test_unknown_serial_and_foreign_issuer(services, http, person):
    cert, issuer = person
    other_key = ec.generate_private_key(ec.SECP256R1())
    stranger = (x509.CertificateBuilder().subject_name(cert.subject).issuer_name(cert.issuer)
                .public_key(other_key.public_key()).serial_number(12345)
                .not_valid_before(cert.not_valid_before_utc).not_valid_after(cert.not_valid_after_utc)
                .sign(other_key, hashes.SHA256()))
    assert _post(http, _request(stranger, issuer)).certificate_status == ocsp.OCSPCertStatus.UNKNOWN
    foreign_ca = stranger   # not one of our CAs: we are not authoritative (RFC 6960 §2.3)
    assert _post(http, _request(cert, foreign_ca)).response_status == ocsp.OCSPResponseStatus.UNAUTHORIZED


@pytest.mark.parametrize("garbage", [b"\x00", b"\x30\x03\x02\x01", b"hello world" * 10, b"\x30\x80" + b"\x00" * 40])
def test_garbage_gets_malformed_request(http, garbage):
    answer = _post(http, garbage)
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST
    bad_get = http.get("/ocsp/national/%%%not-base64")
    assert ocsp.load_der_ocsp_response(bad_get.content).response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def _tlv(tag: int, content: bytes) -> bytes:
    size = len(content)
    length = bytes([size]) if size < 0x80 else bytes([0x80 | ((size.bit_length() + 7) // 8)]) + \
        size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag]) + length + content


def test_a_certid_serial_in_ber_only_form_gets_malformed_request_not_an_answer_others_refuse(services, person):
    """A serialNumber with a redundant leading zero octet (BER, not DER): the CertID would go back in the answer as
    it came, and strict readers (cryptography) refuse such an answer; so the request is malformed (RFC 6960 §2.3)."""
    from asn1crypto import ocsp as asn1_ocsp

    cert, issuer = person
    cid = asn1_ocsp.OCSPRequest.load(_request(cert, issuer))["tbs_request"]["request_list"][0]["req_cert"]
    serial = cert.serial_number.to_bytes((cert.serial_number.bit_length() + 8) // 8, "big")
    assert serial[0] < 0x80
    cert_id = _tlv(0x30, cid["hash_algorithm"].dump() + _tlv(0x04, cid["issuer_name_hash"].native)
                   + _tlv(0x04, cid["issuer_key_hash"].native) + _tlv(0x02, b"\x00" + serial))
    request = _tlv(0x30, _tlv(0x30, _tlv(0x30, _tlv(0x30, cert_id))))
    answer = ocsp.load_der_ocsp_response(services.responder.respond(request))
    assert answer.response_status == ocsp.OCSPResponseStatus.MALFORMED_REQUEST


def test_cached_answer_is_replaced_at_the_moment_of_revocation(services, person):
    """In-process: the revocation's listener re-signs the cached answer before returning."""
    cert, issuer = person
    body = _request(cert, issuer)
    first = services.responder.respond(body)
    assert services.responder.cached(body) == first
    services.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="t"))
    replaced = services.responder.cached(body)
    assert replaced is not None and replaced != first
    assert ocsp.load_der_ocsp_response(replaced).certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_revocation_by_another_process_is_answered_at_once(services, person):
    """Issue 22: once another process's revocation has committed, this process's cache no longer says
    "good" — before the housekeeper's next poll (none runs here), on the very next request."""
    cert, issuer = person
    body = _request(cert, issuer)
    services.responder.start_watching()
    first = services.responder.respond(body)
    assert services.responder.cached(body) == first
    other = Services.build(services.settings)
    try:
        other.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="cli"))
    finally:
        other.close()
    cached = services.responder.cached(body)
    assert ocsp.load_der_ocsp_response(cached).certificate_status == ocsp.OCSPCertStatus.REVOKED
    assert services.responder.watch() == 0     # already applied by the freshness check


def test_revocation_by_another_process_reaches_a_cache_without_watermark_through_watch(services, person):
    """Without the freshness check (a responder given no watermark), ``watch`` — the housekeeper's
    0.2 s poll — is what applies another process's revocation."""
    from ca.responder import OCSPResponder

    responder = OCSPResponder(services.registry, services.clock, services.hierarchy, services.ocsp_signers,
                              services.responder.policy)
    cert, issuer = person
    body = _request(cert, issuer)
    responder.start_watching()
    responder.respond(body)
    other = Services.build(services.settings)
    try:
        other.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="cli"))
    finally:
        other.close()
    assert ocsp.load_der_ocsp_response(responder.cached(body)).certificate_status == ocsp.OCSPCertStatus.GOOD
    assert responder.watch() == 1
    cached = responder.cached(body)
    assert ocsp.load_der_ocsp_response(cached).certificate_status == ocsp.OCSPCertStatus.REVOKED


def test_crl_is_served_at_the_distribution_point(services, http, person):
    cert, _ = person
    services.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="t"))
    response = http.get("/crl/national.crl")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(response.content)
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None
    assert x509.load_der_x509_crl(http.get("/crl/national-delta.crl").content).extensions.get_extension_for_class(
        x509.DeltaCRLIndicator)
    assert http.get("/crl/nowhere.crl").status_code == 404


def test_repeated_get_is_served_before_routing_and_still_turns_revoked(services, http, person):
    """The GET fast path (CachedOCSPMiddleware) answers from the same cache the revocation replaces."""
    cert, issuer = person
    path = "/ocsp/national/" + base64.urlsafe_b64encode(_request(cert, issuer)).decode()
    first = http.get(path)
    assert http.app.state.ocsp_get_paths.paths, "the first GET did not register its path"
    assert http.get(path).content == first.content
    services.revocations.revoke(RevocationRequest(serial=format(cert.serial_number, "x"), actor="t"))
    again = ocsp.load_der_ocsp_response(http.get(path).content)
    assert again.certificate_status == ocsp.OCSPCertStatus.REVOKED
