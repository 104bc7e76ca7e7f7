"""Typed contracts between layers (issue 21, item 4), kept by inspecting annotations.

A service of ``ca/`` or ``signing/`` (a class that holds the registry, or
works in its caller's unit of work: a method takes ``tx``) takes and
returns dataclasses, pydantic models, enums and plain values, never a bare
``dict`` or ``Mapping``: the edges (api/http, api/cli) build the commands
and call ``as_json()``. Each signing service is typed against the narrow
storage Protocol declared in its own module, and the registry's
transaction provides every method those Protocols name, with the same
parameters (Boulder's per-role storage interfaces).

No type checker runs in CI, so this checks structurally what one would.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import typing

import pytest

from registry import Registry, RegistryTransaction
from signing.documents import service as documents
from signing.factors import authorisation, client_certificates, clients, otp
from signing.requests import completion, evidence, lifecycle, proofs
from signing.requests import service as signing_service
from signing.webhooks import service as webhooks

BARE = re.compile(r"\b(dict|Dict|Mapping|MutableMapping)\b")

# Taking or returning a bare mapping on purpose, each with its reason. The list only shrinks: a method
# fixed but still listed fails too. Dual control is the one generic mechanism: a request's parameters are
# the JSON document the second administrator approves and the audit log keeps, and each action parses
# them itself (its ``check`` lists every problem) into the typed call it makes (ca/dual_control.py).
KNOWN = {
    "ca.approvals.DualControl.request": "the action's parameters, the JSON document the approver sees",
}

# (the service, the storage Protocol its registry is typed as, the unit of work that storage hands out)
STORAGES = [
    (clients.ClientService, clients.ClientStorage, clients.ClientStore),
    (client_certificates.ClientCertificates, client_certificates.CertificateStorage,
     client_certificates.CertificateStore),
    (lifecycle.SigningRequests, lifecycle.RequestStorage, lifecycle.RequestStore),
    (proofs.FactorProofs, proofs.ProofStorage, proofs.ProofStore),
    (completion.ClientSigning, completion.CompletionStorage, completion.CompletionStore),
    (evidence.EvidenceService, evidence.EvidenceStorage, evidence.EvidenceStore),
    (signing_service.SigningService, signing_service.SigningStorage, signing_service.SigningStore),
    (documents.DocumentService, documents.DocumentStorage, documents.DocumentStore),
    (webhooks.WebhookService, webhooks.WebhookStorage, webhooks.WebhookStore),
]
# Units of work handed in by the caller (``tx``), and what each function or service that takes one declares.
STORES = [otp.CodeStore, authorisation.AuthorisationStore, webhooks.OutboxStore]


def _modules():
    for package in ("ca", "signing"):
        root = importlib.import_module(package)
        yield root
        for info in pkgutil.walk_packages(root.__path__, package + "."):
            yield importlib.import_module(info.name)


def _holds_registry(cls: type) -> bool:
    init = cls.__dict__.get("__init__")
    if init is not None and "registry" in inspect.signature(init).parameters:
        return True
    if "registry" in cls.__dict__.get("__annotations__", {}):
        return True
    return any("tx" in inspect.signature(f).parameters for n, f in vars(cls).items()
               if inspect.isfunction(f) and not n.startswith("_"))


def _services() -> dict[str, type]:
    found = {}
    for module in _modules():
        for cls in vars(module).values():
            if (inspect.isclass(cls) and cls.__module__ == module.__name__ and not getattr(cls, "_is_protocol", False)
                    and any(_holds_registry(k) for k in cls.__mro__ if k.__module__.startswith(("ca", "signing")))):
                found[f"{cls.__module__}.{cls.__qualname__}"] = cls
    return found


def _bare(cls: type) -> dict[str, list[str]]:
    """Public methods whose annotations name a bare dict or Mapping: which parameters (and "return")."""
    bare = {}
    for name, method in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_"):
            continue
        signature = inspect.signature(method)
        found = [p.name for p in signature.parameters.values() if BARE.search(str(p.annotation))]
        found += ["return"] if BARE.search(str(signature.return_annotation)) else []
        if found:
            bare[name] = found
    return bare


def test_the_signing_and_ca_services_are_found() -> None:
    """The scan sees the services it is about (else the rule below would hold of nothing)."""
    services = _services()
    for expected in ("signing.factors.clients.ClientService", "signing.requests.completion.ClientSigning",
                     "signing.requests.proofs.FactorProofs", "signing.requests.service.SigningService",
                     "signing.factors.authorisation.AuthorisationService", "ca.revocation.RevocationService",
                     "signing.webhooks.service.WebhookService", "signing.documents.service.DocumentService"):
        assert expected in services


def test_no_service_takes_or_returns_a_bare_mapping() -> None:
    """Commands and results are dataclasses (``as_json()`` at the edge); the known exceptions only shrink."""
    offending = {f"{qualname}.{method}": where for qualname, cls in _services().items()
                 for method, where in _bare(cls).items()}
    assert sorted(set(offending) - set(KNOWN)) == [], offending
    assert sorted(set(KNOWN) - set(offending)) == [], "typed now: drop these from KNOWN"


def test_the_bare_mapping_check_would_catch_one() -> None:
    """The check itself: a service taking a dict, or returning a Mapping, is caught."""
    class Taking:
        def __init__(self, registry: object) -> None:
            self.registry = registry

        def register(self, actor: str, payload: dict) -> str:
            return actor

        def show(self, request_id: str) -> typing.Mapping[str, object]:
            return {}

    assert _bare(Taking) == {"register": ["payload"], "show": ["return"]}


@pytest.mark.parametrize("method", [
    clients.ClientService.register, clients.ClientService.enrol, proofs.FactorProofs.show, proofs.FactorProofs.start,
    proofs.FactorProofs.submit_code, proofs.FactorProofs.submit_assertion, completion.ClientSigning.confirm,
    completion.ClientSigning.start_eds, completion.ClientSigning.submit_eds_signature,
], ids=lambda m: m.__qualname__)
def test_the_client_sides_contracts_are_dataclasses(method) -> None:  # noqa: ANN001
    """What issue 21 named: ClientService's commands, the client steps' results (and no RegistryTransaction)."""
    hints = typing.get_type_hints(method)
    for name, hint in hints.items():
        for kind in typing.get_args(hint) or (hint,):
            if kind is type(None) or kind in (str, bytes, int, bool):
                continue
            assert hasattr(kind, "__dataclass_fields__") or getattr(kind, "_is_protocol", False), (name, hint)
            assert kind is not RegistryTransaction


def _members(protocol: type) -> dict[str, object]:
    """Every method and property a Protocol names, its bases' included."""
    members: dict[str, object] = {}
    for klass in reversed(protocol.__mro__):
        if getattr(klass, "_is_protocol", False) and klass is not typing.Protocol:
            members |= {name: value for name, value in vars(klass).items()
                        if not name.startswith("_") and (callable(value) or isinstance(value, property))}
    return members


def _same_parameters(wanted, actual) -> bool:  # noqa: ANN001 - two callables
    expected = [(p.name, p.kind) for p in inspect.signature(wanted).parameters.values()]
    given = list(inspect.signature(actual).parameters.values())
    return [(p.name, p.kind) for p in given[:len(expected)]] == expected and all(
        p.default is not inspect.Parameter.empty for p in given[len(expected):])


def _provides(store: type) -> None:
    tx = RegistryTransaction(None)  # type: ignore[arg-type] - repositories do not touch the connection when made
    for name, member in _members(store).items():
        assert hasattr(tx, name), f"RegistryTransaction has no {name}"
        if isinstance(member, property):
            wanted = typing.get_type_hints(member.fget)["return"]
            for method, declared in _members(wanted).items():
                assert _same_parameters(declared, getattr(type(getattr(tx, name)), method)), f"{name}.{method}"
        else:
            assert _same_parameters(member, getattr(RegistryTransaction, name)), name


@pytest.mark.parametrize(("service", "storage", "store"), STORAGES, ids=lambda x: getattr(x, "__name__", x))
def test_each_signing_service_is_typed_against_its_own_storage_protocol(service, storage, store) -> None:
    """Boulder's per-role storage: the service names its Protocol, declared in its own module; the registry is it."""
    hints = typing.get_type_hints(service) | typing.get_type_hints(service.__init__)
    assert hints["registry"] is storage
    assert storage.__module__ == store.__module__ == service.__module__
    assert typing.get_type_hints(storage.transaction)["return"].__args__ == (store,)
    assert _same_parameters(storage.transaction, Registry.transaction.__wrapped__)
    _provides(store)
    # Narrow: a few of the transaction's repositories, not all of them.
    assert len([m for m in _members(store).values() if isinstance(m, property)]) < 20


@pytest.mark.parametrize("store", STORES, ids=lambda s: s.__qualname__)
def test_a_registry_transaction_is_each_unit_of_work_a_caller_hands_in(store) -> None:
    _provides(store)


class _MisnamedRows(typing.Protocol):
    def of_client(self, client: int, *, kind: str | None = None) -> list: ...


class _MisnamedStore(typing.Protocol):
    @property
    def client_factors(self) -> _MisnamedRows: ...


def test_the_structural_check_would_catch_a_missing_or_different_method() -> None:
    with pytest.raises(AssertionError, match="client_factors.of_client"):
        _provides(_MisnamedStore)
