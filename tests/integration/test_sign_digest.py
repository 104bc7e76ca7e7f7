"""Signing a digest a remote client computed (the CSC door's signHash, issue 19), on software keys and SoftHSM2.

The signature over ``sha256(data)`` given as a digest verifies, with the
key's public half, as a signature over ``data``: what pyHanko's CMS needs.
A digest of the wrong length is refused, and a key reached through
``KeySigner`` signs no digest for a backend without the operation.
"""

from __future__ import annotations

import hashlib

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding

from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend
from keys.backend import UnsupportedAlgorithm
from tests.support.softhsm import softhsm_token

DATA = b"CMS signed attributes, DER"


def _check(signer: KeySigner) -> None:
    signature = signer.sign_digest(hashlib.sha256(DATA).digest(), "sha256")
    key = signer.public_key
    if signer.algorithm.is_rsa:
        key.verify(signature, DATA, padding.PKCS1v15(), hashes.SHA256())
    else:
        key.verify(signature, DATA, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(UnsupportedAlgorithm):
        signer.sign_digest(hashlib.sha384(DATA).digest(), "sha256")


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_a_software_key_signs_a_given_digest_as_it_signs_the_data(tmp_path, algorithm) -> None:
    backend = SoftwareKeyBackend(tmp_path, b"\x07" * 32)
    _check(KeySigner(backend, backend.generate(algorithm, "csc").handle))


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_a_pkcs11_key_signs_a_given_digest_as_it_signs_the_data(tmp_path, algorithm) -> None:
    from keys.pkcs11 import PKCS11KeyBackend

    token = softhsm_token(tmp_path)
    backend = PKCS11KeyBackend(token.module_path, token.label, token.pin)
    _check(KeySigner(backend, backend.generate(algorithm, "csc").handle))


def test_a_backend_without_digest_signing_refuses_through_the_signer(tmp_path) -> None:
    class Plain:   # the KeyBackend protocol alone: sign(data), no sign_digest
        name = "plain"

        def __init__(self) -> None:
            self._inner = SoftwareKeyBackend(tmp_path, b"\x07" * 32)
            self.handle = self._inner.generate(KeyAlgorithm.EC_P256, "plain").handle

        def algorithm(self, handle):  # noqa: ANN001, ANN201
            return self._inner.algorithm(handle)

        def public_key(self, handle):  # noqa: ANN001, ANN201
            return self._inner.public_key(handle)

    plain = Plain()
    with pytest.raises(UnsupportedAlgorithm):
        KeySigner(plain, plain.handle).sign_digest(hashlib.sha256(DATA).digest(), "sha256")
