"""The clients' keys the signing service holds (each tenant's seal: signing/tenants/seals.py).

They are made in the wiring (api/wiring/) around the key backend, which
the signing service itself never sees. A client's held key signs only when
handed the ``Authorisation`` object the factor check made for this document
state and this certificate (signing/factors/authorisation.py), and only once per
object.
"""

from __future__ import annotations

import hashlib

from ca.errors import ConflictError
from ca.profiles import PROFILES, HolderKind
from keys import KeyBackend, KeySigner
from registry import CertificateRow
from signing.factors.authorisation import Authorisation, NotAuthorised

# Holders' certificates whose key the service may hold (DOMAIN.md §3: a client's signing key).
_CLIENT_KINDS = (HolderKind.INDIVIDUAL, HolderKind.LEGAL_ENTITY, HolderKind.GOVERNMENT)


class HeldKeySigner:
    """One client's key held by the service: ``sign`` demands the client's authorisation object."""

    __slots__ = ("_key", "serial")

    def __init__(self, key: KeySigner, serial: str) -> None:
        self._key = key
        self.serial = serial.lower()

    def sign(self, data: bytes, hash_name: str, *, authorisation: Authorisation, document: bytes) -> bytes:
        """The signature over ``data``, once ``authorisation`` (for ``document``, this key) is spent on it."""
        if type(authorisation) is not Authorisation:
            raise NotAuthorised("signing with a key the service holds needs the client's authorisation")
        authorisation.spend(document_sha256=hashlib.sha256(document).hexdigest(), signer_serial=self.serial)
        return self._key.sign(data, hash_name)

    def sign_digest(self, digest: bytes, hash_name: str, *, authorisation: Authorisation) -> bytes:
        """The signature over a digest a remote client computed (CSC signHash, issue 19), once ``authorisation``
        (for this digest, this key) is spent on it."""
        if type(authorisation) is not Authorisation:
            raise NotAuthorised("signing with a key the service holds needs the client's authorisation")
        authorisation.spend(document_sha256=digest.hex(), signer_serial=self.serial)
        return self._key.sign_digest(digest, hash_name)

    def unlocked(self, authorisation: Authorisation, document: bytes) -> "UnlockedKey":
        """What the PAdES engine signs with (``sign(data, hash_name)``): this key, for this authorisation."""
        return UnlockedKey(self, authorisation, document)


class UnlockedKey:
    """A held key and the authorisation that unlocks it for one signature over one document."""

    __slots__ = ("_signer", "_authorisation", "_document")

    def __init__(self, signer: HeldKeySigner, authorisation: Authorisation, document: bytes) -> None:
        self._signer = signer
        self._authorisation = authorisation
        self._document = document

    def sign(self, data: bytes, hash_name: str) -> bytes:
        return self._signer.sign(data, hash_name, authorisation=self._authorisation, document=self._document)


class HeldKeys:
    """Makes the signer of a client's held key from its certificate row; no other key is reachable."""

    def __init__(self, backend: KeyBackend) -> None:
        self._backend = backend

    def signer(self, certificate: CertificateRow) -> HeldKeySigner:
        profile = PROFILES.get(certificate.profile)
        if (not certificate.key_handle or certificate.key_carrier != "service" or profile is None
                or profile.holder_kind not in _CLIENT_KINDS or certificate.holder.startswith(("service:", "tenant:"))):
            raise ConflictError("the client's key is not held by the service; use external signing")
        return HeldKeySigner(KeySigner(self._backend, certificate.key_handle), certificate.serial)
