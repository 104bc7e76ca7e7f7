"""CRLs and OCSP responses signed by GOST keys (issue 7, KZ-5, GOV-7).

Judged by our GOST verifier (``keys.gost.verify``, the code path of the
NCA RK's certificates), read back by asn1crypto, and used by
pyhanko-certvalidator (with our signature hook) to decide revocation.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import RevokedError

from ca.crl import CRLParams, sign_crl
from ca.ocsp import issuer_hashes, parse_request
from ca.ocsp_response import ResponseSigner, SingleStatus
from keys import KeyAlgorithm, KeySigner, key_identifier
from keys.gost import GOST_SIGNATURE_VALIDATOR, verify
from tests.support.gost_ca import NOW, GostCA, parsed

UTC = dt.timezone.utc
SIGNATURE_OIDS = {KeyAlgorithm.GOST_2015_512: "1.2.398.3.10.1.1.2.3.2",
                  KeyAlgorithm.GOST_2015_256: "1.2.398.3.10.1.1.2.3.1"}
REVOKED_AT = dt.datetime(2026, 11, 21, 9, 15, 30, tzinfo=UTC)


@pytest.fixture(params=[KeyAlgorithm.GOST_2015_512, KeyAlgorithm.GOST_2015_256], ids=lambda a: a.value)
def gost_ca(request, tmp_path: Path) -> GostCA:
    return GostCA(tmp_path, request.param)


def _crl(ca: GostCA, entries: list) -> bytes:
    params = CRLParams(issuer_name_der=ca.certificate.subject.public_bytes(),
                       authority_key_identifier=key_identifier(ca.backend.public_key(ca.handle)),
                       this_update=NOW, next_update=NOW + dt.timedelta(days=1), crl_number=3)
    return sign_crl(KeySigner(ca.backend, ca.handle), params, entries)


def _flip(der: bytes, offset: int) -> bytes:
    changed = bytearray(der)
    changed[offset] ^= 0x01
    return bytes(changed)


def test_gov7_gost_crl_verifies_and_reads_back_exactly(gost_ca: GostCA) -> None:
    """GOV-6, GOV-7: the CRL the government CA gives its holders is signed with GOST."""
    entries = [(0x1234567890ABCDEF, int(REVOKED_AT.timestamp()), 1),
               ((1 << 158) | 77, int((REVOKED_AT - dt.timedelta(days=3)).timestamp()), None)]
    der = _crl(gost_ca, entries)
    crl = asn1_crl.CertificateList.load(der, strict=True)
    algorithm = gost_ca.backend.algorithm(gost_ca.handle)
    assert crl["signature_algorithm"]["algorithm"].dotted == SIGNATURE_OIDS[algorithm]
    assert crl["tbs_cert_list"]["signature"].dump() == crl["signature_algorithm"].dump()
    ca = parsed(gost_ca.certificate)
    verify(ca.public_key, crl["signature_algorithm"]["algorithm"].dotted, crl["signature"].native,
           crl["tbs_cert_list"].dump())
    revoked = [(e["user_certificate"].native, e["revocation_date"].native, e.crl_reason_value)
               for e in crl["tbs_cert_list"]["revoked_certificates"]]
    assert [(s, d, r.native if r else None) for s, d, r in revoked] == [
        (0x1234567890ABCDEF, REVOKED_AT, "key_compromise"),
        ((1 << 158) | 77, REVOKED_AT - dt.timedelta(days=3), None)]
    assert crl.issuer == ca.subject
    assert crl.authority_key_identifier == ca.key_identifier
    assert crl.crl_number_value.native == 3
    tbs = crl["tbs_cert_list"].dump()
    for offset in (der.index(tbs) + len(tbs) // 2, len(der) - 10):
        with pytest.raises(InvalidSignature):
            flipped = asn1_crl.CertificateList.load(_flip(der, offset))
            verify(ca.public_key, SIGNATURE_OIDS[algorithm], flipped["signature"].native,
                   flipped["tbs_cert_list"].dump())


def _validate(cert, ca, **revocation) -> object:
    context = ValidationContext(trust_roots=[ca], moment=NOW + dt.timedelta(minutes=5), allow_fetching=False,
                                revocation_mode="hard-fail", signature_validator=GOST_SIGNATURE_VALIDATOR,
                                **revocation)
    return asyncio.run(CertificateValidator(cert, validation_context=context).async_validate_path())


def test_gov5_pyhanko_certvalidator_reads_revocation_from_a_gost_crl(tmp_path: Path) -> None:
    """GOV-5: a revoked holder certificate is found revoked through the GOST-signed CRL."""
    gost_ca = GostCA(tmp_path, KeyAlgorithm.GOST_2015_512)
    _handle, key = gost_ca.new_key(KeyAlgorithm.GOST_2015_256, "holder")
    revoked, good = gost_ca.issue(key, serial=101), gost_ca.issue(key, serial=102)
    crl = _crl(gost_ca, [(101, int(REVOKED_AT.timestamp()), 3)])
    ca = parsed(gost_ca.certificate)
    with pytest.raises(RevokedError):
        _validate(parsed(revoked), ca, crls=[crl])
    assert len(_validate(parsed(good), ca, crls=[crl])) == 2
    # The same CRL with one bit flipped in its signature is not used: no revocation data, hard fail.
    with pytest.raises(Exception) as failure:
        _validate(parsed(good), ca, crls=[_flip(crl, len(crl) - 10)])
    assert not isinstance(failure.value, RevokedError)


def _request(gost_ca: GostCA, serial: int) -> bytes:
    name_hash, key_hash = issuer_hashes(gost_ca.certificate)["sha1"]
    return asn1_ocsp.OCSPRequest({"tbs_request": {"request_list": [{"req_cert": {
        "hash_algorithm": {"algorithm": "sha1"}, "issuer_name_hash": name_hash, "issuer_key_hash": key_hash,
        "serial_number": serial}}]}}).dump()


@pytest.mark.parametrize("responder", ["ca-key", "delegated"])
def test_gov7_gost_ocsp_responses_verify_and_read_back(gost_ca: GostCA, responder: str) -> None:
    """GOV-7: OCSP answers about the government CA's certificates, signed with GOST (CA key or delegated)."""
    if responder == "ca-key":
        handle, certificate = gost_ca.handle, gost_ca.certificate
    else:
        handle, key = gost_ca.new_key(gost_ca.backend.algorithm(gost_ca.handle), "ocsp")
        certificate = gost_ca.issue(key, profile="ocsp-responder", serial=55)
    signer = ResponseSigner(KeySigner(gost_ca.backend, handle), certificate)
    good_id = parse_request(_request(gost_ca, 101)).cert_ids[0]
    revoked_id = parse_request(_request(gost_ca, 102)).cert_ids[0]
    der = signer.sign([SingleStatus(good_id, "good"),
                       SingleStatus(revoked_id, "revoked", revoked_at=REVOKED_AT, reason_code=4)],
                      produced_at=NOW, this_update=NOW, next_update=NOW + dt.timedelta(hours=1))
    response = asn1_ocsp.OCSPResponse.load(der, strict=True)
    assert response["response_status"].native == "successful"
    basic = response.basic_ocsp_response
    algorithm = gost_ca.backend.algorithm(handle)
    assert basic["signature_algorithm"]["algorithm"].dotted == SIGNATURE_OIDS[algorithm]
    responder_cert = parsed(certificate)
    assert basic["certs"][0].dump() == responder_cert.dump()
    verify(responder_cert.public_key, SIGNATURE_OIDS[algorithm], basic["signature"].native,
           basic["tbs_response_data"].dump())
    answers = basic["tbs_response_data"]["responses"]
    assert [a["cert_id"]["serial_number"].native for a in answers] == [101, 102]
    assert answers[0]["cert_status"].name == "good"
    assert answers[1]["cert_status"].name == "revoked"
    assert answers[1]["cert_status"].chosen["revocation_time"].native == REVOKED_AT
    assert answers[1]["cert_status"].chosen["revocation_reason"].native == "superseded"
    assert basic["tbs_response_data"]["responder_id"].chosen.native == responder_cert.public_key.sha1
    tbs = basic["tbs_response_data"].dump()
    with pytest.raises(InvalidSignature):
        flipped = asn1_ocsp.OCSPResponse.load(_flip(der, der.index(tbs) + len(tbs) - 20)).basic_ocsp_response
        verify(responder_cert.public_key, SIGNATURE_OIDS[algorithm], flipped["signature"].native,
               flipped["tbs_response_data"].dump())


def _judge_with_ocsp(tmp_path: Path, delegated: bool) -> None:
    gost_ca = GostCA(tmp_path, KeyAlgorithm.GOST_2015_512)
    if delegated:
        handle, key = gost_ca.new_key(KeyAlgorithm.GOST_2015_512, "ocsp")
        signer = ResponseSigner(KeySigner(gost_ca.backend, handle), gost_ca.issue(key, profile="ocsp-responder", serial=55))
    else:
        signer = ResponseSigner(KeySigner(gost_ca.backend, gost_ca.handle), gost_ca.certificate)
    _h, holder = gost_ca.new_key(KeyAlgorithm.GOST_2015_256, "holder")
    ca = parsed(gost_ca.certificate)
    for serial, status in ((101, "good"), (102, "revoked")):
        cert = parsed(gost_ca.issue(holder, serial=serial))
        extra = {"revoked_at": REVOKED_AT, "reason_code": 1} if status == "revoked" else {}
        der = signer.sign([SingleStatus(parse_request(_request(gost_ca, serial)).cert_ids[0], status, **extra)],
                          produced_at=NOW, this_update=NOW, next_update=NOW + dt.timedelta(hours=1))
        if status == "good":
            assert len(_validate(cert, ca, ocsps=[der])) == 2
        else:
            with pytest.raises(RevokedError):
                _validate(cert, ca, ocsps=[der])


def test_gov5_pyhanko_certvalidator_reads_good_and_revoked_from_gost_ocsp(tmp_path: Path) -> None:
    """GOV-5: revocation reaches a relying party through a GOST-signed OCSP answer (CA key as responder)."""
    _judge_with_ocsp(tmp_path, delegated=False)


def test_gov5_pyhanko_certvalidator_checks_a_delegated_gost_responder(tmp_path: Path) -> None:
    """GOV-5: a delegated GOST responder (id-pkix-ocsp-nocheck) is checked in the fresh ValidationContext
    pyhanko-certvalidator builds for it, which has only the library's default signature validator:
    keys.gost teaches that default GOST at import (keys/gost/validator.py register)."""
    _judge_with_ocsp(tmp_path, delegated=True)


def test_ocsp_signer_refuses_a_key_that_is_not_the_responder_certificates(tmp_path: Path) -> None:
    gost_ca = GostCA(tmp_path, KeyAlgorithm.GOST_2015_512)
    other, _key = gost_ca.new_key(KeyAlgorithm.GOST_2015_512, "other")
    with pytest.raises(ValueError, match="does not hold"):
        ResponseSigner(KeySigner(gost_ca.backend, other), gost_ca.certificate)
