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

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from registry.audit import AuditLog
from registry.constraints import constraint_name
from registry.db import Database
from registry.repositories.applications import ApplicationRepository, JournalRepository
from registry.repositories.base import Conflict
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
from registry.repositories.webhooks import WebhookDeliveryRepository, WebhookEndpointRepository


class RegistryTransaction:
    """The repositories of one unit of work, on one database connection.

    The ORM session is made only when a repository needs it: issuance, the
    hot path, writes through the connection alone and skips its cost.
    """

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._session: Session | None = None
        # The actions audited in this unit of work, told to ``Registry.on_commit`` listeners once it commits.
        self.audited: list[str] = []
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
        # Called with the actions a unit of work audited, after it committed (the metrics count them, issue 17).
        self.on_commit: list[Callable[[Sequence[str]], None]] = []

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
                if tx.audited:
                    self._committed(tx.audited)
        except IntegrityError as error:
            raise Conflict(constraint_name(error)) from error
        finally:
            if tx is not None:
                tx.close()

    def _committed(self, actions: Sequence[str]) -> None:
        for listener in self.on_commit:
            try:
                listener(actions)
            except Exception:  # noqa: BLE001 - what was committed stays committed; the log says what failed
                logging.getLogger(__name__).exception("a commit listener failed")
