"""The time-stamp authority with the real registry and keys, directly and through ``POST /tsa``.

Serial numbers come from the registry's counter, so they are checked over
many tokens, across a restart and between two services stamping at once;
every refusal RFC 3161 names is checked through ``respond``, and a fuzz
test holds ``respond`` to its contract: never raise, always a TimeStampResp.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading

import pytest
from asn1crypto import cms as asn1_cms
from asn1crypto import tsp as asn1_tsp
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from api.http.app import create_app
from api.wiring import Services
from api.settings import Settings
from ca.clock import FrozenClock
from ca.tsa import TimeStampAuthority, TSAPolicy
from ca.tsp import TimeStampRefused, read_response
from keys import verify_signature

DIGEST = hashlib.sha256(b"loan contract").digest()
KZ3_TSA = "1.2.398.3.3.2.6.1"
QUERY = {"Content-Type": "application/timestamp-query"}


def query(digest: bytes = DIGEST, hash_name: str = "sha256", **fields: object) -> bytes:
    return asn1_tsp.TimeStampReq({
        "version": fields.pop("version", 1),
        "message_imprint": {"hash_algorithm": {"algorithm": hash_name}, "hashed_message": digest},
        "cert_req": fields.pop("cert_req", True),
        **fields,
    }).dump()


def granted_token(reply_der: bytes) -> asn1_cms.ContentInfo:
    reply = read_response(reply_der)
    assert reply.granted, (reply.status, reply.fail_info, reply.texts)
    return asn1_cms.ContentInfo.load(reply.token)


def tst_info(token: asn1_cms.ContentInfo) -> asn1_tsp.TSTInfo:
    return token["content"]["encap_content_info"]["content"].parsed


def tsa_certificate(services: Services) -> x509.Certificate:
    return x509.load_der_x509_certificate(services.hierarchy.service_certificate("tsa").der)


# --- granted tokens -----------------------------------------------------------------


@pytest.mark.parametrize("nonce", [None, 0, 1, 2**63 - 1, 2**159 + 12345])
def test_nonce_is_echoed_exactly(services, nonce):
    der = query(nonce=nonce) if nonce is not None else query()
    assert tst_info(granted_token(services.tsa.respond(der)))["nonce"].native == nonce


def test_token_carries_KZ3_tsa_policy_one_second_accuracy_and_the_imprint(services):
    """DOMAIN.md KZ-3: the TSA policy 1.2.398.3.3.2.6.1."""
    info = tst_info(granted_token(services.tsa.respond(query(req_policy=KZ3_TSA))))
    assert info["version"].native == "v1"
    assert info["policy"].dotted == KZ3_TSA
    assert info["accuracy"].native == {"seconds": 1, "millis": None, "micros": None}
    assert info["ordering"].native is False
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
    assert info["message_imprint"]["hashed_message"].native == DIGEST
    assert info["tsa"].chosen.untag().dump() == tsa_certificate(services).subject.public_bytes()


def test_serial_numbers_are_unique_over_many_tokens(services):
    serials = [tst_info(granted_token(services.tsa.respond(query())))["serial_number"].native
               for _ in range(60)]
    assert len(set(serials)) == 60 and serials == sorted(serials)


def test_serial_numbers_are_never_reused_after_a_restart(services):
    before = {tst_info(granted_token(services.tsa.respond(query())))["serial_number"].native for _ in range(5)}
    restarted = Services.build(services.settings)
    try:
        after = {tst_info(asn1_cms.ContentInfo.load(restarted.tsa.stamp(DIGEST)))["serial_number"].native
                 for _ in range(5)}
    finally:
        restarted.close()
    assert len(after) == 5 and not before & after and min(after) > max(before)


def test_serial_numbers_are_unique_between_two_services_stamping_at_once(services):
    """Two Services on one database stand for two worker processes."""
    other = Services.build(services.settings)
    serials: list[int] = []
    lock = threading.Lock()

    def stamp(tsa: TimeStampAuthority) -> None:
        for _ in range(15):
            serial = tst_info(asn1_cms.ContentInfo.load(tsa.stamp(DIGEST)))["serial_number"].native
            with lock:
                serials.append(serial)

    try:
        threads = [threading.Thread(target=stamp, args=(tsa,)) for tsa in (services.tsa, other.tsa)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        other.close()
    assert len(serials) == 30 and len(set(serials)) == 30


def test_gen_time_comes_from_the_injected_clock(services):
    at = tsa_certificate(services).not_valid_before_utc + dt.timedelta(days=3, microseconds=654321)
    tsa = TimeStampAuthority(services.registry, services.tsa_signer, FrozenClock(at))
    assert tst_info(granted_token(tsa.respond(query())))["gen_time"].native == at.replace(microsecond=0)


def test_sub_second_accuracy_gives_milliseconds(services):
    at = tsa_certificate(services).not_valid_before_utc + dt.timedelta(days=3, microseconds=654321)
    tsa = TimeStampAuthority(services.registry, services.tsa_signer, FrozenClock(at), TSAPolicy(accuracy=dt.timedelta(milliseconds=20)))
    info = tst_info(granted_token(tsa.respond(query())))
    assert info["gen_time"].native == at.replace(microsecond=654000)
    assert info["accuracy"].native == {"seconds": None, "millis": 20, "micros": None}


def test_ess_cert_id_v2_hash_is_sha256_of_the_tsa_certificate(services):
    """RFC 5816: signingCertificateV2 names the TSA certificate by its SHA-256 hash and issuerSerial."""
    token = granted_token(services.tsa.respond(query()))
    signer_info = token["content"]["signer_infos"][0]
    attribute = next(a for a in signer_info["signed_attrs"] if a["type"].native == "signing_certificate_v2")
    cert_id = attribute["values"][0]["certs"][0]
    certificate = tsa_certificate(services)
    assert cert_id["cert_hash"].native == hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).digest()
    assert cert_id["issuer_serial"]["serial_number"].native == certificate.serial_number
    assert cert_id["issuer_serial"]["issuer"][0].chosen.untag().dump() == certificate.issuer.public_bytes()


def test_signature_verifies_with_the_tsa_public_key(services):
    token = granted_token(services.tsa.respond(query()))
    signed_data = token["content"]
    signer_info = signed_data["signer_infos"][0]
    hash_name = signer_info["digest_algorithm"]["algorithm"].native
    attributes = {a["type"].native: a["values"][0].native for a in signer_info["signed_attrs"]}
    tst_der = signed_data["encap_content_info"]["content"].contents
    assert attributes["content_type"] == "tst_info"
    assert attributes["message_digest"] == hashlib.new(hash_name, tst_der).digest()
    signed = b"\x31" + signer_info["signed_attrs"].dump()[1:]
    certificate = tsa_certificate(services)
    assert verify_signature(certificate.public_key(), signer_info["signature"].native, signed, hash_name)
    carried = {c.chosen.dump() for c in signed_data["certificates"]}
    # The TSA's certificate and its issuing CA (not the root: the verifier's own anchor).
    assert carried == {certificate.public_bytes(serialization.Encoding.DER),
                       services.hierarchy.chain("national")[0].public_bytes(serialization.Encoding.DER)}


def test_without_cert_req_the_certificate_is_left_out(services):
    token = granted_token(services.tsa.respond(query(cert_req=False)))
    assert not token["content"]["certificates"]


def test_stamp_gives_in_process_callers_a_token(services):
    digest = hashlib.sha384(b"document").digest()
    token = asn1_cms.ContentInfo.load(services.tsa.stamp(digest, "sha384", nonce=5, cert_req=False))
    info = tst_info(token)
    assert (info["nonce"].native, info["message_imprint"]["hashed_message"].native) == (5, digest)
    assert info["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha384"
    assert not token["content"]["certificates"]


def test_stamp_refuses_sha1_with_bad_alg(services):
    with pytest.raises(TimeStampRefused) as refused:
        services.tsa.stamp(hashlib.sha1(b"x").digest(), "sha1")
    assert refused.value.fail_info == "badAlg"


# --- refusals ------------------------------------------------------------------------

_EXTENSION = [{"extn_id": "1.3.6.1.4.1.99999.1", "critical": False, "extn_value": b"\x05\x00"}]


@pytest.mark.parametrize("der, fail_info", [
    (query(hashlib.sha1(b"x").digest(), "sha1"), "badAlg"),
    (query(hashlib.md5(b"x").digest(), "md5"), "badAlg"),
    (query(DIGEST[:31]), "badAlg"),
    (query(hashlib.sha512(b"x").digest(), "sha256"), "badAlg"),
    (query(req_policy="1.2.3.4.5"), "unacceptedPolicy"),
    (query(extensions=_EXTENSION), "unacceptedExtension"),
    (b"garbage", "badDataFormat"),
    (b"", "badDataFormat"),
    (query()[:-5], "badDataFormat"),
    (query() + b"\x00\x00", "badDataFormat"),
    (query(version=2), "badDataFormat"),
], ids=["sha1", "md5", "imprint-too-short", "imprint-length-of-sha512", "other-policy", "extension",
        "garbage", "empty", "truncated", "trailing-bytes", "version-2"])
def test_refusals_are_rejections_with_the_rfc3161_fail_info(services, der, fail_info):
    reply = read_response(services.tsa.respond(der))
    assert (reply.status, reply.fail_info, reply.token) == ("rejection", {fail_info}, None)
    assert reply.texts and reply.texts[0]


def test_a_tsa_certificate_not_valid_now_is_system_failure_logged_without_secrets(services, caplog):
    late = tsa_certificate(services).not_valid_after_utc + dt.timedelta(days=1)
    tsa = TimeStampAuthority(services.registry, services.tsa_signer, FrozenClock(late))
    with caplog.at_level(logging.ERROR, logger="ca.tsa"):
        reply = read_response(tsa.respond(query()))
    assert (reply.status, reply.fail_info) == ("rejection", {"systemFailure"})
    assert reply.texts == ("the time-stamp authority cannot answer now",)
    assert "not valid" in caplog.text
    assert services.settings.master_key.get_secret_value() not in caplog.text


def test_an_internal_failure_is_system_failure_not_an_exception(services, caplog, monkeypatch):
    def broken(*_args: object) -> bytes:
        raise RuntimeError("the HSM went away")

    tsa = TimeStampAuthority(services.registry, services.tsa_signer, services.clock)
    tsa.certificate  # noqa: B018 - load the signer before the backend breaks
    monkeypatch.setattr(services.backend, "sign", broken)
    with caplog.at_level(logging.ERROR, logger="ca.tsa"):
        reply = read_response(tsa.respond(query()))
    assert (reply.status, reply.fail_info) == ("rejection", {"systemFailure"})
    assert "RuntimeError" in caplog.text


# --- respond never raises ----------------------------------------------------------

_VALID = query(nonce=123456789)


def _mutated() -> st.SearchStrategy[bytes]:
    flips = st.tuples(st.integers(0, len(_VALID) - 1), st.integers(0, 255)).map(
        lambda change: _VALID[:change[0]] + bytes((change[1],)) + _VALID[change[0] + 1:])
    cuts = st.integers(0, len(_VALID)).map(lambda n: _VALID[:n])
    tails = st.binary(min_size=1, max_size=8).map(lambda tail: _VALID + tail)
    return st.one_of(flips, cuts, tails)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=300), _mutated()))
def test_respond_never_raises_and_always_returns_a_timestamp_resp(services, der):
    reply = read_response(services.tsa.respond(der))
    if reply.granted:
        assert tst_info(asn1_cms.ContentInfo.load(reply.token))["version"].native == "v1"
    else:
        assert reply.status == "rejection" and len(reply.fail_info) == 1
        assert reply.fail_info != {"systemFailure"}


# --- HTTP ---------------------------------------------------------------------------


@pytest.fixture
def anon(services):
    with TestClient(create_app(services=services)) as client:
        yield client


def test_post_tsa_needs_no_key_and_returns_a_timestamp_reply(anon):
    response = anon.post("/tsa", content=query(nonce=77), headers=QUERY)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/timestamp-reply"
    assert tst_info(granted_token(response.content))["nonce"].native == 77


def test_a_refused_query_is_still_200_with_a_rejection(anon):
    """RFC 3161 §3.4: the reply is the TimeStampResp, whatever its status."""
    response = anon.post("/tsa", content=query(hashlib.sha1(b"x").digest(), "sha1"), headers=QUERY)
    assert response.status_code == 200
    assert read_response(response.content).fail_info == {"badAlg"}


def test_wrong_content_type_is_415_problem(anon):
    response = anon.post("/tsa", content=query(), headers={"Content-Type": "application/octet-stream"})
    assert response.status_code == 415
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "unsupported-media-type"


def test_body_over_64_kib_is_413_problem(anon):
    response = anon.post("/tsa", content=b"\x30" * (64 * 1024 + 1), headers=QUERY)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "payload-too-large"


def test_tsa_route_is_in_the_openapi_document(anon):
    operation = anon.get("/openapi.json").json()["paths"]["/tsa"]["post"]
    assert "application/timestamp-query" in operation["requestBody"]["content"]
    assert "application/timestamp-reply" in operation["responses"]["200"]["content"]


# --- settings ------------------------------------------------------------------------


def test_settings_shape_the_tsa_policy(tmp_path):
    svc = Services.build(Settings(home=tmp_path / "home", master_key="11" * 32, tsa_policy_oid="1.2.3.4",
                                  tsa_accuracy_ms=250))
    try:
        assert svc.tsa.policy == TSAPolicy(policy_oid="1.2.3.4", accuracy=dt.timedelta(milliseconds=250))
    finally:
        svc.close()


@pytest.mark.parametrize("field, value", [("tsa_policy_oid", "not.an.oid"), ("tsa_policy_oid", "1"),
                                          ("tsa_accuracy_ms", 0), ("tsa_accuracy_ms", 60_001)])
def test_settings_refuse_a_bad_tsa_policy(tmp_path, field, value):
    with pytest.raises(ValidationError):
        Settings(home=tmp_path, **{field: value})
