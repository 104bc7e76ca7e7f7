"""The verification report: one object per signature and document time-stamp (issue 6).

The JSON keys are what integrators script against, so they are stable:
``kind``, ``field``, ``intact``, ``valid``, ``indication``,
``sub_indication``, ``modification``, ``coverage``, ``level`` and
``signer`` on every entry, the rest documented in README "Verification".
Indications are ETSI EN 319 102-1's (§5.1.3): TOTAL-PASSED, INDETERMINATE,
TOTAL-FAILED, each with its sub-indication.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

from signing.verification.words import say_container_problem, say_document


class Indication(str, enum.Enum):
    TOTAL_PASSED = "TOTAL-PASSED"
    INDETERMINATE = "INDETERMINATE"
    TOTAL_FAILED = "TOTAL-FAILED"

    @property
    def rank(self) -> int:
        return {"TOTAL-PASSED": 0, "INDETERMINATE": 1, "TOTAL-FAILED": 2}[self.value]


# Sub-indications we produce (ETSI EN 319 102-1 §5.1.3, Table 5), plus one of
# our own for a document that carries no signature at all.
FORMAT_FAILURE = "FORMAT_FAILURE"
HASH_FAILURE = "HASH_FAILURE"
SIG_CRYPTO_FAILURE = "SIG_CRYPTO_FAILURE"
REVOKED = "REVOKED"
NOT_YET_VALID = "NOT_YET_VALID"
SIG_CONSTRAINTS_FAILURE = "SIG_CONSTRAINTS_FAILURE"
CHAIN_CONSTRAINTS_FAILURE = "CHAIN_CONSTRAINTS_FAILURE"
CERTIFICATE_CHAIN_GENERAL_FAILURE = "CERTIFICATE_CHAIN_GENERAL_FAILURE"
CRYPTO_CONSTRAINTS_FAILURE = "CRYPTO_CONSTRAINTS_FAILURE"
CRYPTO_CONSTRAINTS_FAILURE_NO_POE = "CRYPTO_CONSTRAINTS_FAILURE_NO_POE"
NO_CERTIFICATE_CHAIN_FOUND = "NO_CERTIFICATE_CHAIN_FOUND"
REVOKED_NO_POE = "REVOKED_NO_POE"
REVOKED_CA_NO_POE = "REVOKED_CA_NO_POE"
OUT_OF_BOUNDS_NO_POE = "OUT_OF_BOUNDS_NO_POE"
TRY_LATER = "TRY_LATER"
NO_SIGNATURE_FOUND = "NO_SIGNATURE_FOUND"

SIGNATURE, DOCUMENT_TIMESTAMP, CMS = "signature", "document_timestamp", "cms"
ASICE = "asice"
MODIFICATIONS = ("none", "form_filling", "annotations", "other")
COVERAGES = ("entire_file", "entire_revision", "partial", "unclear")


def _iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.astimezone(dt.timezone.utc).isoformat()


@dataclass(frozen=True)
class Verdict:
    indication: Indication
    sub_indication: str | None = None
    reason: str = ""

    @classmethod
    def passed(cls) -> "Verdict":
        return cls(Indication.TOTAL_PASSED)

    @classmethod
    def failed(cls, sub_indication: str, reason: str) -> "Verdict":
        return cls(Indication.TOTAL_FAILED, sub_indication, reason)

    @classmethod
    def indeterminate(cls, sub_indication: str, reason: str) -> "Verdict":
        return cls(Indication.INDETERMINATE, sub_indication, reason)


@dataclass(frozen=True)
class CertificateView:
    subject: str
    issuer: str
    serial: str
    sha256: str
    not_before: dt.datetime | None = None
    not_after: dt.datetime | None = None

    def as_json(self) -> dict[str, Any]:
        return {"subject": self.subject, "issuer": self.issuer, "serial": self.serial, "sha256": self.sha256,
                "not_before": _iso(self.not_before), "not_after": _iso(self.not_after)}


@dataclass(frozen=True)
class SignerView:
    """Who signed, read from an NCA-style subject (DOMAIN.md KZ-1, KZ-4)."""

    name: str
    iin: str | None
    bin: str | None
    organisation: str | None
    roles: tuple[str, ...]
    certificate: CertificateView
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    key_usage_fit: bool

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "iin": self.iin, "bin": self.bin, "organisation": self.organisation,
                "roles": list(self.roles), "certificate": self.certificate.as_json(),
                "key_usage": list(self.key_usage), "extended_key_usage": list(self.extended_key_usage),
                "key_usage_fit": self.key_usage_fit}


@dataclass(frozen=True)
class TimeStampView:
    """A time-stamp token: the signature's own, or the one a document time-stamp is."""

    tsa: str | None
    gen_time: dt.datetime | None
    serial: str | None
    policy: str | None
    intact: bool
    valid: bool
    trusted: bool

    @property
    def ok(self) -> bool:
        return self.intact and self.valid and self.trusted and self.gen_time is not None

    def as_json(self) -> dict[str, Any]:
        return {"tsa": self.tsa, "gen_time": _iso(self.gen_time), "serial": self.serial, "policy": self.policy,
                "intact": self.intact, "valid": self.valid, "trusted": self.trusted}


@dataclass(frozen=True)
class RevocationView:
    """The signer certificate's status at ``checked_at`` and where it came from."""

    status: str                  # good, revoked, unknown, not_checked
    checked_at: dt.datetime | None = None
    source: str | None = None    # document (DSS / CMS), online, or None
    revoked_at: dt.datetime | None = None
    reason: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "checked_at": _iso(self.checked_at), "source": self.source,
                "revoked_at": _iso(self.revoked_at), "reason": self.reason}


@dataclass(frozen=True)
class SignatureReport:
    kind: str
    field: str | None
    intact: bool
    valid: bool
    verdict: Verdict
    modification: str | None
    coverage: str | None
    level: str | None
    signer: SignerView | None
    sentence: str = ""
    chain: tuple[CertificateView, ...] = ()
    trust_anchor: CertificateView | None = None
    claimed_signing_time: dt.datetime | None = None
    timestamp: TimeStampView | None = None
    best_signature_time: dt.datetime | None = None
    revocation: RevocationView = field(default_factory=lambda: RevocationView("not_checked"))
    factors: dict[str, Any] | None = None
    digest_algorithm: str | None = None
    signature_algorithm: str | None = None
    revision: int | None = None
    reason: str | None = None
    location: str | None = None
    warnings: tuple[str, ...] = ()

    @property
    def indication(self) -> Indication:
        return self.verdict.indication

    def as_json(self) -> dict[str, Any]:
        return {
            # str(): a PDF's field name is pyHanko's TextStringObject, whose pickle drags the document's object
            # graph along (232 KB for a 2-page contract) and whose unpickling imports pyHanko.
            "kind": self.kind, "field": None if self.field is None else str(self.field),
            "intact": self.intact, "valid": self.valid,
            "indication": self.verdict.indication.value, "sub_indication": self.verdict.sub_indication,
            "modification": self.modification, "coverage": self.coverage, "level": self.level,
            "signer": self.signer.as_json() if self.signer else None,
            "sentence": self.sentence, "detail": self.verdict.reason or None,
            "chain": [c.as_json() for c in self.chain],
            "trust_anchor": self.trust_anchor.as_json() if self.trust_anchor else None,
            "claimed_signing_time": _iso(self.claimed_signing_time),
            "timestamp": self.timestamp.as_json() if self.timestamp else None,
            "best_signature_time": _iso(self.best_signature_time),
            "revocation": self.revocation.as_json(), "factors": self.factors,
            "digest_algorithm": self.digest_algorithm, "signature_algorithm": self.signature_algorithm,
            "revision": self.revision, "reason": self.reason, "location": self.location,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ContainerFile:
    """One file of an ASiC-E container: what the manifest says of it and what the container holds."""

    name: str
    mime_type: str | None
    status: str                  # unchanged, changed, missing, unlisted, unknown_digest
    sha256: str | None           # of the bytes in the container; None when missing
    signatures: int = 0          # entries of ``signatures`` this file gave (a signed PDF, a detached .p7s)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "mime_type": self.mime_type, "status": self.status, "sha256": self.sha256,
                "signatures": self.signatures}


@dataclass(frozen=True)
class ContainerProblem:
    """A finding about the container itself, naming the file it concerns (words.say_container_problem)."""

    code: str                    # missing, changed, unlisted, unknown_digest, unreadable, not_seal
    file: str
    sub_indication: str

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "file": self.file, "sub_indication": self.sub_indication,
                "sentence": say_container_problem({"code": self.code, "file": self.file})}


@dataclass(frozen=True)
class ContainerView:
    """An ASiC-E's manifest and signature (EN 319 162-1), its files and what is wrong with them."""

    manifest: str
    signature: str
    files: tuple[ContainerFile, ...]
    problems: tuple[ContainerProblem, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {"format": "ASiC-E", "manifest": self.manifest, "signature": self.signature,
                "files": [f.as_json() for f in self.files], "problems": [p.as_json() for p in self.problems]}


@dataclass(frozen=True)
class VerificationReport:
    """Every signature of one input, and the document's overall indication (the worst of them)."""

    kind: str                    # pdf, cms or asice
    signatures: tuple[SignatureReport, ...]
    validation_time: dt.datetime
    sha256: str
    size: int
    trust_anchors: tuple[CertificateView, ...] = ()
    online: bool = False
    warnings: tuple[str, ...] = ()
    container: ContainerView | None = None     # an ASiC-E's files and findings (LOAN-14's dossier)

    @property
    def verdict(self) -> Verdict:
        if self.container is not None and self.container.problems:
            # A file removed, added or changed fails the container whatever its signatures say.
            problems = self.container.problems
            return Verdict.failed(problems[0].sub_indication, "; ".join(
                say_container_problem({"code": p.code, "file": p.file}) for p in problems))
        if not self.signatures:
            return Verdict.indeterminate(NO_SIGNATURE_FOUND, "the input carries no signature")
        worst = max(self.signatures, key=lambda s: s.verdict.indication.rank)
        return worst.verdict

    @property
    def all_passed(self) -> bool:
        if self.container is not None and self.container.problems:
            return False
        return bool(self.signatures) and all(s.indication is Indication.TOTAL_PASSED for s in self.signatures)

    def sentence(self) -> str:
        return document_sentence(self)

    def as_json(self) -> dict[str, Any]:
        verdict = self.verdict
        return {
            "kind": self.kind, "indication": verdict.indication.value, "sub_indication": verdict.sub_indication,
            "sentence": self.sentence(),
            "document": {"sha256": self.sha256, "size": self.size},
            "validation_time": _iso(self.validation_time),
            "revocation_fetching": self.online,
            "trust_anchors": [a.as_json() for a in self.trust_anchors],
            "warnings": list(self.warnings),
            "signatures": [s.as_json() for s in self.signatures],
            **({"container": self.container.as_json()} if self.container is not None else {}),
        }


def document_sentence(report: VerificationReport) -> str:
    """The whole document in one English sentence (signing/verification/words.py says it, in any voice)."""
    container = report.container
    return say_document({"indication": report.verdict.indication.value,
                         "signatures": [{"indication": s.verdict.indication.value, "field": s.field, "kind": s.kind}
                                        for s in report.signatures],
                         **({"container": {"problems": [{"code": p.code, "file": p.file} for p in container.problems]}}
                            if container is not None else {})})


__all__ = [
    "ASICE", "CMS", "COVERAGES", "CertificateView", "ContainerFile", "ContainerProblem", "ContainerView", "DOCUMENT_TIMESTAMP", "Indication", "MODIFICATIONS", "RevocationView",
    "SIGNATURE", "SignatureReport", "SignerView", "TimeStampView", "VerificationReport", "Verdict", "document_sentence",
]
