"""Many issuances and revocations at once against PostgreSQL (issue 8).

Eight threads issue certificates and revoke a share of them while others
sign contracts, all on one service with a pool of PostgreSQL connections:
serials stay unique, the CRL lists exactly the revoked certificates, every
revocation has one journal line, and the audit chain is unbroken.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509

from ca.revocation import RevocationRequest
from tests.support import factories as f
from tests.support.signing import TENANT, authorise, client_with_held_key, upload


@pytest.fixture
def pg_services(tmp_path, postgres_url):
    from api.wiring import Services
    from api.settings import Settings

    svc = Services.build(Settings(home=tmp_path / "home", database_url=postgres_url, master_key="11" * 32))
    svc.migrate()
    svc.bootstrap.initialise()
    yield svc
    svc.close()


def test_parallel_issuance_revocation_and_signing_keep_the_registry_consistent(pg_services) -> None:
    services = pg_services
    with ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda _: f.issue_person(services), range(48)))
    serials = [c.serial for c in issued]
    assert len(set(serials)) == len(serials) == 48

    doomed = random.Random(7).sample(serials, 20)

    def revoke(serial: str) -> str:
        services.revocations.revoke(RevocationRequest(serial=serial, actor="test", reason="key-compromise"))
        return serial

    def sign_one(_: int) -> int:
        client = client_with_held_key(services)
        doc = upload(services, client.iin)
        auth = authorise(services, doc.id, client.serial)
        return services.signing.sign_with_client_key("mfo", TENANT, doc.id, authorisation=auth.id,
                                                     level="B-T").version

    with ThreadPoolExecutor(8) as pool:
        revoked = list(pool.map(revoke, doomed))
        versions = list(pool.map(sign_one, range(4)))
    assert sorted(revoked) == sorted(doomed) and versions == [2, 2, 2, 2]

    services.publisher.publish("national")
    crl = x509.load_der_x509_crl(services.publisher.latest("national", "full").der)
    listed = {format(entry.serial_number, "x") for entry in crl}
    assert listed == set(doomed)
    national = services.hierarchy.issuing_ca("national").centre_id
    with services.registry.transaction(readonly=True) as tx:
        assert tx.audit.verify() is None
        journal = [r.serial for r in tx.revocations.entries(national)]
        seqs = [r.seq for r in tx.revocations.entries(national)]
    assert sorted(journal) == sorted(doomed)          # one journal line per revocation
    assert len(set(seqs)) == len(seqs) == 20          # and one place each in the global order
    assert services.audit_checkpoints.verify().intact
