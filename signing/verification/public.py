"""The page behind a stamp's QR code: ``GET /verify/{document id}`` (issue 6).

Anyone holding the paper can scan the QR code, so the page shows only what
proves the document without disclosing the contract: the SHA-256 of the
final stored version (to compare with a copy), the document's status, and
per signature its kind, field, indication, level and proven time. A legal
entity's organisation and BIN are shown (public registry data); a natural
person's name and IIN are not, nor any loan term, tenant or certificate
serial. Whoever wants the full report uploads their copy to ``POST
/verify``.

The random 128-bit document id is what lets the reader see even this; an
unknown id and a malformed one answer the same "not found".
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ca.errors import NotFound
from registry import Registry

_ID = re.compile(r"[0-9a-f]{32}")


class ReportSource(Protocol):
    def verify(self, data: bytes, **kwargs: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PublicSummary:
    """What the QR code's page shows of a stored document: verdicts and organisations, no person's data."""

    document: str
    status: str
    version: int
    sha256: str
    report: Mapping[str, Any] = field(repr=False)   # the verifier's JSON report, kept as the verifier wrote it

    def as_json(self) -> dict[str, Any]:
        return public_summary(self.document, self.status, self.version, self.sha256, self.report)


def public_summary(document_id: str, status: str, version: int, sha256: str,
                   report: Mapping[str, Any]) -> dict[str, Any]:
    signatures = []
    for entry in report["signatures"]:
        signer = entry.get("signer") or {}
        organisation = signer.get("bin") is not None and signer.get("organisation") is not None
        signatures.append({
            "kind": entry["kind"], "field": entry["field"], "indication": entry["indication"],
            "sub_indication": entry["sub_indication"], "level": entry["level"],
            "modification": entry["modification"], "coverage": entry["coverage"],
            "signed_at": entry["best_signature_time"] or entry["claimed_signing_time"],
            "time_stamped": entry["best_signature_time"] is not None,
            "signer": ({"type": "organisation", "organisation": signer["organisation"], "bin": signer["bin"]}
                       if organisation else {"type": "tsa" if entry["kind"] == "document_timestamp"
                                             else "individual"}),
        })
    return {"document": document_id, "status": status, "version": version, "sha256": sha256,
            "indication": report["indication"], "sub_indication": report["sub_indication"],
            "sentence": report["sentence"], "validation_time": report["validation_time"],
            "signatures": signatures,
            "check_your_copy": "Compare the SHA-256 of the PDF you hold with sha256, or upload it to POST /verify "
                               "for the full report."}


class PublicVerification:
    """Verifies a stored document's latest version; answers are kept a few minutes per version."""

    def __init__(self, registry: Registry, reports: ReportSource, ttl_seconds: float = 600,
                 max_cached: int = 512) -> None:
        self.registry = registry
        self.reports = reports
        self.ttl = ttl_seconds
        self.max_cached = max_cached
        self._cache: dict[str, tuple[float, dict]] = {}
        self._lock = threading.Lock()

    def summary(self, document_id: str, source: str | None = None) -> PublicSummary:
        """The page's content; a report not cached is verified under ``source``'s quota (the reader's address)."""
        if not _ID.fullmatch(document_id):
            raise NotFound(f"no document {document_id}")
        with self.registry.transaction(readonly=True) as tx:
            document = tx.documents.for_public_verification(document_id)
            latest = tx.document_versions.latest(document.id) if document is not None else None
            if document is None or latest is None:
                raise NotFound(f"no document {document_id}")
            status, number, sha256, content = document.status, latest.number, latest.sha256, latest.content
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(sha256)
        if hit is not None and now - hit[0] < self.ttl:
            report = hit[1]
        else:
            report = self.reports.verify(content, source=source)
            with self._lock:
                if len(self._cache) >= self.max_cached:
                    self._cache.clear()
                self._cache[sha256] = (now, report)
        return PublicSummary(document_id, status, number, sha256, report)


__all__ = ["PublicSummary", "PublicVerification", "public_summary"]
