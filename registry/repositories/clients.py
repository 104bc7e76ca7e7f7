"""The client's will (issue 5): clients, factors, signing requests, proofs, codes, biometrics, evidence."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, select

from registry.models import (
    BiometricAssertionRow,
    BiometricChallengeRow,
    ClientFactorRow,
    ClientRow,
    EvidenceRecordRow,
    FactorProofRow,
    OneTimeCodeRow,
    SigningRequestRow,
    SigningRequestStatus,
)
from registry.repositories.base import _Repository, _TenantScoped, built
from registry.sealing import digest
from registry.unit_of_work import UnitOfWork


class ClientRepository(_TenantScoped):
    row_type = ClientRow

    def by_id(self, tenant: str, client_id: int) -> ClientRow | None:
        row = self._by_id(ClientRow, client_id)   # by primary key: a row already held is not read again
        return row if row is not None and row.tenant == tenant else None

    def by_id_number(self, tenant: str, id_number: str) -> ClientRow | None:
        """LOAN-15: found by the keyed hash of the number (the number itself is stored sealed)."""
        stmt = select(ClientRow).where(ClientRow.tenant == tenant,
                                       ClientRow.id_number_digest == digest(self._session, tenant, "iin", id_number))
        return self._session.execute(stmt).scalar_one_or_none()

    def by_iin(self, tenant: str, iin: str) -> list[ClientRow]:
        """The tenant's clients whose acting person has this IIN (a person may act for several entities)."""
        stmt = select(ClientRow).where(ClientRow.tenant == tenant,
                                       ClientRow.iin_digest == digest(self._session, tenant, "iin", iin))
        return list(self._session.execute(stmt.order_by(ClientRow.id)).scalars())

    def by_phone(self, tenant: str, phone: str) -> list[ClientRow]:
        stmt = select(ClientRow).where(ClientRow.tenant == tenant,
                                       ClientRow.phone_digest == digest(self._session, tenant, "phone", phone))
        return list(self._session.execute(stmt.order_by(ClientRow.id)).scalars())


class ClientFactorRepository(_Repository):
    """A client's factors; found through the client, which is found within its tenant."""

    def add(self, row: ClientFactorRow) -> ClientFactorRow:
        return self._add(row)

    def of_client(self, client_id: int, *, kind: str | None = None, status: str | None = None,
                  for_update: bool = False) -> list[ClientFactorRow]:
        def build():  # noqa: ANN202
            stmt = select(ClientFactorRow).where(ClientFactorRow.client_id == bindparam("client_id"))
            if kind is not None:
                stmt = stmt.where(ClientFactorRow.kind == bindparam("kind"))
            if status is not None:
                stmt = stmt.where(ClientFactorRow.status == bindparam("status"))
            stmt = stmt.order_by(ClientFactorRow.id)
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("factors", kind is not None, status is not None, for_update), build)
        return list(self._session.execute(stmt, {"client_id": client_id, "kind": kind, "status": status}).scalars())

    def kinds(self, client_id: int, *, status: str) -> set[str]:
        """The kinds of the client's factors in ``status``: one column read, no row loaded (or unsealed)."""
        stmt = built(("factor kinds",), lambda: select(ClientFactorRow.kind).where(
            ClientFactorRow.client_id == bindparam("client_id"), ClientFactorRow.status == bindparam("status")).distinct())
        return set(self._session.execute(stmt, {"client_id": client_id, "status": status}).scalars())

    def by_public_id(self, client_id: int, public_id: str, *, for_update: bool = False) -> ClientFactorRow | None:
        def build():  # noqa: ANN202
            stmt = select(ClientFactorRow).where(ClientFactorRow.client_id == bindparam("client_id"),
                                                 ClientFactorRow.public_id == bindparam("public_id"))
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("factor", for_update), build)
        return self._session.execute(stmt, {"client_id": client_id, "public_id": public_id}).scalar_one_or_none()

    def enrolling(self, public_id: str, *, for_update: bool = False) -> tuple[ClientFactorRow, ClientRow] | None:
        """A factor the client enrols on their own channel (issue 15) and its client: found by the factor's id
        (the caller checks the enrolment token next), not through a tenant."""
        stmt = select(ClientFactorRow, ClientRow).join(ClientRow, ClientRow.id == ClientFactorRow.client_id).where(
            ClientFactorRow.public_id == public_id, ClientFactorRow.enrolment_token_digest.is_not(None))
        if for_update:
            stmt = stmt.with_for_update(of=ClientFactorRow)
        found = self._session.execute(stmt).one_or_none()
        return (found[0], found[1]) if found is not None else None


class SigningRequestRepository(_TenantScoped):
    row_type = SigningRequestRow

    def for_client(self, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None:
        """The request a client's token names; the caller checks the token before showing anything."""
        def build():  # noqa: ANN202
            stmt = select(SigningRequestRow).where(SigningRequestRow.public_id == bindparam("public_id"))
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("request for its client", for_update), build)
        return self._session.execute(stmt, {"public_id": public_id}).scalar_one_or_none()

    def open_expired(self, now: dt.datetime, limit: int = 100) -> list[SigningRequestRow]:
        stmt = (select(SigningRequestRow).where(SigningRequestRow.status == SigningRequestStatus.OPEN,
                                                SigningRequestRow.expires_at <= now)
                .order_by(SigningRequestRow.id).limit(limit).with_for_update(skip_locked=True))
        return list(self._session.execute(stmt).scalars())

    def signed_before(self, before: dt.datetime, limit: int = 20) -> list[SigningRequestRow]:
        """Requests the client signed before ``before`` that still wait for the seal or the evidence report."""
        waiting = (SigningRequestStatus.SIGNED, SigningRequestStatus.SEALED)
        stmt = (select(SigningRequestRow).where(SigningRequestRow.status.in_(waiting),
                                                SigningRequestRow.signed_at <= before)
                .join(EvidenceRecordRow, EvidenceRecordRow.request_id == SigningRequestRow.id)
                .where((EvidenceRecordRow.reported_at.is_(None))
                       | ((SigningRequestRow.status == SigningRequestStatus.SIGNED) & SigningRequestRow.seal.is_(True)))
                .order_by(SigningRequestRow.id).limit(limit))
        return list(self._session.execute(stmt).scalars())

    def of_document(self, tenant: str, document_id: int, *, status: str | None = None,
                    for_update: bool = False) -> list[SigningRequestRow]:
        """The document's requests (in ``status``), oldest first; ``for_update``: each locked as it is read (on
        PostgreSQL the status is looked at again on the locked row, so one that just left it is not returned)."""
        def build():  # noqa: ANN202
            stmt = select(SigningRequestRow).where(SigningRequestRow.tenant == bindparam("tenant"),
                                                   SigningRequestRow.document_id == bindparam("document_id"))
            if status is not None:
                stmt = stmt.where(SigningRequestRow.status == bindparam("status"))
            stmt = stmt.order_by(SigningRequestRow.id)
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("requests of a document", status is not None, for_update), build)
        return list(self._session.execute(stmt, {"tenant": tenant, "document_id": document_id,
                                                 "status": status}).scalars())


class FactorProofRepository(_Repository):
    """A request's proofs are read once in a unit of work (a factor step asks for them three times): proofs are
    only ever added, through ``add``, which keeps the list read; a step that adds one holds the request's row
    lock, so no other unit adds one to the same request meanwhile."""

    def __init__(self, tx: UnitOfWork) -> None:
        super().__init__(tx)
        self._read: dict[int, list[FactorProofRow]] = {}

    def add(self, row: FactorProofRow) -> FactorProofRow:
        added = self._add(row)
        read = self._read.get(added.request_id)
        if read is not None:
            read.append(added)
        return added

    def of_request(self, request_id: int) -> list[FactorProofRow]:
        read = self._read.get(request_id)
        if read is None:
            stmt = built(("proofs",), lambda: select(FactorProofRow).where(
                FactorProofRow.request_id == bindparam("request_id")).order_by(FactorProofRow.id))
            read = self._read[request_id] = list(self._session.execute(stmt, {"request_id": request_id}).scalars())
        return list(read)


class OneTimeCodeRepository(_Repository):
    def add(self, row: OneTimeCodeRow) -> OneTimeCodeRow:
        return self._add(row)

    def sent(self, factor_id: int, request_id: int | None, purpose: str, *,
             for_update: bool = False) -> list[OneTimeCodeRow]:
        """Every code sent for this factor and request (or enrolment), oldest first."""
        def build():  # noqa: ANN202
            stmt = select(OneTimeCodeRow).where(OneTimeCodeRow.factor_id == bindparam("factor_id"),
                                                OneTimeCodeRow.purpose == bindparam("purpose"))
            stmt = stmt.where(OneTimeCodeRow.request_id.is_(None) if request_id is None
                              else OneTimeCodeRow.request_id == bindparam("request_id"))
            stmt = stmt.order_by(OneTimeCodeRow.id)
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("codes sent", request_id is None, for_update), build)
        return list(self._session.execute(stmt, {"factor_id": factor_id, "purpose": purpose,
                                                 "request_id": request_id}).scalars())


class BiometricChallengeRepository(_Repository):
    def add(self, row: BiometricChallengeRow) -> BiometricChallengeRow:
        return self._add(row)

    def of_request(self, request_id: int, *, for_update: bool = False) -> list[BiometricChallengeRow]:
        def build():  # noqa: ANN202
            stmt = select(BiometricChallengeRow).where(BiometricChallengeRow.request_id == bindparam("request_id"))
            stmt = stmt.order_by(BiometricChallengeRow.id)
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("challenges", for_update), build)
        return list(self._session.execute(stmt, {"request_id": request_id}).scalars())


class BiometricAssertionRepository(_Repository):
    def add(self, row: BiometricAssertionRow) -> BiometricAssertionRow:
        """Raises ``Conflict("uq_biometric_assertions_provider_id")`` for an assertion id seen before."""
        return self._add(row)

    def seen(self, provider: str, assertion_id: str) -> bool:
        stmt = built(("assertion seen",), lambda: select(BiometricAssertionRow.id).where(
            BiometricAssertionRow.provider == bindparam("provider"),
            BiometricAssertionRow.assertion_id == bindparam("assertion_id")))
        return self._session.execute(stmt, {"provider": provider, "assertion_id": assertion_id}).first() is not None


class EvidenceRepository(_TenantScoped):
    row_type = EvidenceRecordRow

    def of_request(self, request_id: int, *, for_update: bool = False) -> EvidenceRecordRow | None:
        def build():  # noqa: ANN202
            stmt = select(EvidenceRecordRow).where(EvidenceRecordRow.request_id == bindparam("request_id"))
            return stmt.with_for_update() if for_update else stmt

        stmt = built(("evidence", for_update), build)
        return self._session.execute(stmt, {"request_id": request_id}).scalar_one_or_none()
