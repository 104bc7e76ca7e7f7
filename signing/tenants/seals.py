"""Each tenant's seal: found for its tenant, checked fit to sign, signed with through its own signer (issue 15).

A tenant's seal is a legal-entity seal certificate naming the tenant's BIN
and name: issued by our national CA with its key generated in the
configured backend, or imported (an accredited centre's certificate, such
as the NCA RK's, whose key is already in our HSM). Before every seal
signature, in the signature's own transactions:

- the tenant is registered and active: a suspended tenant signs nothing,
  from the moment it is suspended (``TenantSuspended``);
- its seal is fit: ours is valid in our registry and within its period;
  an imported one passes the accredited centres' check again, its
  issuer's OCSP or CRL fetched (signing/factors/accredited.py). A revoked
  seal signs nothing (``SealUnusable``) until an administrator gives the
  tenant a new one.

``SealKeys`` is made in the wiring around the key backend; the signing
service never sees the backend. It makes one signer per seal key, and only
for a key whose public key is the tenant's seal certificate's.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.errors import ConflictError, InvalidInput, Problem, QoltanbaError
from ca.policy import NATIONAL
from keys import KeyBackend, KeySigner
from registry import CertificateStatus, SealSource, TenantRow, TenantStatus
from signing.factors.accredited import AccreditedIssuers
from signing.pades import ValidationData

_SPKI = (serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class TenantSuspended(QoltanbaError):
    def __init__(self, tenant: str) -> None:
        super().__init__("tenant-suspended", f"tenant {tenant} is suspended: it signs nothing until an "
                                             "administrator resumes it", [Problem("tenant", "is suspended")])


class SealUnusable(QoltanbaError):
    def __init__(self, tenant: str, problems: list[Problem]) -> None:
        super().__init__("seal-unusable", f"the seal of tenant {tenant} cannot sign: an administrator must give "
                                          "the tenant a new seal", problems)


class UnknownTenant(ConflictError):
    def __init__(self, tenant: str) -> None:
        super().__init__(f"tenant {tenant} is not registered: an administrator creates it (POST /tenants, "
                         "qoltanba tenant create) before its documents are signed", [Problem("tenant",
                                                                                             "is not registered")])


class SealKeys:
    """One signer per tenant seal key, made on first use; no other key of the backend is reachable."""

    def __init__(self, backend: KeyBackend) -> None:
        self._backend = backend
        self._signers: dict[tuple[str, str], KeySigner] = {}
        self._lock = threading.Lock()

    def signer(self, tenant: TenantRow) -> KeySigner:
        """The signer of ``tenant``'s seal key, which must be the key of its seal certificate."""
        key = (tenant.seal_key_handle, tenant.seal_serial)
        with self._lock:
            signer = self._signers.get(key)
        if signer is None:
            if not self.matches(tenant.seal_key_handle, x509.load_der_x509_certificate(tenant.seal_der)):
                raise SealUnusable(tenant.code, [Problem("seal", "the key is not the seal certificate's")])
            signer = KeySigner(self._backend, tenant.seal_key_handle)
            with self._lock:
                self._signers[key] = signer
        return signer

    def matches(self, handle: str, certificate: x509.Certificate) -> bool:
        """Whether ``handle`` names a key of the backend whose public key is ``certificate``'s.

        A GOST certificate's key is not one ``cryptography`` reads, nor one our PKCS#11 backend makes
        (docs/DECISIONS.md, GOST): it matches no key, and the seal is refused with that reason.
        """
        try:
            public = self._backend.public_key(handle)
            return public.public_bytes(*_SPKI) == certificate.public_key().public_bytes(*_SPKI)
        except Exception:   # noqa: BLE001 - any backend's "no such key" (software file, PKCS#11 object), or GOST
            return False


class TenantRows(Protocol):
    def by_code(self, code: str, *, for_update: bool = False) -> TenantRow | None: ...
    def status_of(self, code: str) -> str | None: ...


class SealStore(Protocol):
    """What finding a seal reads in the caller's unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def tenants(self) -> TenantRows: ...
    @property
    def certificates(self) -> Any: ...


class NationalChain(Protocol):
    def issuing_ca(self, code: str, tx: Any = None) -> Any: ...
    def chain(self, code: str) -> list[x509.Certificate]: ...


@dataclass(frozen=True)
class ReadySeal:
    """A seal fit to sign now: its certificate, chain (issuing CA first), revocation data, and signer."""

    tenant: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    signer: KeySigner
    validation: ValidationData | None = None


class TenantSeals:
    """Finds a tenant's seal and checks it fit to sign; signs only through ``SealKeys``."""

    def __init__(self, keys: SealKeys, chains: NationalChain, clock: Any,
                 accredited: AccreditedIssuers | None = None) -> None:
        self.keys = keys
        self.chains = chains
        self.clock = clock
        self.accredited = accredited

    def ensure_active(self, tx: SealStore, tenant: str) -> None:
        """``active`` for a caller that needs no row: the status alone is read."""
        _require_active(tenant, tx.tenants.status_of(tenant) if tenant else None)

    def active(self, tx: SealStore, tenant: str) -> TenantRow:
        """The tenant's row, registered and active (read again in the signature's storing transaction)."""
        row = tx.tenants.by_code(tenant) if tenant else None
        if row is None:
            raise UnknownTenant(tenant)
        _require_active(tenant, row.status)
        return row

    def find(self, tx: SealStore, tenant: str) -> TenantRow:
        """The active tenant whose seal, if it is our national CA's, is valid in our registry now."""
        row = self.active(tx, tenant)
        if row.seal_source == SealSource.NATIONAL:
            national = self.chains.issuing_ca(NATIONAL, tx).centre_id
            certs = tx.certificates.by_serial(row.seal_serial, national)
            cert = certs[0] if certs else None
            now = self.clock.now()
            if cert is None or cert.status != CertificateStatus.VALID:
                raise SealUnusable(tenant, [Problem("seal", f"certificate {row.seal_serial} is "
                                                            f"{cert.status if cert else 'not in the registry'}")])
            if not cert.not_before <= now <= cert.not_after:
                raise SealUnusable(tenant, [Problem("seal", f"certificate {row.seal_serial} is outside its "
                                                            "validity period")])
        return row

    def ready(self, row: TenantRow) -> ReadySeal:
        """The seal ready to sign; an imported one is checked with its centre now (no transaction open)."""
        certificate = x509.load_der_x509_certificate(row.seal_der)
        if row.seal_source == SealSource.NATIONAL:
            return ReadySeal(row.code, certificate, tuple(self.chains.chain(NATIONAL)), self.keys.signer(row))
        if self.accredited is None:
            raise SealUnusable(row.code, [Problem("seal", "no accredited centre is trusted")])
        try:
            accepted = self.accredited.accept(certificate)
        except InvalidInput as refused:
            raise SealUnusable(row.code, [Problem("seal", p.message) for p in refused.problems]) from None
        return ReadySeal(row.code, certificate, accepted.chain, self.keys.signer(row), accepted.validation)


def _require_active(tenant: str, status: str | None) -> None:
    """``status`` None: no such tenant."""
    if status is None:
        raise UnknownTenant(tenant)
    if status != TenantStatus.ACTIVE:
        raise TenantSuspended(tenant)


__all__ = ["ReadySeal", "SealKeys", "SealUnusable", "TenantSeals", "TenantSuspended", "UnknownTenant"]
