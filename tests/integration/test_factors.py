"""The client's will against attack (issue 5), service level, on SQLite and PostgreSQL.

Brute force and replays of codes, TOTP and assertions; an authorisation
carried to another document; the audit trail; webhooks delivered to a real
HTTP server on loopback, signed, retried and idempotent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ca.errors import ConflictError
from signing.factors.authorisation import NotAuthorised
from signing.factors.enrolment import ClientRegistration, FactorEnrolment
from signing.factors import FactorRefused, RequestLocked, Throttled, totp_code
from signing.requests.proofs import ClientContext
from signing.webhooks import WebhookPolicy
from tests.support import factories as f
from tests.support.factors import enrolment_token, last_code, phone, services  # noqa: F401 - fixture
from tests.support.signing import TENANT, client_with_held_key, upload

CTX = ClientContext(ip="198.51.100.4", user_agent="SigningPage/1.0")


def enrolled(svc, iin: str, *, biometric: bool = True, totp: bool = False):
    """A registered client with a key the service holds, phone confirmed; biometrics and TOTP enrolled when asked.

    Returns (client id, phone, TOTP secret).
    """
    if not held_key_of(svc, iin):
        client_with_held_key(svc, iin=iin)
    number = phone()
    view = svc.clients.register("mfo", TENANT, ClientRegistration(kind="individual", iin=iin, name="Test Client",
                                                                  phone=number))
    svc.clients.confirm("mfo", TENANT, view.id, view.factors[0].id, last_code(svc, number))
    if biometric:
        svc.clients.enrol("mfo", TENANT, view.id, FactorEnrolment(kind="biometric", reference="tsoid-1"))
    secret = None
    if totp:
        # Issue 15: the seed reaches the client through the link sent to their phone, never the MFO.
        factor = svc.clients.enrol("mfo", TENANT, view.id, FactorEnrolment(kind="totp"))
        token = enrolment_token(svc, number, factor.id)
        secret = svc.own_enrolment.show(factor.id, token).secret
        svc.own_enrolment.confirm(factor.id, token, totp_code(secret, svc.clock.now()))
        svc.clock.advance(dt.timedelta(seconds=30))
    return view.id, number, secret


def held_key_of(svc, iin: str) -> bool:
    with svc.registry.transaction(readonly=True) as tx:
        return any(r.key_handle for r in tx.certificates.search(iin=iin))


def consent(svc, iin: str, client: str):
    """A LOAN-6 document (no review window) and its open signing request."""
    document = upload(svc, iin, kind="consent")
    return document, svc.signing_requests.create("mfo", TENANT, document=document.id, client=client, level="B-B")


def answer(svc, request, iin: str, **kwargs) -> str:
    challenge = svc.client_signing.start(request.id, request.token, "biometric", CTX)
    kwargs.setdefault("at", svc.clock.now())
    return svc.biometric_simulator.assertion(iin=iin, challenge=challenge.challenge,
                                             movements=challenge.movements, **kwargs)


def _replaced(svc, request, iin: str) -> str:
    """An assertion for a challenge that a newer challenge replaced."""
    old = svc.client_signing.start(request.id, request.token, "biometric", CTX)
    svc.client_signing.start(request.id, request.token, "biometric", CTX)
    return svc.biometric_simulator.assertion(iin=iin, challenge=old.challenge, movements=old.movements,
                                             at=svc.clock.now())


def audit(svc) -> list:
    with svc.registry.transaction(readonly=True) as tx:
        return tx.audit.entries(limit=100_000)


def test_brute_force_the_6th_wrong_code_locks_the_request(services) -> None:
    """Five wrong codes are tolerated; the sixth locks the request, and then even the right code is refused."""
    svc = services
    iin = f.iin()
    client, number, _ = enrolled(svc, iin)
    _, request = consent(svc, iin, client)
    svc.client_signing.start(request.id, request.token, "sms", CTX)
    right = last_code(svc, number)
    wrong = [f"{(int(right) + n) % 10 ** 6:06d}" for n in range(1, 7)]
    for attempt, code in enumerate(wrong[:5], start=1):
        with pytest.raises(FactorRefused) as refused:
            svc.client_signing.submit_code(request.id, request.token, "sms", code, CTX)
        assert f"{5 - attempt} more failed attempts" in refused.value.problems[0].message
    with pytest.raises(RequestLocked):
        svc.client_signing.submit_code(request.id, request.token, "sms", wrong[5], CTX)
    with pytest.raises(RequestLocked):
        svc.client_signing.submit_code(request.id, request.token, "sms", right, CTX)
    with pytest.raises(RequestLocked):
        svc.client_signing.start(request.id, request.token, "biometric", CTX)
    status = svc.signing_requests.get(TENANT, request.id)
    assert status.status == "locked" and status.failures == 6 and status.proven == ()
    entries = audit(svc)
    assert sum(e.action == "factor.failed" for e in entries) == 6
    assert sum(e.action == "signing_request.locked" for e in entries) == 1
    # No audit entry carries a code or the token.
    text = json.dumps([e.details for e in entries])
    assert right not in text and not any(c in text for c in wrong) and request.token not in text


def test_a_replayed_code_is_refused(services) -> None:
    """An SMS code is bound to its request and document; a used TOTP code is refused; a replaced code too."""
    svc = services
    iin = f.iin()
    client, number, secret = enrolled(svc, iin, totp=True)
    _, first = consent(svc, iin, client)
    _, second = consent(svc, iin, client)
    svc.client_signing.start(first.id, first.token, "sms", CTX)
    code_for_first = last_code(svc, number)
    with pytest.raises(Throttled):
        svc.client_signing.start(first.id, first.token, "sms", CTX)      # resend throttled
    svc.client_signing.start(second.id, second.token, "sms", CTX)
    with pytest.raises(FactorRefused, match="code"):                     # bound to the first request
        svc.client_signing.submit_code(second.id, second.token, "sms", code_for_first, CTX)
    svc.clock.advance(dt.timedelta(seconds=61))
    svc.client_signing.start(first.id, first.token, "sms", CTX)          # a new code replaces the old one
    with pytest.raises(FactorRefused) as replaced:
        svc.client_signing.submit_code(first.id, first.token, "sms", code_for_first, CTX)
    assert "replaced" in replaced.value.problems[0].message
    svc.client_signing.submit_code(first.id, first.token, "sms", last_code(svc, number), CTX)
    with pytest.raises(ConflictError, match="proven already"):
        svc.client_signing.submit_code(first.id, first.token, "sms", last_code(svc, number), CTX)

    code = totp_code(secret, svc.clock.now())
    svc.client_signing.submit_code(first.id, first.token, "totp", code, CTX)
    with pytest.raises(FactorRefused) as used:
        svc.client_signing.submit_code(second.id, second.token, "totp", code, CTX)
    assert "already used" in used.value.problems[0].message
    # The TOTP seed is kept sealed: not in the database in clear.
    with svc.registry.transaction(readonly=True) as tx:
        (factor,) = [x for x in tx.client_factors.of_client(tx.clients.by_public_id(TENANT, client).id)
                     if x.kind == "totp"]
        assert secret.encode() not in factor.secret


def test_a_replayed_assertion_another_iin_another_challenge_or_a_stale_one_is_refused(services) -> None:
    """LOAN-4: an assertion answers our latest challenge, for this client, freshly, and counts once."""
    svc = services
    iin = f.iin()
    client, _number, _ = enrolled(svc, iin)
    _, request = consent(svc, iin, client)
    refusals = [("another person", lambda: answer(svc, request, f.iin())),
                ("older than 5 minutes", lambda: answer(svc, request, iin,
                                                        at=svc.clock.now() - dt.timedelta(minutes=6))),
                ("did not match", lambda: answer(svc, request, iin, match=False)),
                ("expired or was replaced", lambda: _replaced(svc, request, iin))]
    for expected, make in refusals:
        with pytest.raises(FactorRefused) as refused:
            svc.client_signing.submit_assertion(request.id, request.token, make(), CTX)
        (problem,) = refused.value.problems
        reasons = problem.message.rsplit("; ", 1)[0]       # then "N more failed attempts are tolerated…"
        assert expected in reasons and ";" not in reasons, problem
    good = answer(svc, request, iin)
    svc.client_signing.submit_assertion(request.id, request.token, good, CTX)
    assert [p["factor"] for p in svc.signing_requests.get(TENANT, request.id).proven] == ["biometric"]

    _, other = consent(svc, iin, client)
    svc.client_signing.start(other.id, other.token, "biometric", CTX)
    with pytest.raises(FactorRefused) as replayed:
        svc.client_signing.submit_assertion(other.id, other.token, good, CTX)
    assert "used already" in replayed.value.problems[0].message
    impostor = __import__("signing.factors", fromlist=["x"]).BiometricProviderSimulator()
    challenge = svc.client_signing.start(other.id, other.token, "biometric", CTX)
    forged = impostor.assertion(iin=iin, challenge=challenge.challenge, movements=challenge.movements,
                                at=svc.clock.now())
    with pytest.raises(FactorRefused, match="biometric"):
        svc.client_signing.submit_assertion(other.id, other.token, forged, CTX)


def test_an_authorisation_for_one_document_cannot_sign_another(services) -> None:
    """The factor check's authorisation is bound to one document state and signer, and used once."""
    svc = services
    held = client_with_held_key(svc)
    client, number, _ = enrolled(svc, held.iin)
    _, request = consent(svc, held.iin, client)
    other = upload(svc, held.iin, kind="consent")
    svc.client_signing.start(request.id, request.token, "sms", CTX)
    svc.client_signing.submit_code(request.id, request.token, "sms", last_code(svc, number), CTX)
    svc.client_signing.submit_assertion(request.id, request.token, answer(svc, request, held.iin), CTX)
    assert svc.client_signing.confirm(request.id, request.token, CTX).status == "sealed"
    with svc.registry.transaction(readonly=True) as tx:
        row = tx.signing_requests.by_public_id(TENANT, request.id)
        authorisation = tx.authorisations.by_public_id(TENANT, row.authorisation)
        assert authorisation.consumed_at is not None and authorisation.signer_serial == held.serial
        assert authorisation.document_sha256 == row.document_sha256
    with pytest.raises(NotAuthorised, match="no such authorisation for this document"):
        svc.signing.sign_with_client_key("mfo", TENANT, other.id, authorisation=row.authorisation)
    assert len(svc.documents.get(TENANT, other.id).versions) == 1
    actions = [e.action for e in audit(svc)]
    for action in ("signing.authorised", "factor.proven", "signing_request.signed", "signing_request.sealed",
                   "evidence.reported"):
        assert action in actions, action


def test_a_policy_change_is_audited_once(services, tmp_path) -> None:
    svc = services
    assert svc.record_signing_policy() is True
    assert svc.record_signing_policy() is False
    stricter = tmp_path / "policy.json"
    stricter.write_text(json.dumps({"codes": {"max_failures": 3}}))
    svc.settings.signing_policy_file = stricter
    del svc.__dict__["signing_policies"]
    assert svc.record_signing_policy() is True
    (entry,) = [e for e in audit(svc) if e.action == "signing.policy_changed"][-1:]
    assert entry.details["source"] == str(stricter) and entry.details["previous"]


class _Receiver(BaseHTTPRequestHandler):
    """The MFO backend's webhook: answers 500 to the first ``fail_first`` posts, then 200."""

    received: list = []
    fail_first = 1

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        type(self).received.append((dict(self.headers), body))
        status = 500 if len(type(self).received) <= type(self).fail_first else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def receiver():
    handler = type("Receiver", (_Receiver,), {"received": [], "fail_first": 1})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, handler
    server.shutdown()
    server.server_close()


def test_webhook_deliveries_are_hmac_signed_retried_with_backoff_and_idempotent(services, receiver) -> None:
    svc = services
    server, handler = receiver
    registration = svc.webhooks.register("mfo", TENANT, f"http://127.0.0.1:{server.server_port}/hooks")
    iin = f.iin()
    client, _number, _ = enrolled(svc, iin)
    _, request = consent(svc, iin, client)

    assert svc.webhooks.deliver_due() == 0                      # the first attempt answers 500
    assert len(handler.received) == 1
    assert svc.webhooks.deliver_due() == 0 and len(handler.received) == 1   # not due before the backoff
    svc.clock.advance(dt.timedelta(seconds=6))
    assert svc.webhooks.deliver_due() == 1
    assert svc.webhooks.deliver_due() == 0 and len(handler.received) == 2   # delivered once, never again
    (first_headers, first_body), (headers, body) = handler.received
    assert first_headers["X-Qoltanba-Delivery"] == headers["X-Qoltanba-Delivery"] and first_body == body
    for sent_headers, sent_body in handler.received:
        expected = hmac.new(registration.secret.encode(), sent_headers["X-Qoltanba-Timestamp"].encode() + b"."
                            + sent_body, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(sent_headers["X-Qoltanba-Signature"], "sha256=" + expected)
    event = json.loads(body)
    assert event["id"] == headers["X-Qoltanba-Delivery"] and event["event"] == "signing_request.status"
    assert event["data"]["request"] == request.id and event["data"]["status"] == "open"

    svc.signing_requests.cancel("mfo", TENANT, request.id)
    assert svc.webhooks.deliver_due() == 1
    cancelled = json.loads(handler.received[-1][1])
    assert cancelled["id"] != event["id"]
    assert (cancelled["data"]["previous"], cancelled["data"]["status"]) == ("open", "cancelled")

    # A receiver that never answers 2xx: retried with growing waits, then given up.
    handler.fail_first = 10 ** 6
    svc.webhooks.policy = WebhookPolicy(max_attempts=3)
    _, expiring = consent(svc, iin, client)
    waits = []
    for _ in range(3):
        svc.webhooks.deliver_due()
        with svc.registry.transaction(readonly=True) as tx:
            (row,) = [d for d in tx.webhook_deliveries.of_tenant(TENANT, subject=expiring.id)]
            waits.append((row.status, row.next_attempt_at - svc.clock.now()))
        svc.clock.advance(dt.timedelta(minutes=1))
    assert [w[0] for w in waits] == ["pending", "pending", "failed"]
    assert waits[1][1] > waits[0][1]


def test_an_open_request_expires_and_the_mfo_is_told(services) -> None:
    svc = services
    iin = f.iin()
    client, _number, _ = enrolled(svc, iin)
    _, request = consent(svc, iin, client)
    svc.clock.advance(svc.signing_policies.request_ttl)
    assert svc.signing_requests.expire_due() == 1
    assert svc.signing_requests.get(TENANT, request.id).status == "expired"
    with pytest.raises(ConflictError, match="expired"):
        svc.client_signing.start(request.id, request.token, "sms", CTX)


def test_LOAN7_the_phone_is_confirmed_by_its_sms_code_and_a_wrong_code_is_refused(services) -> None:
    """Registration: the phone carries signing codes only once its own code came back."""
    svc = services
    iin = f.iin()
    number = phone()
    view = svc.clients.register("mfo", TENANT, ClientRegistration(kind="individual", iin=iin, name="Test Client",
                                                                  phone=number))
    (sms,) = view.factors
    assert sms.status == "pending"
    right = last_code(svc, number)
    wrong = f"{(int(right) + 1) % 10 ** 6:06d}"
    for _ in range(svc.signing_policies.codes.max_failures):
        with pytest.raises(FactorRefused):
            svc.clients.confirm("mfo", TENANT, view.id, sms.id, wrong)
    # After the tolerated wrong tries the code is void: even the right one no longer confirms.
    with pytest.raises(FactorRefused):
        svc.clients.confirm("mfo", TENANT, view.id, sms.id, right)
    with pytest.raises(Throttled):
        svc.clients.resend("mfo", TENANT, view.id, sms.id)
    svc.clock.advance(dt.timedelta(seconds=61))
    svc.clients.resend("mfo", TENANT, view.id, sms.id)
    assert svc.clients.confirm("mfo", TENANT, view.id, sms.id, last_code(svc, number)).status == "active"
    with pytest.raises(ConflictError, match="registered this client already"):
        svc.clients.register("mfo", TENANT, ClientRegistration(kind="individual", iin=iin, name="Again", phone=number))


def test_the_sms_gateway_gets_each_message_as_json_with_its_bearer_token(receiver) -> None:
    from signing.factors import DeliveryFailed, WebhookSMSGateway

    server, handler = receiver
    handler.fail_first = 0
    gateway = WebhookSMSGateway(f"http://127.0.0.1:{server.server_port}/sms", token="gw-secret")
    message_id = gateway.send("alpha", "+77011234567", "Qoltanba: 123456 is your code")
    ((headers, body),) = handler.received
    assert headers["Authorization"] == "Bearer gw-secret" and headers["Idempotency-Key"] == message_id
    assert json.loads(body) == {"id": message_id, "tenant": "alpha", "to": "+77011234567",
                                "text": "Qoltanba: 123456 is your code"}
    handler.fail_first = 10 ** 6
    with pytest.raises(DeliveryFailed):
        gateway.send("alpha", "+77011234567", "again")


def test_a_factor_step_reads_its_document_once(services) -> None:
    """Issue 17 (fewer statements): the step checks the document and then shows it, from one read; the view
    it answers names the document all the same."""
    from sqlalchemy import event

    svc = services
    held = client_with_held_key(svc)
    client, number, _ = enrolled(svc, held.iin)
    document, request = consent(svc, held.iin, client)
    svc.client_signing.start(request.id, request.token, "sms", CTX)
    reads: list[str] = []

    def capture(_conn, _cursor, statement, *_rest) -> None:  # noqa: ANN001, ANN002
        if statement.lstrip().upper().startswith("SELECT") and "FROM documents" in statement:
            reads.append(statement)

    event.listen(svc.database.engine, "before_cursor_execute", capture)
    try:
        view = svc.client_signing.submit_code(request.id, request.token, "sms", last_code(svc, number), CTX)
    finally:
        event.remove(svc.database.engine, "before_cursor_execute", capture)
    assert len(reads) == 1, reads
    assert view.document.id == document.id and "sms" not in view.missing
