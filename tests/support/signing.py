"""Set-ups for signing tests: a client with a key the service holds, a contract, an authorisation.

The authorisation is granted here directly through ``AuthorisationService``:
that is the hook the factor check (issue 5) calls once the client has proved
their will.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from tests.support import factories as f
from tests.support.pdfs import contract_pdf

TENANT = "mfo-alpha"


@dataclass(frozen=True)
class Client:
    iin: str
    serial: str
    certificate: x509.Certificate
    key_handle: str | None


def client_with_held_key(services, *, algorithm=None, iin: str | None = None) -> Client:
    """A borrower whose signing key the national CA generated into the service's backend."""
    from ca.issuance import IssueRequest, KeySource
    from ca.subject import SubjectData
    from keys import KeyAlgorithm

    iin = iin or f.iin()
    issued = services.issuance.issue(IssueRequest(
        centre="national", profile="individual-sign", actor="test",
        subject=SubjectData(surname="Сәрсенбаева", given_name="Әйгерім", iin=iin),
        key=KeySource(service=True, algorithm=algorithm or KeyAlgorithm.EC_P256)))
    return Client(iin=iin, serial=issued.serial, certificate=issued.certificate, key_handle=issued.key_handle)


def upload(services, client_iin: str, *, tenant: str = TENANT, pages: int = 2, **metadata):
    """A contract of ``tenant`` (a registered tenant with its own seal, made when missing: issue 15)."""
    from tests.support.tenants import ensure_tenant

    ensure_tenant(services, tenant)
    meta = f.loan_metadata(client_id_number=client_iin, **metadata)
    return services.documents.upload("mfo-backend", tenant, contract_pdf(pages=pages), meta)


def authorise(services, document_id: str, serial: str, *, tenant: str = TENANT):
    """The single-use authorisation the factor check would grant for the document's current state."""
    with services.registry.transaction() as tx:
        row = tx.documents.by_public_id(tenant, document_id)
        latest = tx.document_versions.latest(row.id)
        return services.authorisations.grant(tx, tenant=tenant, document_row_id=row.id,
                                             document_public_id=document_id, document_sha256=latest.sha256,
                                             signer_serial=serial, granted_by="test-factors")


def sign_client_and_seal(services, client: Client, document_id: str, *, level: str | None = None,
                         tenant: str = TENANT):
    auth = authorise(services, document_id, client.serial, tenant=tenant)
    first = services.signing.sign_with_client_key("mfo-backend", tenant, document_id, authorisation=auth.id,
                                                  level=level)
    second = services.signing.sign_with_seal("mfo-backend", tenant, document_id, level=level)
    return first, second


def latest_pdf(services, document_id: str, *, tenant: str = TENANT) -> bytes:
    return services.documents.latest_pdf(tenant, document_id).content


@contextlib.contextmanager
def embedded_services(home: Path, master_key: str = "55" * 32) -> Iterator:
    """An initialised embedded home (SQLite, software keys) for a module's tests."""
    from api.wiring import Services
    from api.settings import Settings

    svc = Services.build(Settings(home=home, master_key=master_key))
    svc.migrate()
    svc.bootstrap.initialise()
    try:
        yield svc
    finally:
        svc.close()
