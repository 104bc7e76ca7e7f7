"""CRL publication: numbering, delta CRLs, restarts, concurrent publishers, export, retention."""

from __future__ import annotations

import datetime as dt
import threading

from cryptography import x509

from api.wiring import Services
from ca.clock import FrozenClock
from ca.publication import CRLPolicy, CRLPublisher
from ca.retention import RetentionService
from ca.revocation import RevocationRequest, RevocationService
from tests.support import factories as f


def _delta_base(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.DeltaCRLIndicator).value.crl_number


def _number(crl: x509.CertificateRevocationList) -> int:
    return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number


def test_full_and_delta_share_one_increasing_number_sequence(services):
    first = services.publisher.publish("national")
    second = services.publisher.publish("national")
    numbers = [c.number for c in first + second]
    assert numbers == sorted(numbers) and len(set(numbers)) == 4
    full, delta = (x509.load_der_x509_crl(c.der) for c in second)
    assert _number(full) == second[0].number and _delta_base(delta) == second[0].number
    freshest = full.extensions.get_extension_for_class(x509.FreshestCRL).value
    assert freshest[0].full_name[0].value.endswith("/crl/national-delta.crl")


def test_delta_carries_revocations_since_its_base(services, tmp_path):
    """RFC 5280 §5.2.4: with full CRLs on schedule only, the delta lists what the base lacks."""
    publisher = CRLPublisher(services.registry, services.clock, services.hierarchy, services.ca_signers,
                             CRLPolicy(full_on_revocation=False))
    revocations = RevocationService(services.registry, services.clock, services.hierarchy, publisher)
    base = publisher.publish("national")[0]
    issued = f.issue_person(services)
    revocations.revoke(RevocationRequest(serial=issued.serial, actor="t", reason="key-compromise"))
    delta = x509.load_der_x509_crl(publisher.latest("national", "delta").der)
    full = x509.load_der_x509_crl(publisher.latest("national", "full").der)
    assert _delta_base(delta) == base.number and _number(full) == base.number
    assert delta.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is not None
    assert full.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is None


def test_crl_numbers_survive_a_restart(services):
    before = services.publisher.publish("government")[-1].number
    again = Services.build(services.settings)
    try:
        after = again.publisher.publish("government")[0].number
    finally:
        again.close()
    assert after == before + 1


def test_two_processes_publishing_at_once_never_share_a_number(services):
    others = [Services.build(services.settings) for _ in range(3)]
    errors: list[BaseException] = []

    def publish(svc: Services) -> None:
        try:
            for _ in range(3):
                svc.publisher.publish("national")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=publish, args=(svc,)) for svc in others]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for svc in others:
        svc.close()
    assert errors == []
    numbers = services.publisher.numbers("national")
    assert len(numbers) == len(set(numbers)) == 3 * 3 * 2


def test_reconcile_publishes_a_revocation_left_without_its_crl(services):
    """A crash between the revocation's commit and its CRL: the next start publishes it."""
    services.publisher.publish("national")
    issued = f.issue_person(services)
    RevocationService(services.registry, services.clock, services.hierarchy, publisher=None).revoke(RevocationRequest(serial=issued.serial, actor="t"))
    assert services.publisher.stale("national")
    services.publisher.reconcile()
    crl = x509.load_der_x509_crl(services.publisher.latest("national", "full").der)
    assert crl.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is not None
    assert not services.publisher.stale("national")


def test_schedule_reissues_crls_before_next_update(services):
    clock = FrozenClock(dt.datetime.now(dt.timezone.utc))
    publisher = CRLPublisher(services.registry, clock, services.hierarchy, services.ca_signers,
                             CRLPolicy(next_update=dt.timedelta(hours=24), refresh_after=dt.timedelta(hours=6)))
    publisher.reconcile()
    assert not publisher.stale("root")
    clock.advance(dt.timedelta(hours=7))
    assert publisher.stale("root")
    fresh = [c for c in publisher.reconcile() if c.centre == "root"]
    assert fresh and fresh[0].next_update - fresh[0].this_update == dt.timedelta(hours=24)


def test_export_directory_holds_the_distribution_point_files(services):
    issued = f.issue_person(services)
    services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t"))
    export = services.settings.resolved_crl_export_dir
    full = x509.load_der_x509_crl((export / "national.crl").read_bytes())
    delta = x509.load_der_x509_crl((export / "national-delta.crl").read_bytes())
    assert full.get_revoked_certificate_by_serial_number(issued.certificate.serial_number) is not None
    assert _number(delta) == _number(full) + 1
    # The path of the distribution point written in the certificate is the file's name.
    dp = issued.certificate.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value.rsplit("/", 1)[1] == "national.crl"


def test_retention_archives_after_5_years_and_10_at_government_and_runs_twice(services):
    """ROOT-7/NAT-8: 5 years after termination; GOV-6: 10 years. CRLs are never deleted."""
    national = f.issue_person(services)
    gov = f.issue_person(services, centre="government", password=b"carrier-pass")
    for issued in (national, gov):
        services.revocations.revoke(RevocationRequest(serial=issued.serial, actor="t", carrier_returned=True))
    crl_count = len(services.publisher.numbers("national"))
    clock = FrozenClock(services.clock.now() + dt.timedelta(days=366 * 5 + 2))
    retention = RetentionService(services.registry, clock, services.hierarchy)
    moved = {r.centre: r.archived for r in retention.run()}
    assert moved["national"] >= 1 and moved["government"] == 0
    with services.registry.transaction() as tx:
        assert national.serial in {r.serial for r in tx.certificates.archived()}
    assert {r.centre: r.archived for r in retention.run()}["national"] == 0   # safe to run twice
    with services.registry.transaction() as tx:
        assert not tx.certificates.by_serial(national.serial)
        assert tx.certificates.by_serial(gov.serial)
        centre_id = services.hierarchy.issuing_ca("national", tx).centre_id
        assert tx.certificates.status_of(centre_id, national.serial)[0] == "revoked"
    assert len(services.publisher.numbers("national")) == crl_count
    clock.advance(dt.timedelta(days=366 * 5))
    assert {r.centre: r.archived for r in retention.run()}["government"] >= 1
