"""ca.cms.verify_signed_document on signatures made by ``openssl cms -sign``.

OpenSSL is the independent signer here: it makes the keys, the self-signed
certificates and the signatures, in the shapes a holder's tooling produces
(attached and detached, DER, PEM and BER-streamed, with and without signed
attributes, PKCS#1 v1.5 and PSS). Every one must verify, and a signature made
over other content must not.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from cryptography import x509

from ca.cms import CMSVerificationError, verify_signed_document
from tests.support.tools import require_tool

pytestmark = pytest.mark.interop

_TIMEOUT = 60
DOCUMENT = b"Revocation application: certificate 0x1f2e, reason keyCompromise.\n"
OTHER_DOCUMENT = b"Revocation application: certificate 0x1f2f, reason keyCompromise.\n"
KEY_SPECS = {"rsa": "rsa:2048", "ec": "ec"}


def _openssl(*args: str | Path) -> None:
    openssl = require_tool("openssl")
    subprocess.run([openssl, *map(str, args)], check=True, capture_output=True, timeout=_TIMEOUT)


@pytest.fixture(scope="module", params=sorted(KEY_SPECS))
def holder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(key, certificate) files made by openssl for an RSA-2048 or EC P-256 holder."""
    kind = request.param
    directory = tmp_path_factory.mktemp(f"holder-{kind}")
    key, cert = directory / "holder.key", directory / "holder.crt"
    curve = ["-pkeyopt", "ec_paramgen_curve:P-256"] if kind == "ec" else []
    _openssl("req", "-x509", "-newkey", KEY_SPECS[kind], *curve, "-nodes", "-keyout", key, "-out", cert,
             "-subj", f"/CN=Holder {kind}", "-days", "2")
    return key, cert


def _sign(holder: tuple[Path, Path], content: bytes, *options: str) -> bytes:
    key, cert = holder
    directory = cert.parent
    document = directory / "document.bin"
    signature = directory / "signature.out"
    document.write_bytes(content)
    _openssl("cms", "-sign", "-binary", "-md", "sha256", "-in", document, "-signer", cert, "-inkey", key,
             "-out", signature, *options)
    return signature.read_bytes()


def _certificate(holder: tuple[Path, Path]) -> x509.Certificate:
    return x509.load_pem_x509_certificate(holder[1].read_bytes())


ATTACHED = {
    "der": ("-nodetach", "-outform", "DER"),
    "pem": ("-nodetach", "-outform", "PEM"),
    "ber-streamed": ("-nodetach", "-stream", "-outform", "DER"),
    "der-noattr": ("-nodetach", "-noattr", "-outform", "DER"),
    "pem-noattr": ("-nodetach", "-noattr", "-outform", "PEM"),
}
DETACHED = {
    "der": ("-outform", "DER"),
    "pem": ("-outform", "PEM"),
    "der-noattr": ("-noattr", "-outform", "DER"),
}


@pytest.mark.parametrize("options", ATTACHED.values(), ids=ATTACHED.keys())
def test_openssl_attached_signature_verifies(holder, options) -> None:
    result = verify_signed_document(_sign(holder, DOCUMENT, *options))
    assert result.content == DOCUMENT
    assert result.signer == _certificate(holder)
    assert result.digest_algorithm == "sha256"
    assert (result.signing_time is None) == ("-noattr" in options)


@pytest.mark.parametrize("options", DETACHED.values(), ids=DETACHED.keys())
def test_openssl_detached_signature_verifies(holder, options) -> None:
    result = verify_signed_document(_sign(holder, DOCUMENT, *options), detached_content=DOCUMENT)
    assert result.content == DOCUMENT
    assert result.signer == _certificate(holder)


@pytest.mark.parametrize("options", DETACHED.values(), ids=DETACHED.keys())
def test_openssl_signature_over_other_content_fails(holder, options) -> None:
    signature = _sign(holder, OTHER_DOCUMENT, *options)
    with pytest.raises(CMSVerificationError, match="^the signature does not match the document$"):
        verify_signed_document(signature, detached_content=DOCUMENT)


def test_openssl_rsa_pss_signature_verifies(tmp_path_factory: pytest.TempPathFactory) -> None:
    directory = tmp_path_factory.mktemp("holder-pss")
    key, cert = directory / "holder.key", directory / "holder.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
             "-subj", "/CN=Holder pss", "-days", "2")
    signature = _sign((key, cert), DOCUMENT, "-nodetach", "-outform", "DER", "-keyopt", "rsa_padding_mode:pss")
    assert verify_signed_document(signature).signer == _certificate((key, cert))
