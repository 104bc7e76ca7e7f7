"""What a signature made by ``SigningService`` is: signatories and fields, statuses, choices, results (issue 4).

The client signs first in the ``Client-Signature`` field, the MFO's seal last
in ``MFO-Seal``; the document's status follows them (``uploaded``,
``client-signed``, ``sealed``). A signature made by the client's own token
runs as an ``ExternalSession`` between its two halves.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509

from ca.errors import InvalidInput, Problem
from ca.issuer import IssuingCA
from ca.keycheck import load_certificate
from registry import CentreRow, CertificateRow, DocumentStatus, SigningSessionRow
from signing.pades import ValidationData
from signing.pades.pdf import Level
from signing.pades.signed_data import digest

CLIENT, SEAL = "client", "seal"
STATUS_UPLOADED, STATUS_CLIENT_SIGNED, STATUS_SEALED = (DocumentStatus.UPLOADED, DocumentStatus.CLIENT_SIGNED,
                                                       DocumentStatus.SEALED)
CLIENT_FIELD, SEAL_FIELD = "Client-Signature", "MFO-Seal"


class InvalidSignature(InvalidInput):
    def __init__(self, detail: str) -> None:
        super().__init__(detail, [Problem("signature", detail)])
        self.code = "invalid-signature"


@dataclass(frozen=True)
class SigningPolicy:
    """Per-request choices and their defaults (issue 4: B-LT for contracts)."""

    default_level: dict[str, Level] = field(default_factory=lambda: {"contract": Level.B_LT,
                                                                     "amendment": Level.B_LT})
    session_ttl: dt.timedelta = dt.timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.session_ttl <= dt.timedelta(0):
            raise ValueError("session_ttl must be positive")


@dataclass(frozen=True)
class SignatureEntries:
    """How the client was authenticated, written into the signature dictionary (ISO 32000-1 Table 252)."""

    auth_type: str    # /Prop_AuthType: the factors as one PDF name, e.g. /Biometric+EDS
    auth_time: int    # /Prop_AuthTime: seconds since the last factor was proven

    def as_pdf(self) -> dict[str, int | str]:
        return {"/Prop_AuthType": self.auth_type, "/Prop_AuthTime": self.auth_time}


@dataclass(frozen=True)
class SignatureResult:
    document: str
    version: int
    sha256: str
    field: str
    signatory: str
    signer_serial: str
    level: str
    status: str
    # The document as this signature left it, for the next signature in the same call (confirm's seal): what a
    # fresh read would find, its storing transaction re-checks it under its lock. Not part of the answer.
    after: DocumentSnapshot = field(compare=False, repr=False)

    def as_json(self) -> dict:
        return {"document": self.document, "version": self.version, "sha256": self.sha256, "field": self.field,
                "signatory": self.signatory, "signer_serial": self.signer_serial, "level": self.level,
                "status": self.status}


# Called inside the transaction that stores a signature, so whatever the
# caller records about it (the signing request, its evidence) is committed
# together with the signed version or not at all. It is handed that unit of
# work as it came from the registry (``Any`` here: the caller knows what it
# reads and writes there, the signing service does not).
OnStored = Callable[[Any, "SignatureResult"], None]


@dataclass(frozen=True)
class ExternalSession:
    id: str
    document: str
    level: str
    hash_algorithm: str
    document_digest: bytes
    signed_attributes: bytes
    expires_at: dt.datetime

    def as_json(self) -> dict:
        attrs_digest = digest(self.hash_algorithm, self.signed_attributes)
        return {"id": self.id, "document": self.document, "level": self.level,
                "hash_algorithm": self.hash_algorithm,
                "document_digest": base64.b64encode(self.document_digest).decode(),
                "signed_attributes": base64.b64encode(self.signed_attributes).decode(),
                "signed_attributes_digest": base64.b64encode(attrs_digest).decode(),
                "expires_at": self.expires_at.isoformat()}


def session_view(row: SigningSessionRow, document_id: str) -> ExternalSession:
    return ExternalSession(id=row.public_id, document=document_id, level=row.level, hash_algorithm=row.hash_name,
                           document_digest=row.document_digest, signed_attributes=row.signed_attributes,
                           expires_at=row.expires_at)


@dataclass(frozen=True)
class SignerCertificate:
    """The certificate a client signs with, its chain, and what proved it fit (see ``_client_certificate``)."""

    der: bytes
    serial: str
    chain: tuple[x509.Certificate, ...]
    key_handle: str | None = None
    row: CertificateRow | None = None
    # For a certificate of an imported accredited centre: the revocation
    # answers fetched when it was checked, embedded as they are (B-LT).
    validation: ValidationData | None = None


class CentreRows(Protocol):
    def all(self) -> list[CentreRow]: ...


class CentreStore(Protocol):
    """What the hierarchy reads in the caller's unit of work: the centres."""

    @property
    def centres(self) -> CentreRows: ...


class Ours(Protocol):
    def chain_of(self, certificate: x509.Certificate) -> object | None: ...


class Chains(Protocol):
    """What the signing service reads of the hierarchy (ca.hierarchy.Hierarchy)."""

    def issuing_ca(self, code: str, tx: CentreStore | None = None) -> IssuingCA: ...

    def chain(self, code: str) -> list[x509.Certificate]: ...


@dataclass(frozen=True)
class DocumentSnapshot:
    """The document version being signed, as read in the signing transaction."""

    document_row_id: int
    document: str
    kind: str
    status: str
    version_id: int
    version_sha256: str
    content: bytes
    signatures: int
    contract_number: str
    client_kind: str
    client_id_number: str



def signature_reason(snap: DocumentSnapshot) -> str:
    """The client's /Reason: what they sign, in words (a contract, its amendment, another document of it)."""
    if snap.kind == "contract":
        return f"Contract {snap.contract_number}"
    if snap.kind == "amendment":
        return f"Supplementary agreement to contract {snap.contract_number}"
    return f"{snap.kind.replace('_', ' ').capitalize()} for contract {snap.contract_number}"


def read_certificate(data: bytes) -> x509.Certificate:
    try:
        return load_certificate(data)
    except ValueError:
        raise InvalidInput("the certificate cannot be read", [Problem("certificate", "is not a PEM or DER X.509 "
                                                                                     "certificate")]) from None



__all__ = ["CLIENT", "CLIENT_FIELD", "SEAL", "SEAL_FIELD", "STATUS_CLIENT_SIGNED", "STATUS_SEALED", "STATUS_UPLOADED",
           "Chains", "DocumentSnapshot", "ExternalSession", "InvalidSignature", "OnStored", "Ours", "SignatureEntries",
           "SignatureResult",
           "SignerCertificate", "SigningPolicy", "read_certificate", "session_view", "signature_reason"]
