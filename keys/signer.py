"""A signer bound to one key: what a component that may use that key (and no other) receives.

Boulder's CA holds keys, its RA never does; here each key is reached through
a ``KeySigner`` made for it in the wiring (api/wiring.py) and handed to the
one component that signs with it: the TSA, an OCSP responder, a centre's CRL
publisher, the audit checkpoints, the MFO's seal. The backend stays behind
the signer, so a component holding one can ask for this key's signature and
nothing else (pyHanko's ``Signer``: one ``sign``, whatever holds the key).
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from keys.backend import KeyAlgorithm, KeyBackend, KeyInfo, KeyNotFound, UnsupportedAlgorithm
from keys.gost import GostPublicKey
from keys.software import SoftwareKeyBackend
from keys.x509sign import hash_for, sign_certificate, sign_tbs


class KeySigner:
    """Signs with the one key ``handle`` of ``backend``; the algorithm and public key are read once."""

    __slots__ = ("_backend", "_handle", "_algorithm", "_public_key", "_digest", "_private")

    def __init__(self, backend: KeyBackend, handle: str) -> None:
        self._backend = backend
        self._handle = handle
        self._algorithm = backend.algorithm(handle)
        self._public_key = backend.public_key(handle)
        self._digest = None if self._algorithm.is_gost else hash_for(self._algorithm)
        # A software key ``cryptography`` can sign certificates with itself, found once per signer
        # (issuance signs with the same CA key every time; the backend caches it decrypted anyway).
        self._private = None

    @property
    def handle(self) -> str:
        """The key's name in its backend (not a secret: the registry stores it)."""
        return self._handle

    @property
    def algorithm(self) -> KeyAlgorithm:
        return self._algorithm

    @property
    def public_key(self) -> PublicKeyTypes:
        return self._public_key

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def sign(self, data: bytes, hash_name: str | None = None) -> bytes:
        """The raw signature over ``data`` (hashed with ``hash_name``, the key's own hash by default)."""
        return self._backend.sign(self._handle, data, hash_name or self._algorithm.default_hash)

    def sign_digest(self, digest: bytes, hash_name: str) -> bytes:
        """The raw signature over a digest computed elsewhere (CSC signHash, issue 19); a backend that cannot
        sign a given digest (GOST) raises ``UnsupportedAlgorithm``."""
        sign_digest = getattr(self._backend, "sign_digest", None)
        if sign_digest is None or self._algorithm.is_gost:
            raise UnsupportedAlgorithm(f"the {self._backend.name} backend signs no digest given to it")
        return sign_digest(self._handle, digest, hash_name)

    def sign_tbs(self, tbs_der: bytes, hash_name: str | None = None) -> tuple[bytes, bytes]:
        """(signatureAlgorithm DER, signature) over a to-be-signed structure, checked as ``keys.sign_tbs`` does."""
        return sign_tbs(self._backend, self._handle, tbs_der, hash_name or self._algorithm.default_hash)

    def sign_certificate(self, builder: x509.CertificateBuilder, hash_name: str | None = None, *,
                         subject_public_key: PublicKeyTypes | GostPublicKey | None = None) -> x509.Certificate:
        """``builder`` signed as this (CA) key; see ``keys.sign_certificate``."""
        if (hash_name is None and self._digest is not None and isinstance(self._backend, SoftwareKeyBackend)
                and not isinstance(subject_public_key, GostPublicKey)):
            # The common case (issuance on software keys): straight to ``cryptography``, as
            # ``keys.sign_certificate`` would, without looking the key and its hash up each time.
            if self._private is None:
                self._private = self._backend._private_key(self._handle)  # noqa: SLF001 - keys' own
            return builder.sign(self._private, self._digest)
        return sign_certificate(self._backend, self._handle, builder, hash_name,
                                subject_public_key=subject_public_key)

    def __repr__(self) -> str:
        return f"KeySigner({self._backend.name}, {self._handle})"


class KeyGenerator:
    """Makes keys in a backend and reads their public halves; signs with none (issuance's holder keys)."""

    __slots__ = ("_backend",)

    def __init__(self, backend: KeyBackend) -> None:
        self._backend = backend

    def generate(self, algorithm: KeyAlgorithm, label: str, *, fresh: bool = False) -> KeyInfo:
        return self._backend.generate(algorithm, label, fresh=fresh)

    def public_key(self, handle: str) -> PublicKeyTypes:
        return self._backend.public_key(handle)


class KeyDestroyer:
    """Destroys keys a component made for holders (a borrower's held key, issue 15); signs and reads nothing."""

    __slots__ = ("_backend",)

    def __init__(self, backend: KeyBackend) -> None:
        self._backend = backend

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def destroy(self, handle: str) -> None:
        """Gone for good in the backend; ``KeyNotFound`` when it is gone already."""
        self._backend.destroy(handle)

    def exists(self, handle: str) -> bool:
        try:
            self._backend.public_key(handle)
        except KeyNotFound:
            return False
        return True
