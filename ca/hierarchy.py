"""The hierarchy as it stands: the centres, their CA certificates and chains, the service certificates.

Reading only: no key is made or used here. The centres and their
certificates never change while a process runs (a new CA key is certified
onto a centre by a separate, future step), so each centre is read and parsed
once per process; a service certificate is read from the registry each time,
since a revoked seal is replaced by a newly issued one.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from cryptography import x509

from ca.errors import NotFound, NotInitialised
from ca.issuer import CAEndpoints, IssuingCA
from ca.policy import CENTRES, GOVERNMENT, NATIONAL, ROOT

if TYPE_CHECKING:   # types only: ``qoltanba verify`` reads the centres through registry.readonly, without the ORM
    from registry import CertificateRow, Registry, RegistryTransaction

# The service keys `init` makes, each with its certificate: the name (the
# registry's holder is ``service:<name>``) -> (issuing centre, profile).
SERVICE_HOLDERS = {
    "ocsp-root": (ROOT, "ocsp-responder"),
    "ocsp-national": (NATIONAL, "ocsp-responder"),
    "ocsp-government": (GOVERNMENT, "ocsp-responder"),
    "tsa": (NATIONAL, "tsa"),
    "audit": (NATIONAL, "audit"),
}


class Hierarchy:
    """Centres, chains and service certificates, read from the registry."""

    def __init__(self, registry: Registry, base_url: str) -> None:
        self.registry = registry
        self.base_url = base_url
        self._cas: dict[str, IssuingCA] = {}
        self._lock = threading.Lock()

    def issuing_ca(self, code: str, tx: RegistryTransaction | None = None) -> IssuingCA:
        """The signing CA for a centre code, loaded once per process.

        Inside a unit of work pass its ``tx``: SQLite takes the write lock at
        BEGIN, so a second transaction from the same thread would wait on
        the first.
        """
        ca = self._cas.get(code)
        if ca is not None:
            return ca
        if code not in CENTRES:
            raise NotFound(f"no certification centre {code!r}; known: {', '.join(CENTRES)}")
        if tx is None:
            with self.registry.transaction() as own:
                rows = {row.code: row for row in own.centres.all()}
        else:
            rows = {row.code: row for row in tx.centres.all()}
        if code not in rows:
            raise NotInitialised()
        row = rows[code]
        chain: list[x509.Certificate] = []
        parent = row
        while parent is not None:
            chain.append(x509.load_der_x509_certificate(parent.certificate_der))
            parent = next((r for r in rows.values() if r.id == parent.parent_id), None)
        ca = IssuingCA(code=code, certificate=chain[0], key_handle=row.key_handle,
                       endpoints=CAEndpoints(self.base_url, code), centre_id=row.id, chain=tuple(chain))
        with self._lock:
            self._cas[code] = ca
        return ca

    def chain(self, code: str) -> list[x509.Certificate]:
        """The centre's chain, issuing CA first and root last."""
        return list(self.issuing_ca(code).chain)

    def forget(self) -> None:
        """Drop what was read (``init`` just created the centres)."""
        with self._lock:
            self._cas.clear()

    def is_initialised(self) -> bool:
        with self.registry.transaction() as tx:
            return {row.code for row in tx.centres.all()} >= set(CENTRES) and all(
                tx.certificates.by_holder(f"service:{name}") for name in SERVICE_HOLDERS)

    def service_certificate(self, name: str) -> CertificateRow:
        """The newest valid certificate of a service key (``SERVICE_HOLDERS``)."""
        with self.registry.transaction() as tx:
            rows = tx.certificates.by_holder(f"service:{name}")
        if not rows:
            raise NotInitialised()
        return rows[-1]
