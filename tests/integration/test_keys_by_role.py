"""Keys held by role (issue 21): each component reaches the key it signs with and no other.

The TSA, the OCSP responder (one delegated key per centre), the CRL
publisher (each centre's CA key), the audit checkpoints and the signing
service (the MFO's seal, clients' held keys) get signers made in the wiring.
None of them holds the key backend or the hierarchy's bootstrap: walking
everything a component holds finds the backend only inside the ``KeySigner``
of each key it may use.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ca.bootstrap import Bootstrap
from ca.ceremony import CAKeyCeremony
from ca.errors import ConflictError
from ca.policy import CENTRES
from keys import KeyBackend, KeySigner
from signing.factors.held_keys import HeldKeys
from signing.tenants import SealKeys, SealUnusable, TenantSeals
from tests.support.tenants import ensure_tenant


def _reachable(component: object) -> tuple[set[str], list[str]]:
    """The key handles a component can sign with, and any way to a backend other than through one key.

    Walks the project's objects a component holds (attributes, slots, containers); a ``KeySigner``
    is one key and is not entered; the registry, the clock and third-party objects hold no key.
    """
    handles: set[str] = set()
    leaks: list[str] = []
    seen: set[int] = set()

    def walk(obj: object, path: str) -> None:
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, KeySigner):
            handles.add(obj.handle)
            return
        if isinstance(obj, (KeyBackend, Bootstrap, CAKeyCeremony, HeldKeys, SealKeys)):
            leaks.append(f"{path}: {type(obj).__name__}")
            return
        if callable(obj) and getattr(obj, "__closure__", None):
            leaks.append(f"{path}: a closure")   # what a signer found its key with, kept after binding
            return
        if isinstance(obj, dict):
            for key, value in obj.items():
                walk(value, f"{path}[{key!r}]")
            return
        if isinstance(obj, (list, tuple, set, frozenset)):
            for i, value in enumerate(obj):
                walk(value, f"{path}[{i}]")
            return
        module = type(obj).__module__.split(".")[0]
        if module not in ("ca", "signing", "keys", "api"):
            return
        fields = dict(getattr(obj, "__dict__", {}))
        for cls in type(obj).__mro__:
            for name in getattr(cls, "__slots__", ()):
                if hasattr(obj, name):
                    fields[name] = getattr(obj, name)
        for name, value in fields.items():
            walk(value, f"{path}.{name}")

    walk(component, type(component).__name__)
    return handles, leaks


def test_the_tsa_holds_its_own_key_and_no_other(services) -> None:
    tsa = services.tsa
    tsa.stamp(b"\x00" * 32)
    handles, leaks = _reachable(tsa)
    assert handles == {services.hierarchy.service_certificate("tsa").key_handle} and not leaks, leaks


def test_the_responder_holds_the_delegated_responder_keys_and_no_other(services) -> None:
    responder = services.responder
    for code in CENTRES:
        responder._signer(code)   # noqa: SLF001 - bind every centre's responder key
    handles, leaks = _reachable(responder)
    assert handles == {services.hierarchy.service_certificate(f"ocsp-{code}").key_handle for code in CENTRES}
    assert not leaks, leaks
    ca_keys = {services.hierarchy.issuing_ca(code).key_handle for code in CENTRES}
    assert not handles & ca_keys      # a delegated responder (RFC 6960 §4.2.2.2), never a CA key


def test_the_crl_publisher_holds_the_centres_keys_and_no_other(services) -> None:
    publisher = services.publisher
    for code in CENTRES:
        publisher.publish(code)
    handles, leaks = _reachable(publisher)
    assert handles == {services.hierarchy.issuing_ca(code).key_handle for code in CENTRES} and not leaks, leaks
    for code in CENTRES:
        assert publisher.keys[code].handle == services.hierarchy.issuing_ca(code).key_handle


def test_the_audit_checkpoints_hold_the_audit_key_and_the_tsa_and_no_other(services) -> None:
    checkpoints = services.audit_checkpoints
    assert checkpoints.checkpoint() is not None
    handles, leaks = _reachable(checkpoints)
    assert handles == {services.hierarchy.service_certificate("audit").key_handle,
                       services.hierarchy.service_certificate("tsa").key_handle} and not leaks, leaks


def test_the_signing_service_holds_no_key_backend(services) -> None:
    """Each tenant's seal and clients' held keys are reached through their own signers, built in the wiring."""
    service = services.signing
    assert isinstance(service.seals, TenantSeals) and isinstance(service.held_keys, HeldKeys)
    assert not any(isinstance(value, KeyBackend) for value in vars(service).values())
    ensure_tenant(services, "keys-alpha")
    with services.registry.transaction(readonly=True) as tx:
        tenant = tx.tenants.by_code("keys-alpha")
        seal = tx.certificates.by_holder("tenant:keys-alpha")[0]
    # The seal's signer signs with the key of the tenant's seal certificate and refuses any other (the TSA's, say).
    tsa = services.hierarchy.service_certificate("tsa")
    posing = SimpleNamespace(code="keys-alpha", seal_key_handle=tsa.key_handle, seal_serial=tenant.seal_serial,
                             seal_der=tenant.seal_der)
    with pytest.raises(SealUnusable):
        service.seals.keys.signer(posing)
    assert service.seals.keys.signer(tenant).handle == tenant.seal_key_handle == seal.key_handle
    # A client's held-key signer is never a tenant's seal nor a service's.
    with pytest.raises(ConflictError):
        service.held_keys.signer(seal)
    with pytest.raises(ConflictError):
        service.held_keys.signer(tsa)


def test_collaborators_receive_the_hierarchy_not_a_hub(services) -> None:
    """Registry, clock and a narrow view of the hierarchy: nothing that makes keys or signs with any."""
    for component in (services.retention, services.catalogue, services.signing_requests, services.our_hierarchy):
        assert _reachable(component) == (set(), []), type(component).__name__
    # The enrolment check asks our responder for status (through the validation collector), nothing more.
    assert not any(isinstance(value, (KeyBackend, Bootstrap, CAKeyCeremony))
                   for value in vars(services.client_certificates).values())
    # Revocation drives the publisher and the responder (their keys, through them), and nothing else.
    for code in CENTRES:
        services.revocations.publisher.publish(code)
        services.responder._signer(code)   # noqa: SLF001 - bind every key first: then no lookup is left
    handles, leaks = _reachable(services.revocations)
    assert not leaks, leaks
    assert handles <= {services.hierarchy.issuing_ca(code).key_handle for code in CENTRES} | {
        services.hierarchy.service_certificate(f"ocsp-{code}").key_handle for code in CENTRES}
