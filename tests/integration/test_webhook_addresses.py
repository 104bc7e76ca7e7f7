"""Where a webhook may point (issue 18, finding 6): never at link-local, cloud metadata or unusable addresses.

Registration (``PUT /webhook``) refuses such a URL with a 422 naming the
``url`` field and registers nothing; production refuses loopback and
private networks too, while embedded mode lets them through (the tests
deliver to a loopback server). Delivery resolves the host again and refuses
to connect when it now resolves to a forbidden address (DNS rebinding), or
when a forbidden URL is in the registry anyway.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from fastapi.testclient import TestClient

from signing.webhooks.addresses import AddressPolicy
from signing.webhooks import FAILED, PENDING, WebhookPolicy, WebhookService

TENANT = "hooks"
REFUSED_EVERYWHERE = [
    "http://169.254.169.254/latest",              # the finding: AWS, Google Cloud, Azure instance metadata
    "http://169.254.169.254:80/latest/meta-data/iam/security-credentials/",
    "http://2852039166/latest",                   # the same address written as one number
    "http://0xa9fea9fe/latest",                   # ... and in hexadecimal
    "http://[::ffff:169.254.169.254]/latest",     # ... and IPv4-mapped IPv6
    "http://169.254.170.2/v2/credentials",        # AWS ECS task metadata
    "http://[fd00:ec2::254]/latest",              # AWS IMDS over IPv6
    "http://100.100.100.200/latest/meta-data",    # Alibaba Cloud
    "http://metadata.google.internal/computeMetadata/v1/",
    "https://169.254.10.20/hook",                 # link-local
    "http://[fe80::1]/hook",
    "http://0.0.0.0:8000/hook",                   # unspecified
    "http://[::]/hook",
    "http://224.0.0.1/hook",                      # multicast
    "http://[ff02::1]/hook",
    "http://240.0.0.1/hook",                      # reserved
]
PRIVATE = ["http://127.0.0.1:9/hook", "http://localhost:9/hook", "http://[::1]:9/hook", "http://10.0.0.5/hook",
           "http://192.168.1.10/hook", "http://172.16.0.1/hook", "http://100.64.0.1/hook", "http://[fc00::1]/hook"]


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    from api.wiring import Services
    from api.settings import Settings

    services = Services.build(Settings(home=tmp_path_factory.mktemp("webhooks") / "home", master_key="66" * 32))
    services.migrate()
    services.bootstrap.initialise()   # issue 15: the MFO is a tenant, whose seal our national CA issues
    try:
        yield services
    finally:
        services.close()


def production(svc) -> WebhookService:  # noqa: ANN001 - api.wiring.Services
    """The webhook service as production mode builds it (api/wiring/), on the same registry."""
    return WebhookService(svc.registry, svc.clock, svc.webhooks.sealer, allow_http=False,
                          addresses=AddressPolicy(allow_private=False),
                          policy=WebhookPolicy(max_attempts=1))


def test_webhook_urls_of_link_local_or_metadata_addresses_are_refused_with_422_naming_url(svc) -> None:
    """Issue 18, finding 6: http://169.254.169.254/latest was accepted. Now 422 on url, and nothing registered."""
    from ca.access import AccessService
    from api.http.app import create_app

    from tests.support.tenants import ensure_tenant

    ensure_tenant(svc, TENANT)   # issue 15: a key names a registered tenant
    key = AccessService(svc.registry, svc.clock).create_key("hooks-mfo", "mfo", by="test", tenant=TENANT).key
    http = TestClient(create_app(services=svc), headers={"X-API-Key": key})
    for url in REFUSED_EVERYWHERE:
        answer = http.put("/webhook", json={"url": url})
        assert answer.status_code == 422, (url, answer.text)
        assert answer.headers["content-type"] == "application/problem+json"
        assert [p["field"] for p in answer.json()["problems"]] == ["url"], answer.text
        assert http.get("/webhook").status_code == 404, url          # nothing was registered
    # Embedded mode keeps loopback (the tests' receivers) and private networks.
    for url in PRIVATE:
        assert http.put("/webhook", json={"url": url}).status_code == 200, url
    # A name that does not resolve (yet) is accepted; delivery checks it.
    assert http.put("/webhook", json={"url": "https://hooks.example/notify"}).status_code == 200


def test_production_refuses_loopback_and_private_webhook_urls_too(svc) -> None:
    """Issue 18, finding 6: in production mode loopback, private and non-global addresses are refused as well."""
    from ca.errors import InvalidInput

    service = production(svc)
    for url in [u.replace("http://", "https://") for u in REFUSED_EVERYWHERE + PRIVATE]:
        with pytest.raises(InvalidInput) as refused:
            service.register("mfo", "production", url)
        assert [p.field for p in refused.value.problems] == ["url"], url
    assert service.registration("production") is None
    assert service.register("mfo", "production", "https://93.184.216.34/hook").url.endswith("/hook")


class _Receiver(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        type(self).received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:  # noqa: ANN002
        pass


@pytest.fixture
def receiver():
    handler = type("Receiver", (_Receiver,), {"received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, handler.received
    server.shutdown()
    server.server_close()


@dataclass(frozen=True)
class _Event:
    name: str = "signing_request.signed"
    subject: str = "test"

    def as_json(self) -> dict:
        return {"n": 1}


def _pending(svc, tenant: str) -> None:  # noqa: ANN001
    with svc.registry.transaction() as tx:
        svc.webhooks.enqueue(tx, tenant=tenant, event=_Event())


def _deliveries(svc, tenant: str) -> list[tuple[str, int, str | None]]:  # noqa: ANN001
    with svc.registry.transaction(readonly=True) as tx:
        return [(r.status, r.attempts, r.last_error) for r in tx.webhook_deliveries.of_tenant(tenant)]


def test_delivery_resolves_again_and_refuses_a_host_that_now_points_at_a_forbidden_address(svc, receiver) -> None:
    """Issue 18, finding 6: the address is checked again when delivering (DNS rebinding), and nothing is sent."""
    port, received = receiver
    # Registered while its name resolved to an allowed address (here: loopback, in embedded mode) ...
    svc.webhooks.register("mfo", "rebound", f"http://localhost:{port}/hook")
    _pending(svc, "rebound")
    # ... delivered where that address is now forbidden (production's rules): refused before connecting.
    refusing = production(svc)
    assert refusing.deliver_due() == 0 and received == []
    ((status, attempts, error),) = _deliveries(svc, "rebound")
    assert (status, attempts) == (FAILED, 1)                     # one attempt allowed here: failed for good
    assert "localhost resolves to" in error and "a loopback address" in error, error
    # Where the address is allowed the same kind of delivery goes through: the check refuses, not the route.
    _pending(svc, "rebound")
    assert svc.webhooks.deliver_due() == 1 and len(received) == 1


def test_a_forbidden_url_already_in_the_registry_is_never_delivered_to(svc) -> None:
    """Issue 18, finding 6: a metadata URL stored before this check (or by an insider) is refused at delivery."""
    svc.webhooks.register("mfo", "planted", "http://127.0.0.1:9/hook")
    with svc.registry.transaction() as tx:
        tx.webhook_endpoints.of_tenant("planted", for_update=True).url = "http://169.254.169.254/latest"
    _pending(svc, "planted")
    assert svc.webhooks.deliver_due() == 0
    ((status, attempts, error),) = _deliveries(svc, "planted")
    assert (status, attempts) == (PENDING, 1)                    # retried later, and refused again
    assert "169.254.169.254, a cloud metadata address" in error, error
