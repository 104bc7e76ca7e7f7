"""Keys held by role: one signer per key, made in the wiring, handed to the one component that uses it.

A ``Signer`` is a key (``keys.KeySigner``) with the certificate it signs
under and that certificate's chain: the TSA's, one OCSP responder's, one
centre's CA key for its CRLs, the audit key. The component receiving it can
sign with that key and no other: it holds no key backend and no hub. Keys
are made by ``init`` (ca/bootstrap.py), usually after the wiring was built,
so a signer finds its key on first use (``find``, given by the wiring) and
keeps it for the life of the process, as the centres' certificates are.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.hierarchy import SERVICE_HOLDERS
from ca.issuer import IssuingCA
from keys import KeyAlgorithm, KeyBackend, KeySigner, spki_of
from registry import CertificateRow


@dataclass(frozen=True)
class BoundKey:
    """A key, its certificate (whose public key it holds) and the certificate's chain up to the root."""

    key: KeySigner
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()

    def __post_init__(self) -> None:
        # Caught when the key is bound rather than by every relying party later.
        der = self.certificate.public_bytes(serialization.Encoding.DER)
        if asn1_x509.Certificate.load(der).public_key.dump() != spki_of(self.key.public_key):
            raise ValueError(f"{self.key.handle} does not hold the key of {self.certificate.subject.rfc4514_string()}")


class Signer:
    """The signer of one key, found on first use; ``sign`` is all a component may ask of the key."""

    def __init__(self, find: Callable[[], BoundKey], name: str = "") -> None:
        self.name = name
        self._find: Callable[[], BoundKey] | None = find
        self._bound: BoundKey | None = None
        self._lock = threading.Lock()

    @classmethod
    def of(cls, key: KeySigner, certificate: x509.Certificate, chain: tuple[x509.Certificate, ...] = (),
           name: str = "") -> "Signer":
        """A signer bound now (tests, tools): no lookup left to do."""
        bound = BoundKey(key, certificate, chain)
        return cls(lambda: bound, name)

    def _key(self) -> BoundKey:
        bound = self._bound
        if bound is None:
            with self._lock:
                if self._bound is None:
                    assert self._find is not None  # noqa: S101 - dropped only once bound
                    self._bound = self._find()
                    # What found the key (the wiring's view of the backend) is not kept.
                    self._find = None
                bound = self._bound
        return bound

    @property
    def key(self) -> KeySigner:
        return self._key().key

    @property
    def certificate(self) -> x509.Certificate:
        return self._key().certificate

    @property
    def chain(self) -> tuple[x509.Certificate, ...]:
        """The certificate's issuing CA first, the root last (the certificate itself not included)."""
        return self._key().chain

    @property
    def algorithm(self) -> KeyAlgorithm:
        return self._key().key.algorithm

    @property
    def handle(self) -> str:
        return self._key().key.handle

    def sign(self, data: bytes, hash_name: str | None = None) -> bytes:
        return self._key().key.sign(data, hash_name)

    def sign_tbs(self, tbs_der: bytes, hash_name: str | None = None) -> tuple[bytes, bytes]:
        return self._key().key.sign_tbs(tbs_der, hash_name)

    def sign_certificate(self, builder: x509.CertificateBuilder, hash_name: str | None = None, *,
                         subject_public_key: object | None = None) -> x509.Certificate:
        """A certificate signed as this (CA) key: only what issuance and ``init`` are given."""
        return self._key().key.sign_certificate(builder, hash_name,
                                                subject_public_key=subject_public_key)  # type: ignore[arg-type]

    def __repr__(self) -> str:
        return f"Signer({self.name or '?'}{', bound' if self._bound is not None else ''})"


class Keys(Protocol):
    """What the keyring reads of the hierarchy (ca.hierarchy.Hierarchy) to find a key and its certificate."""

    def issuing_ca(self, code: str, tx: None = None) -> IssuingCA: ...

    def service_certificate(self, name: str) -> CertificateRow: ...

    def chain(self, code: str) -> list[x509.Certificate]: ...


class Keyring:
    """The wiring's tool (api/wiring.py): makes the signer of one key, to hand to the one component using it.

    Only the wiring holds a keyring: it reaches every key of the backend.
    """

    def __init__(self, hierarchy: Keys, backend: KeyBackend) -> None:
        self._hierarchy = hierarchy
        self._backend = backend

    def centre(self, code: str) -> Signer:
        """A centre's CA key, its certificate and the chain above it."""
        hierarchy, backend = self._hierarchy, self._backend

        def find() -> BoundKey:
            ca = hierarchy.issuing_ca(code)
            return BoundKey(KeySigner(backend, ca.key_handle), ca.certificate, ca.chain[1:])

        return Signer(find, f"ca-{code}")

    def service(self, name: str) -> Signer:
        """A service key (``SERVICE_HOLDERS``: the TSA, a responder, the audit key), its certificate and chain."""
        hierarchy, backend = self._hierarchy, self._backend

        def find() -> BoundKey:
            row = hierarchy.service_certificate(name)
            return BoundKey(KeySigner(backend, row.key_handle),  # type: ignore[arg-type]
                            x509.load_der_x509_certificate(row.der),
                            tuple(hierarchy.chain(SERVICE_HOLDERS[name][0])))

        return Signer(find, name)
