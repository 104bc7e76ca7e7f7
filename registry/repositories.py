"""Repositories: reads and writes of the registry, flushed, never committed.

The unit of work (``Registry.transaction``) commits at the edge. Domain code
gets rows back and reads their attributes; it never builds queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator, Sequence

from sqlalchemy import Connection, delete, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry import rawsql
from registry.audit import AuditLog
from registry.db import Database
from registry.models import (
    ActorRow,
    ApplicationRow,
    ApprovalRow,
    BiometricAssertionRow,
    BiometricChallengeRow,
    CaKeyRetirementRow,
    CentreRow,
    CertificateArchiveRow,
    CertificateRow,
    ClientFactorRow,
    ClientRow,
    ConsoleSessionRow,
    CRLRow,
    DocumentRow,
    DocumentVersionRow,
    EvidenceRecordRow,
    FactorProofRow,
    IssuanceJournalRow,
    OneTimeCodeRow,
    PersonRow,
    RevocationRow,
    SequenceRow,
    SigningAuthorisationRow,
    SigningRequestRow,
    SigningSessionRow,
    TrustAnchorRow,
    WebhookDeliveryRow,
    WebhookEndpointRow,
)


class RegistryError(Exception):
    pass


class Conflict(RegistryError):
    """A uniqueness rule of the registry refused the write."""

    def __init__(self, constraint: str) -> None:
        super().__init__(constraint)
        self.constraint = constraint


def _constraint_of(error: IntegrityError) -> str:
    text = str(error.orig)
    for name in ("uq_clients_tenant_id_number", "uq_biometric_assertions_provider_id",
                 "uq_factor_proofs_request_factor", "webhook_endpoints_tenant_key", "uq_certificates_single_key_holder", "uq_certificates_issuer_serial", "uq_crls_centre_number",
                 "uq_revocations_centre_serial", "uq_revocations_seq", "uq_document_versions_document_number",
                 "fingerprint_sha256", "actors.name", "actors_name", "people.name", "people_name", "centres.code", "centres_code",
                 "ca_key_retirements.handle", "ca_key_retirements_handle"):
        if name in text:
            return name
    # SQLite names columns, not constraints.
    if "certificates.issuer_id, certificates.single_key_holder" in text:
        return "uq_certificates_single_key_holder"
    if "certificates.issuer_id, certificates.serial" in text:
        return "uq_certificates_issuer_serial"
    if "crls.centre_id, crls.number" in text:
        return "uq_crls_centre_number"
    if "revocations.centre_id, revocations.serial" in text:
        return "uq_revocations_centre_serial"
    if "document_versions.document_id, document_versions.number" in text:
        return "uq_document_versions_document_number"
    if "clients.tenant, clients.id_number" in text:
        return "uq_clients_tenant_id_number"
    if "biometric_assertions.provider, biometric_assertions.assertion_id" in text:
        return "uq_biometric_assertions_provider_id"
    if "factor_proofs.request_id, factor_proofs.factor" in text:
        return "uq_factor_proofs_request_factor"
    if "webhook_endpoints.tenant" in text:
        return "webhook_endpoints_tenant_key"
    return "unique"


_CENTRES = CentreRow.__table__
_CERTIFICATES = CertificateRow.__table__
_JOURNAL = IssuanceJournalRow.__table__


class _Repository:
    def __init__(self, tx: "RegistryTransaction") -> None:
        self._tx = tx

    @property
    def _session(self) -> Session:
        return self._tx.session

    def _add(self, row):  # noqa: ANN001, ANN202 - any mapped row
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        return row


class CentreRepository(_Repository):
    def add(self, row: CentreRow) -> CentreRow:
        return self._add(row)

    def by_code(self, code: str) -> CentreRow | None:
        return self._session.execute(select(CentreRow).where(CentreRow.code == code)).scalar_one_or_none()

    def by_id(self, centre_id: int) -> CentreRow | None:
        return self._session.get(CentreRow, centre_id)

    def status(self, centre_id: int) -> str | None:
        """The centre's status on the issuance hot path: one statement on the DB-API cursor."""
        rows = rawsql.execute(self._tx.connection, "centres.status", _CENTRES, ("id",),
                              lambda ph, _d: f"SELECT status FROM centres WHERE id = {ph}", (centre_id,))
        return rows[0][0] if rows else None

    def all(self) -> list[CentreRow]:
        return list(self._session.execute(select(CentreRow).order_by(CentreRow.id)).scalars())


class CertificateRepository(_Repository):
    def add(self, row: CertificateRow) -> CertificateRow:
        return self._add(row)

    def serial_taken(self, issuer_id: int, serial: str) -> bool:
        stmt = select(CertificateRow.id).where(CertificateRow.issuer_id == issuer_id, CertificateRow.serial == serial)
        return self._session.execute(stmt).first() is not None

    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.serial == serial)
        if issuer_id is not None:
            stmt = stmt.where(CertificateRow.issuer_id == issuer_id)
        if for_update:
            stmt = stmt.with_for_update()
        return list(self._session.execute(stmt).scalars())

    def record_issuance(self, certificate: dict, journal: dict) -> int:
        """Insert a certificate and its journal row with two Core statements.

        Issuance is the registry's hot path; Core inserts skip the ORM's unit
        of work, which costs several times the certificate's own signature.
        """
        connection = self._tx.connection
        try:
            certificate_id = rawsql.insert(connection, _CERTIFICATES, certificate, returning="id")
            rawsql.insert(connection, _JOURNAL, {**journal, "certificate_id": certificate_id})
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        return certificate_id

    def by_holder(self, holder: str, status: str = "valid") -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.holder == holder, CertificateRow.status == status)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def by_application(self, application_id: int) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.application_id == application_id)
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def active_single_key(self, issuer_id: int, holder: str) -> CertificateRow | None:
        stmt = select(CertificateRow).where(CertificateRow.issuer_id == issuer_id,
                                            CertificateRow.single_key_holder == holder)
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, issuer_id: int | None = None, iin: str | None = None, bin: str | None = None,
               profile: str | None = None, status: str | None = None,
               limit: int = 100, offset: int = 0) -> list[CertificateRow]:
        stmt = select(CertificateRow)
        if issuer_id is not None:
            stmt = stmt.where(CertificateRow.issuer_id == issuer_id)
        if iin:
            stmt = stmt.where(CertificateRow.iin == iin)
        if bin:
            stmt = stmt.where(CertificateRow.bin == bin)
        if profile:
            stmt = stmt.where(CertificateRow.profile == profile)
        if status:
            stmt = stmt.where(CertificateRow.status == status)
        stmt = stmt.order_by(CertificateRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())

    def count(self) -> int:
        return self._session.execute(select(func.count(CertificateRow.id))).scalar_one()

    def valid_issued_by(self, issuer_id: int) -> list[CertificateRow]:
        stmt = select(CertificateRow).where(CertificateRow.issuer_id == issuer_id, CertificateRow.status == "valid")
        return list(self._session.execute(stmt.order_by(CertificateRow.id)).scalars())

    def status_of(self, issuer_id: int, serial: str) -> tuple[str, dt.datetime | None, str | None] | None:
        """(status, revoked_at, reason) of one certificate, live or archived; None if never issued.

        The OCSP responder's cache miss: one indexed read, no ORM objects.
        """
        for table in (CertificateRow, CertificateArchiveRow):
            stmt = select(table.status, table.revoked_at, table.revocation_reason).where(
                table.issuer_id == issuer_id, table.serial == serial)
            row = self._tx.connection.execute(stmt).first()
            if row is not None:
                return row[0], row[1], row[2]
        return None

    def expired_terminated_before(self, issuer_id: int, cutoff: dt.datetime) -> list[int]:
        """Ids of certificates whose life ended (revoked, or expired) before ``cutoff``."""
        c = CertificateRow
        stmt = select(c.id).where(c.issuer_id == issuer_id).where(
            ((c.revoked_at.is_not(None)) & (c.revoked_at < cutoff)) | ((c.revoked_at.is_(None)) & (c.not_after < cutoff)))
        return [r[0] for r in self._tx.connection.execute(stmt)]

    def archive(self, ids: Sequence[int], at: dt.datetime) -> int:
        """Move rows to ``certificate_archive`` in this transaction; returns how many moved."""
        if not ids:
            return 0
        columns = [c.name for c in CertificateArchiveRow.__table__.columns if c.name not in ("id", "archived_at")]
        source = select(*[CertificateRow.__table__.c[name] for name in columns],
                        literal(at, CertificateArchiveRow.__table__.c.archived_at.type).label("archived_at"))
        moved = 0
        for start in range(0, len(ids), 500):
            chunk = list(ids[start:start + 500])
            self._tx.connection.execute(insert(CertificateArchiveRow).from_select(
                [*columns, "archived_at"], source.where(CertificateRow.id.in_(chunk))))
            moved += self._tx.connection.execute(delete(CertificateRow).where(CertificateRow.id.in_(chunk))).rowcount
        return moved

    def archived(self, issuer_id: int | None = None) -> list[CertificateArchiveRow]:
        stmt = select(CertificateArchiveRow).order_by(CertificateArchiveRow.id)
        if issuer_id is not None:
            stmt = stmt.where(CertificateArchiveRow.issuer_id == issuer_id)
        return list(self._session.execute(stmt).scalars())


class RevocationRepository(_Repository):
    def add(self, row: RevocationRow) -> RevocationRow:
        return self._add(row)

    def entries(self, centre_id: int) -> list[RevocationRow]:
        stmt = select(RevocationRow).where(RevocationRow.centre_id == centre_id).order_by(RevocationRow.seq)
        return list(self._session.execute(stmt).scalars())

    def crl_entries(self, centre_id: int, *, after_seq: int = 0) -> list[tuple[str, dt.datetime, str, int, dt.datetime]]:
        """(serial hex, revoked_at, reason, seq, valid_to) past ``after_seq``, in order, off the cursor.

        A CRL may hold a million entries; ORM objects would cost more than
        encoding them, so the publisher keeps them and asks only for new ones.
        """
        r = RevocationRow
        stmt = select(r.serial, r.revoked_at, r.reason, r.seq, r.valid_to).where(
            r.centre_id == centre_id, r.seq > after_seq)
        return [tuple(row) for row in self._tx.connection.execute(stmt.order_by(r.seq))]  # type: ignore[misc]

    def last_seq(self, centre_id: int | None = None) -> int:
        stmt = select(func.max(RevocationRow.seq))
        if centre_id is not None:
            stmt = stmt.where(RevocationRow.centre_id == centre_id)
        return self._tx.connection.execute(stmt).scalar() or 0

    def since(self, seq: int, limit: int = 10000) -> list[tuple[int, int, str, dt.datetime, str]]:
        """(seq, centre_id, serial, revoked_at, reason) committed after ``seq``, in order."""
        r = RevocationRow
        stmt = select(r.seq, r.centre_id, r.serial, r.revoked_at, r.reason).where(r.seq > seq)
        return [tuple(row) for row in self._tx.connection.execute(stmt.order_by(r.seq).limit(limit))]  # type: ignore[misc]


class CRLRepository(_Repository):
    def add(self, row: CRLRow) -> CRLRow:
        return self._add(row)

    def last_number(self, centre_id: int) -> int:
        stmt = select(func.max(CRLRow.number)).where(CRLRow.centre_id == centre_id)
        return self._tx.connection.execute(stmt).scalar() or 0

    def latest(self, centre_id: int, kind: str) -> CRLRow | None:
        stmt = (select(CRLRow).where(CRLRow.centre_id == centre_id, CRLRow.kind == kind)
                .order_by(CRLRow.number.desc()).limit(1))
        return self._session.execute(stmt).scalar_one_or_none()

    def latest_meta(self, centre_id: int, kind: str) -> tuple[int, int, dt.datetime, dt.datetime] | None:
        """(number, covered_seq, this_update, next_update) of the newest CRL of a kind, without its DER."""
        stmt = (select(CRLRow.number, CRLRow.covered_seq, CRLRow.this_update, CRLRow.next_update)
                .where(CRLRow.centre_id == centre_id, CRLRow.kind == kind).order_by(CRLRow.number.desc()).limit(1))
        row = self._tx.connection.execute(stmt).first()
        return tuple(row) if row is not None else None  # type: ignore[return-value]

    def numbers(self, centre_id: int) -> list[int]:
        stmt = select(CRLRow.number).where(CRLRow.centre_id == centre_id).order_by(CRLRow.number)
        return [r[0] for r in self._tx.connection.execute(stmt)]


class SequenceRepository(_Repository):
    def next(self, name: str) -> int:
        """Advance a counter; its row stays locked until the transaction ends.

        The lock is what makes ``seq`` order equal commit order: a second
        writer waits here until the first commits or rolls back.
        """
        connection = self._tx.connection
        stmt = update(SequenceRow).where(SequenceRow.name == name).values(value=SequenceRow.value + 1)
        if connection.execute(stmt).rowcount == 0:
            try:
                with connection.begin_nested():
                    connection.execute(insert(SequenceRow).values(name=name, value=1))
                return 1
            except IntegrityError:
                connection.execute(stmt)
        return connection.execute(select(SequenceRow.value).where(SequenceRow.name == name)).scalar_one()


class ApplicationRepository(_Repository):
    def add(self, row: ApplicationRow) -> ApplicationRow:
        return self._add(row)

    def by_id(self, application_id: int, *, for_update: bool = False) -> ApplicationRow | None:
        stmt = select(ApplicationRow).where(ApplicationRow.id == application_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, centre_id: int | None = None, status: str | None = None,
               overdue_on: dt.date | None = None, limit: int = 100, offset: int = 0) -> list[ApplicationRow]:
        stmt = select(ApplicationRow)
        if centre_id is not None:
            stmt = stmt.where(ApplicationRow.centre_id == centre_id)
        if status:
            stmt = stmt.where(ApplicationRow.status == status)
        if overdue_on is not None:
            stmt = stmt.where(ApplicationRow.status == "submitted", ApplicationRow.due_date < overdue_on)
        stmt = stmt.order_by(ApplicationRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())

    def flush(self) -> None:
        self._session.flush()


class JournalRepository(_Repository):
    def add(self, row: IssuanceJournalRow) -> IssuanceJournalRow:
        return self._add(row)

    def entries(self, centre_id: int | None = None) -> list[IssuanceJournalRow]:
        stmt = select(IssuanceJournalRow).order_by(IssuanceJournalRow.id)
        if centre_id is not None:
            stmt = stmt.where(IssuanceJournalRow.centre_id == centre_id)
        return list(self._session.execute(stmt).scalars())


class ActorRepository(_Repository):
    def add(self, row: ActorRow) -> ActorRow:
        return self._add(row)

    def by_key_id(self, key_id: str) -> ActorRow | None:
        return self._session.execute(select(ActorRow).where(ActorRow.key_id == key_id)).scalar_one_or_none()

    def by_name(self, name: str) -> ActorRow | None:
        return self._session.execute(select(ActorRow).where(ActorRow.name == name)).scalar_one_or_none()

    def all(self) -> Sequence[ActorRow]:
        return list(self._session.execute(select(ActorRow).order_by(ActorRow.id)).scalars())


class DocumentRepository(_Repository):
    """Loan documents. Every read names the tenant inside the query itself.

    Another tenant's document is simply not found, exactly like an id that
    was never issued, so no caller can leak it by forgetting a check.
    """

    def add(self, row: DocumentRow) -> DocumentRow:
        return self._add(row)

    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> DocumentRow | None:
        stmt = select(DocumentRow).where(DocumentRow.tenant == tenant, DocumentRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, tenant: str, document_id: int) -> DocumentRow | None:
        stmt = select(DocumentRow).where(DocumentRow.tenant == tenant, DocumentRow.id == document_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def for_public_verification(self, public_id: str) -> DocumentRow | None:
        """The one read without a tenant: the public page behind a stamp's QR code (issue 6).

        The 128-bit random id printed on the paper is the capability; the
        caller shows only the hash and the signature summary, no loan data.
        """
        stmt = select(DocumentRow).where(DocumentRow.public_id == public_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def across_tenants(self, public_id: str) -> DocumentRow | None:
        """An administrator's read by id that names no tenant (the ids are 128-bit random, unique)."""
        stmt = select(DocumentRow).where(DocumentRow.public_id == public_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def list(self, tenant: str, *, contract_number: str | None = None, contract_id: int | None = None,
             limit: int = 100, offset: int = 0) -> Sequence[DocumentRow]:
        return self._list(select(DocumentRow).where(DocumentRow.tenant == tenant), contract_number, contract_id,
                          limit, offset)

    def list_across_tenants(self, *, contract_number: str | None = None, limit: int = 100,
                            offset: int = 0) -> Sequence[DocumentRow]:
        """An administrator's list that names no tenant: every tenant's documents, in upload order."""
        return self._list(select(DocumentRow), contract_number, None, limit, offset)

    def _list(self, stmt, contract_number: str | None, contract_id: int | None, limit: int,  # noqa: ANN001
              offset: int) -> Sequence[DocumentRow]:
        if contract_number is not None:
            stmt = stmt.where(DocumentRow.contract_number == contract_number)
        if contract_id is not None:
            stmt = stmt.where(DocumentRow.contract_id == contract_id)
        stmt = stmt.order_by(DocumentRow.id).limit(limit).offset(offset)
        return list(self._session.execute(stmt).scalars())


class DocumentVersionRepository(_Repository):
    """A document's versions: appended, never updated or deleted.

    Rows come back without their PDF bytes; ``content`` loads when read.
    """

    def add(self, row: DocumentVersionRow) -> DocumentVersionRow:
        return self._add(row)

    def latest(self, document_id: int) -> DocumentVersionRow | None:
        stmt = (select(DocumentVersionRow).where(DocumentVersionRow.document_id == document_id)
                .order_by(DocumentVersionRow.number.desc()).limit(1))
        return self._session.execute(stmt).scalar_one_or_none()

    def by_number(self, document_id: int, number: int) -> DocumentVersionRow | None:
        stmt = select(DocumentVersionRow).where(DocumentVersionRow.document_id == document_id,
                                                DocumentVersionRow.number == number)
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, version_id: int) -> DocumentVersionRow | None:
        return self._session.get(DocumentVersionRow, version_id)

    def list(self, document_id: int) -> Sequence[DocumentVersionRow]:
        stmt = (select(DocumentVersionRow).where(DocumentVersionRow.document_id == document_id)
                .order_by(DocumentVersionRow.number))
        return list(self._session.execute(stmt).scalars())


class _TenantScoped(_Repository):
    """Rows found by public id within one tenant; another tenant's are not found."""

    row_type: type

    def add(self, row):
        return self._add(row)

    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False):
        stmt = select(self.row_type).where(self.row_type.tenant == tenant, self.row_type.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class SigningAuthorisationRepository(_TenantScoped):
    row_type = SigningAuthorisationRow


class SigningSessionRepository(_TenantScoped):
    row_type = SigningSessionRow


# --- the client's will (issue 5) ----------------------------------------------


class ClientRepository(_TenantScoped):
    row_type = ClientRow

    def by_id(self, tenant: str, client_id: int) -> ClientRow | None:
        stmt = select(ClientRow).where(ClientRow.tenant == tenant, ClientRow.id == client_id)
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id_number(self, tenant: str, id_number: str) -> ClientRow | None:
        stmt = select(ClientRow).where(ClientRow.tenant == tenant, ClientRow.id_number == id_number)
        return self._session.execute(stmt).scalar_one_or_none()


class ClientFactorRepository(_Repository):
    """A client's factors; found through the client, which is found within its tenant."""

    def add(self, row: ClientFactorRow) -> ClientFactorRow:
        return self._add(row)

    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]:
        stmt = select(ClientFactorRow).where(ClientFactorRow.client_id == client_id)
        if kind is not None:
            stmt = stmt.where(ClientFactorRow.kind == kind)
        if status is not None:
            stmt = stmt.where(ClientFactorRow.status == status)
        if for_update:
            stmt = stmt.with_for_update()
        return list(self._session.execute(stmt.order_by(ClientFactorRow.id)).scalars())

    def by_public_id(self, client_id: int, public_id: str, *, for_update: bool = False) -> ClientFactorRow | None:
        stmt = select(ClientFactorRow).where(ClientFactorRow.client_id == client_id,
                                             ClientFactorRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class SigningRequestRepository(_TenantScoped):
    row_type = SigningRequestRow

    def for_client(self, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None:
        """The request a client's token names; the caller checks the token before showing anything."""
        stmt = select(SigningRequestRow).where(SigningRequestRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def open_expired(self, now: dt.datetime, limit: int = 100) -> list[SigningRequestRow]:
        stmt = (select(SigningRequestRow).where(SigningRequestRow.status == "open", SigningRequestRow.expires_at <= now)
                .order_by(SigningRequestRow.id).limit(limit).with_for_update(skip_locked=True))
        return list(self._session.execute(stmt).scalars())

    def signed_before(self, before: dt.datetime, limit: int = 20) -> list[SigningRequestRow]:
        """Requests the client signed before ``before`` that still wait for the seal or the evidence report."""
        stmt = (select(SigningRequestRow).where(SigningRequestRow.status.in_(("signed", "sealed")),
                                                SigningRequestRow.signed_at <= before)
                .join(EvidenceRecordRow, EvidenceRecordRow.request_id == SigningRequestRow.id)
                .where((EvidenceRecordRow.report.is_(None))
                       | ((SigningRequestRow.status == "signed") & SigningRequestRow.seal.is_(True)))
                .order_by(SigningRequestRow.id).limit(limit))
        return list(self._session.execute(stmt).scalars())

    def of_document(self, tenant: str, document_id: int) -> list[SigningRequestRow]:
        stmt = select(SigningRequestRow).where(SigningRequestRow.tenant == tenant,
                                               SigningRequestRow.document_id == document_id)
        return list(self._session.execute(stmt.order_by(SigningRequestRow.id)).scalars())


class FactorProofRepository(_Repository):
    def add(self, row: FactorProofRow) -> FactorProofRow:
        return self._add(row)

    def of_request(self, request_id: int) -> list[FactorProofRow]:
        stmt = select(FactorProofRow).where(FactorProofRow.request_id == request_id).order_by(FactorProofRow.id)
        return list(self._session.execute(stmt).scalars())


class OneTimeCodeRepository(_Repository):
    def add(self, row: OneTimeCodeRow) -> OneTimeCodeRow:
        return self._add(row)

    def sent(self, factor_id: int, request_id: int | None, purpose: str, *,
             for_update: bool = False) -> list[OneTimeCodeRow]:
        """Every code sent for this factor and request (or enrolment), oldest first."""
        stmt = select(OneTimeCodeRow).where(OneTimeCodeRow.factor_id == factor_id, OneTimeCodeRow.purpose == purpose)
        stmt = stmt.where(OneTimeCodeRow.request_id.is_(None) if request_id is None
                          else OneTimeCodeRow.request_id == request_id)
        if for_update:
            stmt = stmt.with_for_update()
        return list(self._session.execute(stmt.order_by(OneTimeCodeRow.id)).scalars())


class BiometricChallengeRepository(_Repository):
    def add(self, row: BiometricChallengeRow) -> BiometricChallengeRow:
        return self._add(row)

    def of_request(self, request_id: int, *, for_update: bool = False) -> list[BiometricChallengeRow]:
        stmt = select(BiometricChallengeRow).where(BiometricChallengeRow.request_id == request_id)
        if for_update:
            stmt = stmt.with_for_update()
        return list(self._session.execute(stmt.order_by(BiometricChallengeRow.id)).scalars())


class BiometricAssertionRepository(_Repository):
    def add(self, row: BiometricAssertionRow) -> BiometricAssertionRow:
        """Raises ``Conflict("uq_biometric_assertions_provider_id")`` for an assertion id seen before."""
        return self._add(row)

    def seen(self, provider: str, assertion_id: str) -> bool:
        stmt = select(BiometricAssertionRow.id).where(BiometricAssertionRow.provider == provider,
                                                      BiometricAssertionRow.assertion_id == assertion_id)
        return self._session.execute(stmt).first() is not None


class EvidenceRepository(_TenantScoped):
    row_type = EvidenceRecordRow

    def of_request(self, request_id: int, *, for_update: bool = False) -> EvidenceRecordRow | None:
        stmt = select(EvidenceRecordRow).where(EvidenceRecordRow.request_id == request_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class WebhookEndpointRepository(_Repository):
    def add(self, row: WebhookEndpointRow) -> WebhookEndpointRow:
        return self._add(row)

    def of_tenant(self, tenant: str, *, for_update: bool = False) -> WebhookEndpointRow | None:
        stmt = select(WebhookEndpointRow).where(WebhookEndpointRow.tenant == tenant)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()


class WebhookDeliveryRepository(_Repository):
    def add(self, row: WebhookDeliveryRow) -> WebhookDeliveryRow:
        return self._add(row)

    def due(self, now: dt.datetime, limit: int = 20) -> list[WebhookDeliveryRow]:
        """Pending deliveries whose time has come, locked; other workers skip them (PostgreSQL)."""
        stmt = (select(WebhookDeliveryRow)
                .where(WebhookDeliveryRow.status == "pending", WebhookDeliveryRow.next_attempt_at <= now)
                .order_by(WebhookDeliveryRow.next_attempt_at, WebhookDeliveryRow.id).limit(limit)
                .with_for_update(skip_locked=True))
        return list(self._session.execute(stmt).scalars())

    def by_id(self, delivery_id: int, *, for_update: bool = False) -> WebhookDeliveryRow | None:
        stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.id == delivery_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def of_tenant(self, tenant: str, *, subject: str | None = None, limit: int = 100) -> list[WebhookDeliveryRow]:
        stmt = select(WebhookDeliveryRow).where(WebhookDeliveryRow.tenant == tenant)
        if subject is not None:
            stmt = stmt.where(WebhookDeliveryRow.subject == subject)
        return list(self._session.execute(stmt.order_by(WebhookDeliveryRow.id).limit(limit)).scalars())
class TrustAnchorRepository(_Repository):
    """Certificates imported into the verification trust store; not tenant data."""

    def add(self, row: TrustAnchorRow) -> TrustAnchorRow:
        return self._add(row)

    def by_sha256(self, sha256: str) -> TrustAnchorRow | None:
        return self._session.execute(select(TrustAnchorRow).where(TrustAnchorRow.sha256 == sha256)
                                     ).scalar_one_or_none()

    def all(self) -> list[TrustAnchorRow]:
        return list(self._session.execute(select(TrustAnchorRow).order_by(TrustAnchorRow.id)).scalars())

    def remove(self, row: TrustAnchorRow) -> None:
        self._session.delete(row)
        self._session.flush()


class PeopleRepository(_Repository):
    """Console users (issue 8); looked up by name, locked for the login's read-modify-write."""

    def add(self, row: PersonRow) -> PersonRow:
        return self._add(row)

    def by_name(self, name: str, *, for_update: bool = False) -> PersonRow | None:
        stmt = select(PersonRow).where(PersonRow.name == name)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def by_id(self, person_id: int) -> PersonRow | None:
        return self._session.get(PersonRow, person_id)

    def all(self) -> list[PersonRow]:
        return list(self._session.execute(select(PersonRow).order_by(PersonRow.id)).scalars())


class ConsoleSessionRepository(_Repository):
    def add(self, row: ConsoleSessionRow) -> ConsoleSessionRow:
        return self._add(row)

    def by_token_id(self, token_id: str, *, for_update: bool = False) -> ConsoleSessionRow | None:
        stmt = select(ConsoleSessionRow).where(ConsoleSessionRow.token_id == token_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def open_of(self, person_id: int) -> list[ConsoleSessionRow]:
        stmt = select(ConsoleSessionRow).where(ConsoleSessionRow.person_id == person_id,
                                               ConsoleSessionRow.ended_at.is_(None))
        return list(self._session.execute(stmt.order_by(ConsoleSessionRow.id)).scalars())


class ApprovalRepository(_Repository):
    """Dual-control requests (issue 8); the row lock makes a decision happen once."""

    def add(self, row: ApprovalRow) -> ApprovalRow:
        return self._add(row)

    def by_public_id(self, public_id: str, *, for_update: bool = False) -> ApprovalRow | None:
        stmt = select(ApprovalRow).where(ApprovalRow.public_id == public_id)
        if for_update:
            stmt = stmt.with_for_update()
        return self._session.execute(stmt).scalar_one_or_none()

    def search(self, *, status: str | None = None, limit: int = 100) -> list[ApprovalRow]:
        stmt = select(ApprovalRow)
        if status is not None:
            stmt = stmt.where(ApprovalRow.status == status)
        return list(self._session.execute(stmt.order_by(ApprovalRow.id.desc()).limit(limit)).scalars())


class CaKeyRetirementRepository(_Repository):
    """CA keys destroyed under dual control (issue 8); the unique handle makes it happen once."""

    def add(self, row: CaKeyRetirementRow) -> CaKeyRetirementRow:
        return self._add(row)

    def by_handle(self, handle: str) -> CaKeyRetirementRow | None:
        return self._session.execute(select(CaKeyRetirementRow).where(CaKeyRetirementRow.handle == handle)
                                     ).scalar_one_or_none()


class RegistryTransaction:
    """The repositories of one unit of work, on one database connection.

    The ORM session is made only when a repository needs it: issuance, the
    hot path, writes through the connection alone and skips its cost.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._session: Session | None = None
        self.centres = CentreRepository(self)
        self.certificates = CertificateRepository(self)
        self.applications = ApplicationRepository(self)
        self.journal = JournalRepository(self)
        self.actors = ActorRepository(self)
        self.revocations = RevocationRepository(self)
        self.crls = CRLRepository(self)
        self.sequences = SequenceRepository(self)
        self.documents = DocumentRepository(self)
        self.document_versions = DocumentVersionRepository(self)
        self.authorisations = SigningAuthorisationRepository(self)
        self.signing_sessions = SigningSessionRepository(self)
        self.clients = ClientRepository(self)
        self.client_factors = ClientFactorRepository(self)
        self.signing_requests = SigningRequestRepository(self)
        self.factor_proofs = FactorProofRepository(self)
        self.one_time_codes = OneTimeCodeRepository(self)
        self.biometric_challenges = BiometricChallengeRepository(self)
        self.biometric_assertions = BiometricAssertionRepository(self)
        self.evidence = EvidenceRepository(self)
        self.webhook_endpoints = WebhookEndpointRepository(self)
        self.webhook_deliveries = WebhookDeliveryRepository(self)
        self.trust_anchors = TrustAnchorRepository(self)
        self.people = PeopleRepository(self)
        self.console_sessions = ConsoleSessionRepository(self)
        self.approvals = ApprovalRepository(self)
        self.ca_key_retirements = CaKeyRetirementRepository(self)
        self.audit = AuditLog(self)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(bind=self.connection, expire_on_commit=False, autoflush=True)
        return self._session

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


class Registry:
    def __init__(self, database: Database) -> None:
        self.database = database

    @contextlib.contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[RegistryTransaction]:
        """One unit of work: committed when the block ends, rolled back on any error.

        ``readonly``: the block only reads (SQLite then does not take the write lock at BEGIN).
        """
        tx: RegistryTransaction | None = None
        try:
            with self.database.engine.connect() as connection:
                if readonly:
                    connection = connection.execution_options(qoltanba_readonly=True)
                with connection.begin():
                    tx = RegistryTransaction(connection)
                    yield tx
                    tx.flush()
        except IntegrityError as error:
            raise Conflict(_constraint_of(error)) from error
        finally:
            if tx is not None:
                tx.close()
