"""``init``: the three centres and the service certificates, created once.

Bootstrap is the hierarchy's first key ceremony: it makes the CA keys before
any administrator exists (every later CA key is dual-controlled, see
ca/ceremony.py), so it is the one component besides the wiring that holds
the key backend. The service keys (TSA, OCSP responders, audit)
are issued through ``Issuance`` like any certificate.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.clock import Clock
from ca.hierarchy import SERVICE_HOLDERS
from ca.issuance import IssuedCertificate, IssueRequest, JournalContext, KeySource, new_serial, serial_hex, \
    store_certificate
from ca.issuer import CAEndpoints, CertificateIssuer, IssuingCA
from ca.policy import GOVERNMENT, NATIONAL, ROOT, HierarchyPolicy
from ca.profiles import PROFILES
from ca.subject import SubjectData, build_name
from keys import KeyBackend, KeySigner
from registry import CentreRow, CentreStatus, Registry, RegistryTransaction


class Initialised(Protocol):
    """What bootstrap asks of the hierarchy (ca.hierarchy.Hierarchy)."""

    def is_initialised(self) -> bool: ...

    def forget(self) -> None: ...


class Issuer(Protocol):
    """What bootstrap asks of issuance (ca.issuance.Issuance): the service certificates."""

    def issue(self, request: IssueRequest, *, holder_override: str | None = None) -> IssuedCertificate: ...


class Bootstrap:
    """Creates the centres (root, national, government) and the service certificates, once."""

    def __init__(self, registry: Registry, clock: Clock, policy: HierarchyPolicy, backend: KeyBackend,
                 hierarchy: Initialised, issuance: Issuer) -> None:
        self.registry = registry
        self.clock = clock
        self.policy = policy
        self._backend = backend
        self.hierarchy = hierarchy
        self.issuance = issuance
        self._issuer = CertificateIssuer()

    def is_initialised(self) -> bool:
        return self.hierarchy.is_initialised()

    def initialise(self, actor: str = "system") -> bool:
        """Create the three centres and the service certificates, once.

        Returns False when everything already existed. The whole hierarchy is
        written in one transaction, so a crash leaves either all or nothing.
        """
        if self.hierarchy.is_initialised():
            return False
        now = self.clock.now().replace(microsecond=0)
        with self.registry.transaction() as tx:
            root = tx.centres.by_code(ROOT) or self._create_centre(tx, ROOT, None, now, actor)
            for code in (NATIONAL, GOVERNMENT):
                if tx.centres.by_code(code) is None:
                    self._create_centre(tx, code, root, now, actor)
        self.hierarchy.forget()
        for name, (centre, profile_name) in SERVICE_HOLDERS.items():
            self._ensure_service_certificate(name, centre, profile_name, actor)
        return True

    def _create_centre(self, tx: RegistryTransaction, code: str, parent: CentreRow | None,
                       now: dt.datetime, actor: str) -> CentreRow:
        """A centre's key and certificate: self-signed for the root, signed by ``parent`` otherwise."""
        cp = self.policy.centre(code)
        key = self._backend.generate(cp.algorithm, f"ca-{code}")
        prof = PROFILES["root-ca" if parent is None else "subordinate-ca"]
        subject = SubjectData(common_name=cp.name, organisation=cp.organisation)
        issuer = None
        if parent is not None:
            issuer = IssuingCA(code=parent.code, certificate=x509.load_der_x509_certificate(parent.certificate_der),
                               key_handle=parent.key_handle, endpoints=CAEndpoints(self.policy.base_url, parent.code),
                               centre_id=parent.id)
        serial = new_serial()
        public_key = self._backend.public_key(key.handle)
        builder = self._issuer.build(ca=issuer, profile=prof, subject=build_name(prof, subject),
                                     public_key=public_key,  # type: ignore[arg-type]
                                     serial=serial, not_before=now, not_after=now + cp.validity)
        signing_handle = key.handle if parent is None else parent.key_handle
        cert = self._issuer.sign(builder, KeySigner(self._backend, signing_handle), public_key)  # type: ignore[arg-type]
        row = tx.centres.add(CentreRow(code=code, name=cp.name, parent_id=parent.id if parent else None,
                                       key_handle=key.handle, key_algorithm=cp.algorithm.value,
                                       certificate_serial=serial_hex(serial),
                                       certificate_der=cert.public_bytes(serialization.Encoding.DER),
                                       status=CentreStatus.ACTIVE, created_at=now))
        # The root's certificate is journalled as its own; a subordinate's as the root's issuance.
        store_certificate(tx, row.id if parent is None else parent.id, cert, prof, subject, actor, now,
                          key_handle=key.handle, algorithm=cp.algorithm, carrier="service", journal=JournalContext())
        tx.audit.append(at=now, actor=actor, action="centre.created", subject=code,
                        details={"serial": serial_hex(serial), "key_handle": key.handle})
        return row

    def _ensure_service_certificate(self, name: str, centre: str, profile_name: str, actor: str) -> None:
        with self.registry.transaction() as tx:
            if tx.certificates.by_holder(f"service:{name}"):
                return
        # Each tenant's seal is its own, made when the tenant is created (signing/tenants/, issue 15).
        sp = self.policy.services
        names = {"tsa": sp.tsa_name, "audit": f"{self.policy.centre(centre).organisation} AUDIT"}
        cn = names.get(name, f"{self.policy.centre(centre).name} OCSP")
        subject = SubjectData(common_name=cn[:64], organisation=self.policy.centre(centre).organisation)
        algorithm = sp.algorithm
        centre_algorithm = self.policy.centre(centre).algorithm
        if profile_name == "ocsp-responder" and centre_algorithm.is_gost:
            # GOV-7: the relying parties of a GOST centre verify GOST; its
            # delegated responder signs with the centre's own algorithm.
            algorithm = centre_algorithm
        self.issuance.issue(IssueRequest(centre=centre, profile=profile_name, subject=subject, actor=actor,
                                         key=KeySource(service=True, algorithm=algorithm)),
                            holder_override=f"service:{name}")
