"""The verification trust store: our hierarchy's root, plus anchors an administrator imports (issue 6).

A verifier trusts our own root without asking; every other anchor (the NCA
RK's roots, another accredited centre's) is imported by an administrator
through the API or the command line, kept in the registry's
``trust_anchors`` table and written to the audit log. Only CA certificates
are accepted: trusting an end-entity certificate directly would skip every
check of its issuer.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from signing.verification.certs import certificate_view
from signing.verification.inputs import TrustAnchors, UnreadableCertificate, read_certificates

if TYPE_CHECKING:   # types only: ``qoltanba verify`` reads the anchors through registry.readonly, without the ORM
    from registry import Registry, TrustAnchorRow

HIERARCHY, IMPORTED = "hierarchy", "imported"


@dataclass(frozen=True)
class AnchorView:
    sha256: str
    subject: str
    label: str
    source: str
    not_before: dt.datetime | None
    not_after: dt.datetime | None
    added_at: dt.datetime | None = None
    added_by: str | None = None

    def as_json(self) -> dict[str, Any]:
        def iso(value: dt.datetime | None) -> str | None:
            return value.isoformat() if value else None

        return {"sha256": self.sha256, "subject": self.subject, "label": self.label, "source": self.source,
                "not_before": iso(self.not_before), "not_after": iso(self.not_after),
                "added_at": iso(self.added_at), "added_by": self.added_by}


def _view_of(cert: asn1_x509.Certificate, label: str, source: str, row: TrustAnchorRow | None = None) -> AnchorView:
    view = certificate_view(cert)
    return AnchorView(sha256=view.sha256, subject=view.subject, label=label, source=source,
                      not_before=view.not_before, not_after=view.not_after,
                      added_at=row.added_at if row else None, added_by=row.added_by if row else None)


class TrustStore:
    def __init__(self, registry: Registry, clock, own_roots: Callable[[], Sequence[x509.Certificate]]) -> None:  # noqa: ANN001
        """``own_roots()`` gives our hierarchy's root(s); empty before ``qoltanba init``."""
        self.registry = registry
        self.clock = clock
        self.own_roots = own_roots

    def _own(self) -> list[asn1_x509.Certificate]:
        return [asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in self.own_roots()]

    def anchors(self) -> TrustAnchors:
        """Everything a verification trusts now: our roots first, then the imported anchors."""
        with self.registry.transaction(readonly=True) as tx:
            imported = [row.der for row in tx.trust_anchors.all()]
        return TrustAnchors.from_der([c.dump() for c in self._own()] + imported)

    def list(self) -> list[AnchorView]:
        views = [_view_of(c, "our root", HIERARCHY) for c in self._own()]
        with self.registry.transaction(readonly=True) as tx:
            for row in tx.trust_anchors.all():
                views.append(_view_of(asn1_x509.Certificate.load(row.der), row.label, IMPORTED, row))
        return views

    def add(self, data: bytes, label: str, actor: str) -> list[AnchorView]:
        """Import every certificate of a PEM bundle (or one DER certificate); all or nothing."""
        from registry import TrustAnchorRow   # the ORM row, only to write one (start-up, issue 21)

        label = " ".join(label.split())
        if not 1 <= len(label) <= 120:
            raise InvalidInput("the trust anchor needs a label", [Problem("label", "1 to 120 characters")])
        try:
            certificates = read_certificates(data)
        except UnreadableCertificate as exc:
            raise InvalidInput("the trust anchor cannot be read", [Problem("certificate", str(exc))]) from None
        problems = [Problem("certificate", f"{certificate_view(c).subject} is not a CA certificate")
                    for c in certificates if not c.ca]
        if problems:
            raise InvalidInput("only CA certificates can be trust anchors", problems)
        own = {c.sha256 for c in self._own()}
        now = self.clock.now()
        added = []
        with self.registry.transaction() as tx:
            for cert in certificates:
                fingerprint = cert.sha256.hex()
                if cert.sha256 in own or tx.trust_anchors.by_sha256(fingerprint) is not None:
                    raise ConflictError(f"{certificate_view(cert).subject} is already in the trust store")
                view = certificate_view(cert)
                row = tx.trust_anchors.add(TrustAnchorRow(
                    sha256=fingerprint, label=label, subject=view.subject[:1024], der=cert.dump(),
                    not_before=view.not_before, not_after=view.not_after, added_at=now, added_by=actor))
                tx.audit.append(at=now, actor=actor, action="trust.anchor_added", subject=f"anchor:{fingerprint}",
                                details={"label": label, "subject": view.subject})
                added.append(_view_of(cert, label, IMPORTED, row))
        return added

    def remove(self, sha256: str, actor: str) -> AnchorView:
        fingerprint = sha256.lower().replace(":", "")
        with self.registry.transaction() as tx:
            row = tx.trust_anchors.by_sha256(fingerprint)
            if row is None:
                raise NotFound(f"no imported trust anchor {fingerprint} (our own root cannot be removed)")
            view = _view_of(asn1_x509.Certificate.load(row.der), row.label, IMPORTED, row)
            tx.trust_anchors.remove(row)
            tx.audit.append(at=self.clock.now(), actor=actor, action="trust.anchor_removed",
                            subject=f"anchor:{fingerprint}", details={"label": row.label, "subject": row.subject})
        return view


__all__ = ["AnchorView", "TrustStore"]
