"""Killing the process in the middle of revocations loses nothing (SIGKILL, real SQLite, real files).

A child process revokes certificates one after another (each: registry
transaction, OCSP listener, CRL publication, file export) and is killed at
a random moment, several times. After each kill, a fresh process starts the
way the server does (``reconcile``) and every revocation is either fully
there -- registry row, journal line, CRL entry, OCSP answer -- or not at
all, and no CRL number ever names two different CRLs.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from api.wiring import Services
from tests.support import factories as f
from tests.support.server import prepare_home

CHILD = textwrap.dedent("""
    import sys
    from api.wiring import Services
    from api.settings import Settings
    from ca.revocation import RevocationRequest
    services = Services.build(Settings())
    for serial in open(sys.argv[1]).read().split():
        try:
            services.revocations.revoke(RevocationRequest(serial=serial, actor="crash-test", reason="key-compromise"))
        except Exception as error:   # already revoked in an earlier round
            if getattr(error, "code", "") != "conflict":
                raise
        print(serial, flush=True)
""")


def _check(home, certs: dict[str, x509.Certificate], seen_numbers: dict[int, str]) -> int:
    services = Services.build(home.settings())
    try:
        services.publisher.reconcile()   # what every serving process does when it starts
        with services.registry.transaction() as tx:
            centre_id = services.hierarchy.issuing_ca("national", tx).centre_id
            revoked = {s for s in certs if tx.certificates.by_serial(s)[0].status == "revoked"}
            journal = {r.serial for r in tx.revocations.entries(centre_id)}
        assert revoked == journal, "a certificate row and its journal line disagree"
        crl = services.publisher.latest("national", "full")
        listed = {format(e.serial_number, "x") for e in x509.load_der_x509_crl(crl.der)}
        assert listed & set(certs) == revoked, "the CRL misses or invents a revocation"
        exported = (services.settings.resolved_crl_export_dir / "national.crl").read_bytes()
        assert exported == crl.der, "the exported file is not the newest CRL"
        issuer = services.hierarchy.issuing_ca("national").certificate
        for serial in random.sample(sorted(certs), 5):
            request = ocsp.OCSPRequestBuilder().add_certificate(certs[serial], issuer, hashes.SHA1()).build()
            answer = ocsp.load_der_ocsp_response(services.responder.respond(
                request.public_bytes(serialization.Encoding.DER)))
            expected = ocsp.OCSPCertStatus.REVOKED if serial in revoked else ocsp.OCSPCertStatus.GOOD
            assert answer.certificate_status == expected
        with services.registry.transaction() as tx:
            for row in [tx.crls.latest(centre_id, kind) for kind in ("full", "delta")]:
                digest = hashlib.sha256(row.der).hexdigest()
                assert seen_numbers.setdefault(row.number, digest) == digest, "a CRL number was reused"
        numbers = services.publisher.numbers("national")
        assert numbers == sorted(set(numbers))
        return len(revoked)
    finally:
        services.close()


def test_sigkill_during_revocations_leaves_all_or_nothing(tmp_path):
    home = prepare_home(tmp_path / "home")
    services = Services.build(home.settings())
    try:
        certs = {issued.serial: issued.certificate for issued in (f.issue_person(services) for _ in range(40))}
    finally:
        services.close()
    serials = tmp_path / "serials.txt"
    serials.write_text("\n".join(certs))
    rng = random.Random(int(os.environ.get("QOLTANBA_CRASH_SEED", "7")))
    seen_numbers: dict[int, str] = {}
    kills, revoked = 0, 0
    for _ in range(6):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(serials)], env=home.env,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        # Kill after a few more revocations have completed, at a random point of
        # the next one (its transaction, CRL signing, archive write or export),
        # so every round really interrupts work whatever the machine's speed.
        for _ in range(rng.randint(1, 4)):
            if not child.stdout.readline():
                break
        time.sleep(rng.uniform(0.0, 0.06))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)
            kills += 1
        child.wait(timeout=30)
        if child.returncode not in (0, -signal.SIGKILL):
            raise AssertionError(child.stderr.read().decode())
        revoked = _check(home, certs, seen_numbers)
        if revoked == len(certs):
            break
    assert kills >= 2, "the child finished before it could be killed; the test proved nothing"
    assert revoked > 0
