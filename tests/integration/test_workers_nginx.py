"""Several workers behind nginx on PostgreSQL and SoftHSM2, deployed from deploy/ (issue 17, item 1).

One deployment for the module (tests/support/deployment.py): `qoltanba serve --workers 3` in production mode as
the systemd unit starts it, nginx with the rendered site configuration in front, both real processes on loopback.
Judges: openssl (ocsp, crl, ts), the workers' own sockets as `ss` sees them, the registry's rows.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from tests.support import factories as f
from tests.support.deployment import deployed

WORKERS = 3
PEM = serialization.Encoding.PEM


@pytest.fixture(scope="module")
def deployment(postgres_server, tmp_path_factory):
    name, url = postgres_server.create_unique_database("workers_nginx")
    try:
        with deployed(tmp_path_factory.mktemp("deployed"), url, workers=WORKERS) as running:
            yield running
    finally:
        postgres_server.drop_database(name)


@pytest.fixture(scope="module")
def admin(deployment) -> dict:
    return {"X-API-Key": deployment.admin_key()}


def _issue(client: httpx.Client, admin: dict) -> dict:
    body = {"profile": "individual-sign", "csr_pem": f.csr_pem().decode(),
            "subject": {"surname": "Abenov", "given_name": "Nurlan", "iin": f.iin(), "email": "n@example.kz"}}
    answer = client.post("/certificates", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    return answer.json()


def _files(deployment, work: Path) -> tuple[Path, Path, x509.Certificate]:
    root = x509.load_der_x509_certificate(httpx.get(deployment.url + "/ca/root.cer").content)
    national = x509.load_der_x509_certificate(httpx.get(deployment.url + "/ca/national.cer").content)
    (work / "national.pem").write_bytes(national.public_bytes(PEM))
    (work / "chain.pem").write_bytes(national.public_bytes(PEM) + root.public_bytes(PEM))
    return work / "national.pem", work / "chain.pem", national


def _openssl_ocsp(url: str, national: Path, chain: Path, leaf: Path) -> str:
    done = subprocess.run(["openssl", "ocsp", "-issuer", str(national), "-cert", str(leaf), "-url", url,
                           "-CAfile", str(chain), "-no_nonce"], capture_output=True, text=True, timeout=30)
    return done.stdout + done.stderr


def _per_worker_clients(deployment) -> dict[int, httpx.Client]:
    """One kept connection to each worker process (found with ss: the server end's owner)."""
    clients: dict[int, httpx.Client] = {}
    spare = []
    for _ in range(60):
        client = httpx.Client(base_url=deployment.app_url, timeout=30,
                              limits=httpx.Limits(max_connections=1, max_keepalive_connections=1))
        assert client.get("/livez").status_code == 200
        stream = client._transport._pool.connections[0]._connection._network_stream   # noqa: SLF001
        pid = deployment.worker_of(stream.get_extra_info("socket").getsockname()[1])
        if pid is not None and pid not in clients:
            clients[pid] = client
        else:
            spare.append(client)
        if len(clients) == WORKERS:
            break
    for client in spare:
        client.close()
    assert len(clients) == WORKERS, f"connections reached {len(clients)} of {WORKERS} workers"
    return clients


def _status(der: bytes) -> ocsp.OCSPCertStatus:
    answer = ocsp.load_der_ocsp_response(der)
    assert answer.response_status == ocsp.OCSPResponseStatus.SUCCESSFUL
    return answer.certificate_status


def test_revocation_is_seen_by_every_worker_and_through_nginx_within_one_second(deployment, admin, tmp_path) -> None:
    """ROOT-6/NAT-8 across processes: after the revoke answers, within one second every worker, nginx's OCSP file,
    `openssl ocsp` through nginx and the CRL file nginx serves all say revoked."""
    national_pem, chain, national = _files(deployment, tmp_path)
    with httpx.Client(base_url=deployment.url, timeout=60) as through_nginx:
        for _ in range(20):
            issued = _issue(through_nginx, admin)
            leaf = x509.load_pem_x509_certificate(issued["certificate_pem"].encode())
            request = ocsp.OCSPRequestBuilder().add_certificate(leaf, national, hashes.SHA1()).build().public_bytes(
                serialization.Encoding.DER)
            encoded = base64.b64encode(request).decode()
            if not encoded.endswith("/"):   # such a request has no file (test_ocsp_files.py): nginx asks a worker
                break
        leaf_pem = tmp_path / "leaf.pem"
        leaf_pem.write_text(issued["certificate_pem"])
        get_path = "/ocsp/national/" + quote(encoded, safe="")   # RFC 6960 A.1: URL-encoded base64
        # The first GET is a miss: nginx asks a worker, which answers and writes the file at the request's path.
        first = through_nginx.get(get_path)
        assert first.status_code == 200 and _status(first.content) == ocsp.OCSPCertStatus.GOOD
        assert "x-request-id" in first.headers, "the first answer comes from a worker"
        on_disk = deployment.public / "ocsp" / "national" / encoded
        assert on_disk.read_bytes() == first.content
        again = through_nginx.get(get_path)
        assert again.content == first.content and "x-request-id" not in again.headers, "nginx served the file"
        assert again.headers["content-type"] == "application/ocsp-response"
        assert ": good" in _openssl_ocsp(deployment.url + "/ocsp/national", national_pem, chain, leaf_pem)
        workers = _per_worker_clients(deployment)
        try:
            for client in workers.values():   # every worker holds the "good" answer in its cache
                assert _status(client.get(get_path).content) == ocsp.OCSPCertStatus.GOOD
            revoked = through_nginx.post(f"/certificates/{issued['serial']}/revoke", headers=admin,
                                         json={"reason": "key-compromise"})
            assert revoked.status_code == 200, revoked.text
            at = time.monotonic()
            pending = {"nginx file", "openssl through nginx", "crl file", *workers}
            while pending and time.monotonic() - at < 1.0:
                if "nginx file" in pending and _status(through_nginx.get(get_path).content) == \
                        ocsp.OCSPCertStatus.REVOKED:
                    pending.discard("nginx file")
                for pid in [p for p in pending if isinstance(p, int)]:
                    if _status(workers[pid].get(get_path).content) == ocsp.OCSPCertStatus.REVOKED:
                        pending.discard(pid)
                if "openssl through nginx" in pending and ": revoked" in _openssl_ocsp(
                        deployment.url + "/ocsp/national", national_pem, chain, leaf_pem):
                    pending.discard("openssl through nginx")
                if "crl file" in pending:
                    crl = x509.load_der_x509_crl(through_nginx.get("/crl/national.crl").content)
                    if crl.get_revoked_certificate_by_serial_number(leaf.serial_number) is not None:
                        pending.discard("crl file")
            elapsed = time.monotonic() - at
            assert not pending, f"still not revoked after {elapsed:.2f} s: {pending}"
        finally:
            for client in workers.values():
                client.close()
        # The CRL came from nginx's disk, the very file the publisher exported, and openssl accepts it.
        served = through_nginx.get("/crl/national.crl")
        assert "x-request-id" not in served.headers and served.headers["content-type"] == "application/pkix-crl"
        assert served.content == (deployment.public / "crl" / "national.crl").read_bytes()
        (tmp_path / "national.crl").write_bytes(served.content)
        checked = subprocess.run(["openssl", "crl", "-inform", "DER", "-in", str(tmp_path / "national.crl"),
                                  "-CAfile", str(chain), "-noout"], capture_output=True, text=True, timeout=30)
        assert "verify OK" in checked.stdout + checked.stderr, checked.stderr


def test_serials_crl_numbers_and_tsa_serials_stay_unique_under_concurrent_requests_through_nginx(
        deployment, admin, tmp_path) -> None:
    """Concurrent issuance, revocation and time-stamps through nginx to three workers: no serial, CRL number or
    TSA serial is given twice, and the CRL numbers have no gap (NAT-8)."""
    import psycopg


    with httpx.Client(base_url=deployment.url, timeout=120,
                      limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(8) as pool:
        issued = list(pool.map(lambda _: _issue(client, admin), range(32)))
        serials = [c["serial"] for c in issued]
        assert len(set(serials)) == 32
        doomed = serials[:8]
        answers = list(pool.map(lambda s: client.post(f"/certificates/{s}/revoke", headers=admin,
                                                      json={"reason": "superseded"}), doomed))
        assert [a.status_code for a in answers] == [200] * 8, [a.text for a in answers]
        queries = []
        for n in range(24):
            data = tmp_path / f"data-{n}"
            data.write_bytes(f"contract {n}".encode())
            query = tmp_path / f"query-{n}.tsq"
            subprocess.run(["openssl", "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query)],
                           check=True, capture_output=True, timeout=30)
            queries.append(query.read_bytes())
        replies = list(pool.map(lambda q: client.post("/tsa", content=q, headers={
            "Content-Type": "application/timestamp-query"}), queries))
    tsa_serials = []
    for n, reply in enumerate(replies):
        assert reply.status_code == 200, reply.text
        path = tmp_path / f"reply-{n}.tsr"
        path.write_bytes(reply.content)
        text = subprocess.run(["openssl", "ts", "-reply", "-in", str(path), "-text"], capture_output=True,
                              text=True, check=True, timeout=30).stdout
        assert "Status: Granted." in text, text
        tsa_serials.append(next(line for line in text.splitlines() if line.startswith("Serial number:")))
    assert len(set(tsa_serials)) == len(tsa_serials) == 24
    url = deployment.home.env["QOLTANBA_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as db:
        rows = db.execute("SELECT centre_id, number FROM crls ORDER BY centre_id, number").fetchall()
    by_centre: dict[int, list[int]] = {}
    for centre, number in rows:
        by_centre.setdefault(centre, []).append(number)
    for numbers in by_centre.values():
        assert numbers == list(range(numbers[0], numbers[0] + len(numbers))), numbers   # unique, no gap
    # Each revocation published its centre's CRLs: the newest one through nginx lists all eight.
    crl = x509.load_der_x509_crl(httpx.get(deployment.url + "/crl/national.crl").content)
    listed = {format(entry.serial_number, "x") for entry in crl}
    assert set(doomed) <= listed


def test_held_keys_generated_on_every_worker_at_once_while_others_sign_on_the_same_softhsm_token(
        deployment, admin) -> None:
    """Issue 17: three workers, each with its request threads, generate borrowers' held keys on one SoftHSM2 token
    while others sign certificates with the CA's key on it. Every request gets its certificate, each held key its
    own, and no worker's token ever answers CKR_GENERAL_ERROR (docs/DEPLOYMENT.md, SoftHSM2 and several workers)."""
    def held(_: int) -> dict:
        body = {"profile": "individual-sign", "held": {},
                "subject": {"surname": "Сәрсенбаева", "given_name": "Әйгерім", "iin": f.iin()}}
        answer = client.post("/certificates", json=body, headers=admin)
        assert answer.status_code == 201, answer.text
        return answer.json()

    with httpx.Client(base_url=deployment.url, timeout=120,
                      limits=httpx.Limits(max_connections=16)) as client, ThreadPoolExecutor(12) as pool:
        work = [pool.submit(held, n) if n % 2 else pool.submit(_issue, client, admin) for n in range(48)]
        issued = [w.result() for w in work]
    held_keys = [x509.load_pem_x509_certificate(c["certificate_pem"].encode()).public_key().public_bytes(
        PEM, serialization.PublicFormat.SubjectPublicKeyInfo) for c in issued[1::2]]
    assert len(set(held_keys)) == 24
    log = (deployment.directory / "serve.log").read_text()
    assert "CKR_GENERAL_ERROR" not in log and "key backend failure" not in log


def test_metrics_through_nginx_add_up_every_worker(deployment) -> None:
    """prometheus-client's multi-process mode under `serve --workers`: whichever worker answers /metrics (here
    through nginx), the counts are all three workers' sum, and each worker wrote its own file."""
    from prometheus_client.parser import text_string_to_metric_families

    key = json.loads(deployment.home.cli("apikey", "create", "--name", "prometheus", "--role", "monitor")
                     .stdout.strip().splitlines()[-1])["key"]
    monitor = {"Authorization": f"Bearer {key}"}

    def profiles_answered() -> float:
        scrape = httpx.get(deployment.url + "/metrics", headers=monitor, timeout=30)
        assert scrape.status_code == 200, scrape.text
        return sum(sample.value for family in text_string_to_metric_families(scrape.text)
                   for sample in family.samples if sample.name == "qoltanba_http_requests_total"
                   and sample.labels.get("route") == "/profiles" and sample.labels.get("status") == "200")

    before = profiles_answered()
    pids = set()
    for _ in range(40):   # a new connection each time: the kernel hands them to all the workers
        with httpx.Client(base_url=deployment.app_url, timeout=30) as client:
            assert client.get("/profiles").status_code == 200
            stream = client._transport._pool.connections[0]._connection._network_stream   # noqa: SLF001
            pids.add(deployment.worker_of(stream.get_extra_info("socket").getsockname()[1]))
    assert len(pids - {None}) >= 2, "the requests reached more than one worker"
    assert all(profiles_answered() - before == 40 for _ in range(4))
    files = {p.name.split("_")[-1] for p in (deployment.directory / "metrics").glob("counter_*.db")}
    assert len(files) == WORKERS, files


def test_each_worker_keeps_to_one_cpu_and_together_they_use_every_cpu(deployment) -> None:
    """`serve --workers 3` on the CPUs this test may use: each worker's threads are kept to one CPU
    (api/http/workers.py), slot N on CPU N mod the CPUs, so the workers cover every CPU up to their number."""
    allowed = sorted(os.sched_getaffinity(0))
    pids = set()
    # New connections until every worker has answered one. /livez spends no rate-limit token: the module's
    # other tests spend the address's public bucket (/profiles), shared by the workers.
    for _ in range(60):
        with httpx.Client(base_url=deployment.app_url, timeout=30) as client:
            assert client.get("/livez").status_code == 200
            stream = client._transport._pool.connections[0]._connection._network_stream   # noqa: SLF001
            pids.add(deployment.worker_of(stream.get_extra_info("socket").getsockname()[1]))
        if len(pids - {None}) == WORKERS:
            break
    pids.discard(None)
    assert len(pids) == WORKERS
    # Every thread of a worker (the event loop's, the request threads, the housekeeping) on its CPU.
    kept = {pid: {frozenset(os.sched_getaffinity(int(task))) for task in os.listdir(f"/proc/{pid}/task")}
            for pid in pids}
    if len(allowed) >= 2:
        assert all(len(sets) == 1 and len(next(iter(sets))) == 1 for sets in kept.values()), kept
        assert {cpu for sets in kept.values() for cpus in sets for cpu in cpus} == set(allowed[:WORKERS]), kept
    else:   # one CPU: nothing to choose, nothing pinned
        assert all(sets == {frozenset(allowed)} for sets in kept.values())
