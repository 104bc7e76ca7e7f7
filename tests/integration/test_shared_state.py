"""State shared across workers and background work done once (issue 17, item 2), on PostgreSQL.

Three real servers (uvicorn, one process each, own loopback port) over one
PostgreSQL registry and one home, as two hosts' workers would be: a test
chooses which worker gets each request, and SIGKILLs one mid-delivery.
Besides, several processes issue, time-stamp and publish CRLs at once.
And the embedded default (SQLite, one `qoltanba serve`) still runs its
scheduled jobs.
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ca.jobs import JobQueue, NewJob, QueuePolicy
from ca.access import AccessService
from signing.factors.enrolment import ClientRegistration, FactorEnrolment
from tests.support import golden
from tests.support.cluster import owner_of_connection, start_workers
from tests.support.factors import TOKEN_HEADER, last_code, phone
from tests.support.signing import TENANT, client_with_held_key, upload

LEASE = 2.0   # seconds a worker holds a webhook delivery or a job: short, so a dead worker's work moves on soon
SETTINGS = {"QOLTANBA_WEBHOOK_POLL_SECONDS": "0.2", "QOLTANBA_WEBHOOK_LEASE_SECONDS": str(LEASE),
            "QOLTANBA_JOB_LEASE_SECONDS": str(LEASE), "QOLTANBA_PUBLIC_BURST": "6",
            "QOLTANBA_PUBLIC_RATE_PER_MINUTE": "1"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_server):
    """(in-process Services, [three workers]) over one PostgreSQL database and one home."""
    from api.settings import Settings
    from api.wiring import Services

    base = tmp_path_factory.mktemp("cluster")
    name, url = postgres_server.create_unique_database("shared_state")
    home = golden.prepare(base, url, postgres_server=postgres_server)
    services = Services.build(Settings(home=home, database_url=url, master_key=golden.MASTER_KEY))
    workers = start_workers(3, home, url, golden.MASTER_KEY, SETTINGS)
    try:
        yield services, workers
    finally:
        for worker in workers:
            worker.stop()
        services.close()
        postgres_server.drop_database(name)


def _consent_request(services):
    """A registered client with a confirmed phone and an open LOAN-6 request (no review window)."""
    iin = client_with_held_key(services).iin
    number = phone()
    view = services.clients.register("mfo", TENANT, ClientRegistration(kind="individual", iin=iin, name="Test Client",
                                                                       phone=number))
    services.clients.confirm("mfo", TENANT, view.id, view.factors[0].id, last_code(services, number))
    services.clients.enrol("mfo", TENANT, view.id, FactorEnrolment(kind="biometric", reference="tsoid-1"))
    document = upload(services, iin, kind="consent")
    request = services.signing_requests.create("mfo", TENANT, document=document.id, client=view.id, level="B-B")
    return request, number


def test_the_sixth_wrong_code_locks_the_request_whichever_worker_receives_it(cluster) -> None:
    """One-time codes and their failures are the registry's: six wrong codes spread over three workers lock
    the request, the right code is refused after that on every worker, and the code one worker sent is in
    the outbox every worker shows."""
    services, workers = cluster
    request, number = _consent_request(services)
    path = f"/client/signing-requests/{request.id}"
    token = {TOKEN_HEADER: request.token}
    status, body = workers[0].request("POST", f"{path}/factors/sms/start", b"", token)
    assert status == 200, body
    admin = AccessService(services.registry, services.clock).create_key("ops", "administrator", by="test").key
    status, body = workers[2].request("GET", f"/dev/sms-outbox?phone=%2B{number[1:]}", None, {"X-API-Key": admin})
    assert status == 200 and len(json.loads(body)) == 2   # the confirmation and the signing code, sent elsewhere
    right = last_code(services, number)
    wrong = [f"{(int(right) + n) % 10 ** 6:06d}" for n in range(1, 7)]
    answers = []
    for attempt, code in enumerate(wrong):
        status, body = workers[attempt % 3].request("POST", f"{path}/codes",
                                                    json.dumps({"factor": "sms", "code": code}).encode(), token)
        answers.append((status, json.loads(body)["code"]))
    assert answers == [(403, "factor-refused")] * 5 + [(423, "request-locked")]
    for worker in workers:
        status, body = worker.request("POST", f"{path}/codes", json.dumps({"factor": "sms", "code": right}).encode(),
                                      token)
        assert (status, json.loads(body)["code"]) == (423, "request-locked")
    seen = services.signing_requests.get(TENANT, request.id)
    assert seen.status == "locked" and seen.failures == 6


def test_a_rate_limit_holds_across_workers(cluster) -> None:
    """The public bucket (burst 6 here) is one bucket in the registry, not one per worker: six requests spread
    over three workers pass, the seventh is refused whichever worker gets it."""
    _services, workers = cluster
    statuses = [workers[n % 3].request("GET", "/ca")[0] for n in range(9)]
    assert statuses == [200] * 6 + [429] * 3


def test_a_job_failing_every_attempt_lands_in_dead_letter_shown_by_readyz_and_metrics(cluster) -> None:
    """A one-off job retried with backoff until its attempts run out is ``dead``, kept with its error, and
    every worker's /readyz and /metrics count it (readiness stays: one dead job is no reason to stop serving)."""
    services, workers = cluster
    calls = []

    def broken(payload) -> None:  # noqa: ANN001 - the job's payload
        calls.append(payload)
        raise RuntimeError("the receiving system refused it")

    queue = JobQueue(services.registry, services.clock, {"test.broken": broken},
                     policy=QueuePolicy(first_retry=dt.timedelta(milliseconds=100), max_attempts=3))
    job = queue.enqueue(NewJob.of("test.broken", what="a report"))
    deadline = time.monotonic() + 10
    while queue.job(job).status != "dead":
        assert time.monotonic() < deadline, queue.job(job)
        queue.run_due()
        time.sleep(0.05)
    dead = queue.job(job)
    assert calls == [{"what": "a report"}] * 3 and dead.attempts == 3
    assert dead.last_error == "RuntimeError: the receiving system refused it"
    assert [j.id for j in queue.dead("test.broken")] == [job]
    time.sleep(1.1)   # past the workers' readiness cache
    status, body = workers[1].request("GET", "/readyz")
    assert status == 200, body
    assert json.loads(body)["checks"]["queue"]["jobs"]["dead"] == 1
    admin = AccessService(services.registry, services.clock).create_key("scraper", "administrator", by="test").key
    status, metrics = workers[2].request("GET", "/metrics", None, {"X-API-Key": admin})
    assert status == 200 and 'qoltanba_jobs{state="dead"} 1.0' in metrics.decode()


class _Receiver(BaseHTTPRequestHandler):
    """The MFO's webhook receiver: accepts each delivery id once; holds the very first request it gets."""

    accepted: list[str]
    held: list[tuple[str, int]]
    release: threading.Event

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        self.rfile.read(int(self.headers["Content-Length"]))
        delivery = self.headers["X-Qoltanba-Delivery"]
        if not self.held:
            self.held.append((delivery, self.client_address[1]))
            self.release.wait(15)   # the worker sending it is killed meanwhile; nothing is accepted
            self.send_response(503)
            self.end_headers()
            return
        self.accepted.append(delivery)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002 - quiet
        pass


def test_each_webhook_event_is_delivered_once_even_when_a_worker_is_killed_mid_delivery(cluster) -> None:
    """Five events; the worker sending the first is SIGKILLed while the receiver holds it; once its lease runs
    out another worker delivers it with the same delivery id. The receiver accepts each event exactly once,
    and nothing more arrives afterwards."""
    services, workers = cluster
    handler = type("Receiver", (_Receiver,), {"accepted": [], "held": [], "release": threading.Event()})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        services.webhooks.register("mfo", TENANT, f"http://127.0.0.1:{server.server_port}/hooks")
        requests = [_consent_request(services)[0] for _ in range(5)]
        with services.registry.transaction(readonly=True) as tx:
            deliveries = {d.public_id for r in requests for d in tx.webhook_deliveries.of_tenant(TENANT, subject=r.id)}
        assert len(deliveries) == 5
        deadline = time.monotonic() + 10
        while not handler.held:
            assert time.monotonic() < deadline, "no worker sent the first delivery"
            time.sleep(0.05)
        (first, peer_port), = handler.held
        sender = owner_of_connection(peer_port, workers)
        assert sender is not None
        sender.kill()
        handler.release.set()
        deadline = time.monotonic() + LEASE + 10
        while set(handler.accepted) != deliveries:
            assert time.monotonic() < deadline, (handler.accepted, deliveries)
            time.sleep(0.05)
        time.sleep(LEASE + 0.5)   # a lease more: no second copy of anything arrives
        assert sorted(handler.accepted) == sorted(deliveries) and first in handler.accepted
        with services.registry.transaction(readonly=True) as tx:
            rows = [d for r in requests for d in tx.webhook_deliveries.of_tenant(TENANT, subject=r.id)]
        assert {d.status for d in rows} == {"delivered"}
        assert {d.public_id: d.attempts for d in rows}[first] == 2   # the killed attempt counted
    finally:
        handler.release.set()
        server.shutdown()
        server.server_close()


def test_serials_crl_numbers_and_tsa_serials_stay_unique_when_several_processes_issue_at_once(cluster) -> None:
    """Three processes issue certificates, time-stamp and publish the national CA's CRLs side by side on the
    same registry: every certificate serial, TSA serial and CRL number is used once (RFC 5280 §5.2.3: CRL
    numbers increase; RFC 3161 §2.4.2: each token's serial is unique)."""
    from tests.support.cluster import issue_stamp_publish

    services, _workers = cluster
    # Forked: the children have the modules imported already (each opens its own connections, never the
    # parent's), so the three start within a second of each other.
    context = multiprocessing.get_context("fork")
    start_at = time.time() + 1.5
    arguments = [(str(services.settings.home), services.settings.database_url, golden.MASTER_KEY, start_at, 5)] * 3
    with context.Pool(3) as pool:
        results = pool.starmap(issue_stamp_publish, arguments, chunksize=1)
    serials = [s for r in results for s in r[0]]
    stamps = [s for r in results for s in r[1]]
    crls = [n for r in results for n in r[2]]
    assert len(serials) == len(set(serials)) == 15
    assert len(stamps) == len(set(stamps)) == 15
    assert len(crls) == len(set(crls)) >= 15
    for _serials, _stamps, numbers in results:
        assert numbers == sorted(numbers)   # each process sees its CRL numbers only grow


def test_the_embedded_default_one_qoltanba_serve_on_sqlite_runs_the_scheduled_jobs(tmp_path) -> None:
    """What `make run` starts (one `qoltanba serve`, the SQLite registry): the schedules are rows, the catch-up
    jobs ran once at start, and /readyz counts the queue."""
    import os
    import sqlite3

    from tests.support.cluster import ROOT
    from tests.support.server import Home, free_port, running_server

    database = tmp_path / "registry.db"
    path = golden.prepare(tmp_path, f"sqlite:///{database}")   # what `qoltanba init` makes, copied
    port = free_port()
    home = Home(path, port, {**os.environ, "QOLTANBA_HOME": str(path), "QOLTANBA_MASTER_KEY": golden.MASTER_KEY,
                             "QOLTANBA_DATABASE_URL": f"sqlite:///{database}", "PYTHONPATH": str(ROOT),
                             "QOLTANBA_BASE_URL": f"http://127.0.0.1:{port}"})
    with running_server(home, serve=True):
        deadline = time.monotonic() + 10
        while True:
            status, body = _get(home.url + "/readyz")
            if status == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert status == 200, body
        jobs = body["checks"]["queue"]["jobs"]
        assert jobs["dead"] == 0 and jobs["running"] == 0 and jobs["queued"] >= 6
    with sqlite3.connect(database) as connection:
        rows = dict(connection.execute("SELECT name, status || ':' || coalesce(last_error, '') FROM jobs "
                                       "WHERE name IS NOT NULL").fetchall())
        ran = {name for (name,) in connection.execute("SELECT name FROM jobs WHERE run_at > created_at")}
    assert {"crl-schedule", "audit-checkpoint", "requests-expiry", "requests-finish", "retention"} <= set(rows)
    assert set(rows.values()) == {"queued:"}   # none failed
    assert {"crl-schedule", "audit-checkpoint"} <= ran


def _get(url: str) -> tuple[int, dict]:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_every_background_query_has_an_index_none_scans_its_table(cluster) -> None:
    """The claim of due jobs and webhook deliveries, the expiry of requests and the finishing of interrupted
    ones: with sequential scans priced out, PostgreSQL's plan for each reads an index, never a whole table
    (signing_requests above all, which the webhook dispatcher used to scan every second)."""
    from sqlalchemy import event

    services, _workers = cluster
    now = services.clock.now()
    seen: list[tuple[str, object]] = []

    def capture(_conn, _cursor, statement, parameters, _context, _many) -> None:  # noqa: ANN001
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    engine = services.database.engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        with services.registry.transaction() as tx:
            tx.jobs.claimable(now, 10)
            tx.webhook_deliveries.due(now, 20)
            tx.signing_requests.open_expired(now)
            tx.signing_requests.signed_before(now)
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert len(seen) == 4
    # On tables this small the planner may take either of signing_requests' two status indexes; without them
    # it would walk the primary key (a whole-table scan in the key's order).
    indexes = ["ix_jobs_status_run_at", "ix_webhook_deliveries_status_next", "ix_signing_requests_status_",
               "ix_signing_requests_status_"]
    with engine.connect() as connection:
        connection.exec_driver_sql("SET enable_seqscan = off")
        for (statement, parameters), index in zip(seen, indexes, strict=True):
            plan = "\n".join(r[0] for r in connection.exec_driver_sql("EXPLAIN " + statement, parameters))
            assert "Seq Scan" not in plan and index in plan, plan
