"""Which EDS certificates a client may enrol (LOAN-2: issued by an accredited Kazakh CA, issue 5).

One of our national CA's, valid in our registry, or one of an accredited
centre imported into the trust store, chaining to that anchor, valid and
not revoked according to its issuer (signing/factors/accredited.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.clock import Clock
from ca.errors import Problem
from ca.issuer import IssuingCA
from ca.policy import NATIONAL
from registry import CentreRow, CertificateRow, CertificateStatus
from signing.factors.accredited import AccreditedIssuers


class Ours(Protocol):
    def chain_of(self, certificate: x509.Certificate) -> object | None: ...


class CertificateRows(Protocol):
    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]: ...


class CentreRows(Protocol):
    def all(self) -> list[CentreRow]: ...   # read by the hierarchy's issuing_ca(code, tx)


class CertificateStore(Protocol):
    """What the enrolment check reads in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def certificates(self) -> CertificateRows: ...
    @property
    def centres(self) -> CentreRows: ...


class CertificateStorage(Protocol):
    """The registry as the enrolment check sees it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[CertificateStore]: ...


class Centres(Protocol):
    """What the enrolment check reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: CertificateStore | None = None) -> IssuingCA: ...


class ClientCertificates:
    """Which EDS certificates a client may enrol: LOAN-2's "issued by an accredited Kazakh CA"."""

    def __init__(self, registry: CertificateStorage, clock: Clock, centres: Centres, ours: Ours,
                 accredited: AccreditedIssuers) -> None:
        self.registry = registry
        self.clock = clock
        self.centres = centres
        self.ours = ours
        self.accredited = accredited

    def problems(self, certificate: x509.Certificate) -> list[Problem]:
        """Everything that keeps the certificate from signing now, apart from whom it names."""
        if self.ours.chain_of(certificate) is None:
            return self.accredited.check(certificate)[1]
        serial = format(certificate.serial_number, "x")
        der = certificate.public_bytes(serialization.Encoding.DER)
        with self.registry.transaction(readonly=True) as tx:
            national = self.centres.issuing_ca(NATIONAL, tx).centre_id
            row = next((r for r in tx.certificates.by_serial(serial, national) if r.der == der), None)
        if row is None:
            return [Problem("certificate", "is not one of our national CA's certificates (not in the registry)")]
        problems = []
        if row.status != CertificateStatus.VALID:
            problems.append(Problem("certificate", f"is {row.status}"))
        now = self.clock.now()
        if not row.not_before <= now <= row.not_after:
            problems.append(Problem("certificate", "is outside its validity period"))
        return problems


__all__ = ["CertificateStorage", "CertificateStore", "ClientCertificates"]
