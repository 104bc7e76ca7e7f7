"""Kept OCSP answers as files for nginx (issue 17, item 1; ca/ocsp_files.py).

Every answer the responder keeps is written at its RFC 6960 GET path; a
revocation removes every file about the certificate, also those written by
a process that no longer runs (the index), so nginx never serves a "good"
the registry contradicts; files half their validity old are swept.
"""

from __future__ import annotations

import base64
import os
import time

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ca.revocation import RevocationRequest
from tests.support import factories as f


def _request(services, certificate) -> bytes:
    national = services.hierarchy.issuing_ca("national").certificate
    return ocsp.OCSPRequestBuilder().add_certificate(certificate, national, hashes.SHA1()).build().public_bytes(
        serialization.Encoding.DER)


def _with_a_file(services):  # noqa: ANN001, ANN202
    """A person's certificate whose OCSP request can be a file: its base64 does not end in "/" (the last test)."""
    for _ in range(20):
        issued = f.issue_person(services)
        if not base64.b64encode(_request(services, issued.certificate)).endswith(b"/"):
            return issued
    raise AssertionError("20 requests in a row ending in '/'")


def _status(der: bytes) -> ocsp.OCSPCertStatus:
    return ocsp.load_der_ocsp_response(der).certificate_status


def test_a_revocation_removes_the_answer_file_a_stopped_process_wrote(services) -> None:
    """NAT-8: the certificate's status is current wherever it is read, nginx's files included."""
    from api.wiring import Services

    issued = _with_a_file(services)
    request = _request(services, issued.certificate)
    other = Services.build(services.settings)   # another worker on the same home
    try:
        answer = other.responder.respond(request)
        path = other.responder.files.path_of("national", request)
    finally:
        other.close()   # that worker is gone; its file stays
    assert _status(answer) == ocsp.OCSPCertStatus.GOOD
    assert path.read_bytes() == answer
    assert path.relative_to(services.settings.resolved_ocsp_export_dir).as_posix() == \
        "national/" + base64.b64encode(request).decode()
    services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="test", reason="key-compromise"))
    assert not path.exists(), "nginx would still serve good"
    assert _status(services.responder.respond(request)) == ocsp.OCSPCertStatus.REVOKED
    assert _status(path.read_bytes()) == ocsp.OCSPCertStatus.REVOKED   # the next one is pre-signed again


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)   # files only: one database is enough
def test_answer_files_half_their_validity_old_are_swept(services) -> None:
    old, fresh = _with_a_file(services), _with_a_file(services)
    paths = []
    for issued in (old, fresh):
        request = _request(services, issued.certificate)
        services.responder.respond(request)
        paths.append(services.responder.files.path_of("national", request))
    half = services.responder.policy.validity.total_seconds() / 2
    os.utime(paths[0], (time.time() - half - 5, time.time() - half - 5))
    assert services.responder.sweep_files() == 1
    assert not paths[0].exists() and paths[1].exists()


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_that_cannot_be_a_file_is_still_answered(services) -> None:
    """A path component longer than the file system allows: no file, the application answers as before."""
    files = services.responder.files
    assert files.write("national", b"\x30" * 400, b"answer", [(1, "ab")]) is False
    issued = f.issue_person(services)
    assert _status(services.responder.respond(_request(services, issued.certificate))) == ocsp.OCSPCertStatus.GOOD


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_request_whose_get_path_ends_in_a_slash_gets_no_file(services) -> None:
    """Its base64 ends in "/": nginx would look for a directory there (try_files), so the file would never be
    served, and written as a file it would take the name another request's path needs as a directory."""
    files = services.responder.files
    request = b"\x30\x00\xff" * 30 + b"\x00\x00\xff"      # base64 "MAD/…AAD/": ends in "/"
    assert base64.b64encode(request).decode().endswith("/")
    assert files.write("national", request, b"answer", [(1, "ab")]) is False
    written = [p for p in files.directory.rglob("*") if p.is_file()]
    assert written == [] and not (files.index / "1-ab").exists()
    ordinary = b"\x30\x00\xff" * 30 + b"\x00\x00\x00"      # ends in "AAAA"
    assert files.write("national", ordinary, b"answer", [(1, "ab")]) is True
    assert files.path_of("national", ordinary).read_bytes() == b"answer"
