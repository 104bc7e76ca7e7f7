"""A pyHanko ``Signer`` for GOST keys: pyHanko's own PDF and CMS signing with ST RK GOST R 34.10-2015.

pyHanko builds the CMS (``PdfSigner``, ``sign_pdf``, ``Signer.async_sign_general_data``)
and asks a ``Signer`` for two things only: the signature mechanism to write
and the raw signature over the signed attributes. This one names the
NCA's algorithms (DOMAIN.md KZ-5: digest 1.2.398.3.10.1.3.2 / .3.3, signature
1.2.398.3.10.1.1.2.3.1 / .3.2) and signs with any key of ours that signs
bytes, the backend key of a client (``signing.pades.engine.BackendKey``) or a key
read from the NCA's PKCS#12 (``keys.gost.GostPrivateKey``). pyHanko hashes
the content with Streebog through keys/gost/pyca.py.

Our own PAdES path (signing/pades/signed_data.py) does not need this class; it is
for code that uses pyHanko's signing directly, and it is the judge that our
CMS and pyHanko's agree.
"""

from __future__ import annotations

from asn1crypto import algos
from asn1crypto import x509 as asn1_x509
from pyhanko.sign import signers
from pyhanko.sign.general import SigningError
from pyhanko_certvalidator.registry import SimpleCertificateStore

from keys.gost import is_gost_key, public_key
from keys.gost.x509 import scheme_for
from signing.pades.engine import KeySigner
from signing.pades.signed_data import pyhanko_digest_name


class GostSigner(signers.Signer):
    """Signs with a GOST 2015 key; the digest is the Streebog the key's size fixes.

    Give ``md_algorithm=signer.digest_algorithm`` in ``PdfSignatureMetadata``
    (pyHanko cannot derive it from a mechanism asn1crypto does not know);
    any other digest is refused rather than signed.
    """

    def __init__(self, key: KeySigner, signing_cert: asn1_x509.Certificate,
                 chain: tuple[asn1_x509.Certificate, ...] = (), *, embed_roots: bool = True) -> None:
        info = signing_cert.public_key
        if not is_gost_key(info):
            raise SigningError("the certificate's key is not a GOST key")
        scheme = scheme_for(public_key(info).curve)
        self._scheme = scheme
        self.digest_algorithm = pyhanko_digest_name(scheme.hash_name)
        super().__init__(signing_cert=signing_cert, cert_registry=SimpleCertificateStore.from_certs(
                             [signing_cert, *chain]),
                         signature_mechanism=algos.SignedDigestAlgorithm({"algorithm": scheme.signature_oid}),
                         embed_roots=embed_roots)
        self._key = key

    def _check_digest_algorithm(self, digest_algorithm: str) -> None:
        if digest_algorithm != self.digest_algorithm:
            raise SigningError(f"a {self._scheme.name} signature uses {self.digest_algorithm}, "
                               f"not {digest_algorithm}")

    async def async_sign_raw(self, data: bytes, digest_algorithm: str, dry_run: bool = False) -> bytes:
        self._check_digest_algorithm(digest_algorithm)
        if dry_run:
            return bytes(2 * self._scheme.size)
        return self._key.sign(data, self._scheme.hash_name)


__all__ = ["GostSigner"]
