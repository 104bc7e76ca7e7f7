"""The unit of work: one transaction on one connection, and every repository on it.

``Registry.transaction`` commits at the edge; repositories only flush. A
service that needs a few of these repositories declares them as a Protocol
in its own module (ca/revocation.py, ca/responder.py, ca/publication.py)
and is handed this transaction, which satisfies them all.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar, overload

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.audit import AuditLog
from registry.constraints import constraint_name
from registry.db import Database
from registry.repositories.accounts import (
    BorrowerAccountRepository,
    BorrowerCeremonyRepository,
    BorrowerDocumentRepository,
    BorrowerSessionRepository,
)
from registry.repositories.applications import ApplicationRepository, JournalRepository
from registry.repositories.base import Conflict
from registry.repositories.shared import JobRepository, RateBucketRepository, SMSOutboxRepository
from registry.repositories.clients import (
    BiometricAssertionRepository,
    BiometricChallengeRepository,
    ClientFactorRepository,
    ClientRepository,
    EvidenceRepository,
    FactorProofRepository,
    OneTimeCodeRepository,
    SigningRequestRepository,
)
from registry.repositories.csc import CSCActivationRepository
from registry.repositories.documents import (
    DocumentRepository,
    DocumentVersionRepository,
    SigningAuthorisationRepository,
    SigningSessionRepository,
    TrustAnchorRepository,
)
from registry.repositories.hierarchy import CentreRepository, CertificateRepository, SequenceRepository
from registry.repositories.people import (
    ActorRepository,
    ApprovalRepository,
    CaKeyRetirementRepository,
    ConsoleSessionRepository,
    PeopleRepository,
)
from registry.repositories.revocation import CRLRepository, RevocationRepository
from registry.repositories.tenants import ContractFormRepository, TenantRepository
from registry.repositories.webhooks import WebhookDeliveryRepository, WebhookEndpointRepository
from registry.unit_of_work import UnitOfWork

_R = TypeVar("_R")


class _Made(Generic[_R]):
    """A repository of the unit of work, made when first used and kept for the rest of it.

    A unit of work uses a few of its repositories (issuance: three); making
    all of them up front cost more than the statements issuance sends.
    """

    def __init__(self, factory: Callable[[UnitOfWork], _R]) -> None:
        self._factory = factory
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self._name = name

    @overload
    def __get__(self, tx: None, owner: type) -> _Made[_R]: ...

    @overload
    def __get__(self, tx: RegistryTransaction, owner: type) -> _R: ...

    def __get__(self, tx: RegistryTransaction | None, owner: type) -> _R | _Made[_R]:
        if tx is None:
            return self
        made = tx.__dict__[self._name] = self._factory(tx)   # later reads find it in the instance
        return made


class ReadOnlyUnitWrote(RuntimeError):
    """A unit of work declared read-only tried to write: a programming error, refused before anything is sent
    (on PostgreSQL a read-only unit runs without a transaction, so a write would not be undone with it)."""


class _ReadOnlySession(Session):
    """The ORM session of a read-only unit of work: it has nothing to flush, and refuses to."""

    def flush(self, objects=None) -> None:  # noqa: ANN001 - as Session.flush
        if self.new or self.deleted or self.dirty:
            raise ReadOnlyUnitWrote("a read-only unit of work changed rows: declare it a writing one")


class RegistryTransaction:
    """The repositories of one unit of work, on one database connection.

    The ORM session is made only when a repository needs it, and each
    repository when first used: issuance, the hot path, writes through the
    connection alone and skips their cost.
    """

    centres = _Made(CentreRepository)
    certificates = _Made(CertificateRepository)
    applications = _Made(ApplicationRepository)
    journal = _Made(JournalRepository)
    actors = _Made(ActorRepository)
    revocations = _Made(RevocationRepository)
    crls = _Made(CRLRepository)
    sequences = _Made(SequenceRepository)
    documents = _Made(DocumentRepository)
    document_versions = _Made(DocumentVersionRepository)
    authorisations = _Made(SigningAuthorisationRepository)
    signing_sessions = _Made(SigningSessionRepository)
    clients = _Made(ClientRepository)
    client_factors = _Made(ClientFactorRepository)
    signing_requests = _Made(SigningRequestRepository)
    factor_proofs = _Made(FactorProofRepository)
    one_time_codes = _Made(OneTimeCodeRepository)
    biometric_challenges = _Made(BiometricChallengeRepository)
    biometric_assertions = _Made(BiometricAssertionRepository)
    evidence = _Made(EvidenceRepository)
    webhook_endpoints = _Made(WebhookEndpointRepository)
    webhook_deliveries = _Made(WebhookDeliveryRepository)
    trust_anchors = _Made(TrustAnchorRepository)
    people = _Made(PeopleRepository)
    console_sessions = _Made(ConsoleSessionRepository)
    approvals = _Made(ApprovalRepository)
    ca_key_retirements = _Made(CaKeyRetirementRepository)
    tenants = _Made(TenantRepository)
    borrower_accounts = _Made(BorrowerAccountRepository)
    borrower_ceremonies = _Made(BorrowerCeremonyRepository)
    borrower_sessions = _Made(BorrowerSessionRepository)
    borrower_documents = _Made(BorrowerDocumentRepository)
    contract_forms = _Made(ContractFormRepository)
    jobs = _Made(JobRepository)
    rate_buckets = _Made(RateBucketRepository)
    sms_outbox = _Made(SMSOutboxRepository)
    csc_activations = _Made(CSCActivationRepository)
    audit = _Made(AuditLog)

    def __init__(self, connection: Connection, sealer: object | None = None, *, readonly: bool = False) -> None:
        self.connection = connection
        self.readonly = readonly
        # What seals and opens the tenants' data (LOAN-15, registry.sealing): the keyring the wiring gave.
        self.sealer = sealer
        self._session: Session | None = None
        # The actions audited in this unit of work, told to ``Registry.on_commit`` listeners once it commits.
        self.audited: list[str] = []

    @property
    def session(self) -> Session:
        if self._session is None:
            session_type = _ReadOnlySession if self.readonly else Session
            self._session = session_type(bind=self.connection, expire_on_commit=False, autoflush=True,
                                         info={"sealer": self.sealer})
        return self._session

    def flush(self) -> None:
        if self._session is not None:
            self._session.flush()

    def finish(self) -> None:
        """What is left to write before the commit: the ORM's changes, then the audit entries (chained last, so
        the chain head's row lock is held only while the unit of work commits)."""
        self.flush()
        audit = self.__dict__.get("audit")
        if audit is not None:
            if self.readonly and audit.has_pending:
                raise ReadOnlyUnitWrote("a read-only unit of work audited an action: declare it a writing one")
            audit.write_pending()

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
        # Each repository made points back at this transaction: dropped here, the
        # transaction is freed when its last reference goes, not by the cyclic
        # garbage collector (one collection per ~20 issuances otherwise).
        for name in _REPOSITORIES:
            self.__dict__.pop(name, None)


_REPOSITORIES = tuple(name for name, value in vars(RegistryTransaction).items() if isinstance(value, _Made))


class Registry:
    def __init__(self, database: Database) -> None:
        self.database = database
        self._readonly_options = {"qoltanba_readonly": True} if database.dialect == "sqlite" else \
            {"qoltanba_readonly": True, "isolation_level": "AUTOCOMMIT"}
        # Called with the actions a unit of work audited, after it committed (the metrics count them, issue 17).
        self.on_commit: list[Callable[[Sequence[str]], None]] = []

    @contextlib.contextmanager
    def transaction(self, *, readonly: bool = False) -> Iterator[RegistryTransaction]:
        """One unit of work: committed when the block ends, rolled back on any error.

        ``readonly``: the block only reads. SQLite then does not take the write lock at BEGIN; PostgreSQL runs
        its statements without BEGIN and COMMIT (autocommit): under READ COMMITTED each statement sees its own
        snapshot either way, and the two round trips were a fifth of a short unit of work's cost (issue 17).
        A read-only block takes no lock worth holding (a ``FOR UPDATE`` in it would hold nothing).
        """
        tx: RegistryTransaction | None = None
        try:
            with self.database.connect(write=not readonly) as connection:
                if readonly:
                    connection = connection.execution_options(**self._readonly_options)
                with connection.begin():
                    tx = RegistryTransaction(connection, self.database.sealer, readonly=readonly)
                    yield tx
                    tx.finish()
                if tx.audited:
                    self._committed(tx.audited)
        except IntegrityError as error:
            raise Conflict(constraint_name(error)) from error
        finally:
            if tx is not None:
                tx.close()

    def advance(self, name: str) -> int:
        """A named counter moved on by one and committed at once (the TSA's serials, issue 17). On PostgreSQL one
        statement in autocommit (no BEGIN, no COMMIT: the statement is the transaction, and the row's lock lasts
        as long as it); the counter's first use, and SQLite, take a unit of work as ``sequences.next`` does."""
        if self.database.dialect != "sqlite":
            with self.database.connect() as connection:
                connection = connection.execution_options(isolation_level="AUTOCOMMIT")
                with connection.begin():
                    value = RegistryTransaction(connection).sequences.advance_existing(name)
            if value is not None:
                return value
        with self.transaction() as tx:
            return tx.sequences.next(name)

    def exclusive(self, name: str) -> contextlib.AbstractContextManager[None]:
        """One holder at a time of ``name`` across every process on this registry (``Database.exclusive``)."""
        return self.database.exclusive(name)

    def _committed(self, actions: Sequence[str]) -> None:
        for listener in self.on_commit:
            try:
                listener(actions)
            except Exception:  # noqa: BLE001 - what was committed stays committed; the log says what failed
                logging.getLogger(__name__).exception("a commit listener failed")
