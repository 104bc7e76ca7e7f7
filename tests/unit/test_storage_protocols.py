"""The registry satisfies each service's narrow storage Protocol (Boulder's per-role storage interfaces).

No type checker runs in CI, so this checks structurally what one would: every
method a Protocol names exists on the repository the transaction hands out,
with the same parameters.
"""

from __future__ import annotations

import inspect
import typing

import pytest

from ca import publication, responder, revocation
from registry import Registry, RegistryTransaction

STORES = [(revocation.RevocationStore, revocation.RevocationStorage),
          (responder.OCSPStore, responder.OCSPStorage),
          (publication.CRLStore, publication.CRLStorage)]


def _members(protocol: type) -> dict[str, object]:
    return {name: value for name, value in vars(protocol).items()
            if not name.startswith("_") and (callable(value) or isinstance(value, property))}


def _same_parameters(wanted, actual) -> bool:  # noqa: ANN001 - two callables
    expected = [(p.name, p.kind) for p in inspect.signature(wanted).parameters.values()]
    given = [(p.name, p.kind) for p in inspect.signature(actual).parameters.values()]
    return given[:len(expected)] == expected and all(
        p.default is not inspect.Parameter.empty for p in list(inspect.signature(actual).parameters.values())[len(expected):])


@pytest.mark.parametrize(("store", "storage"), STORES, ids=["revocation", "ocsp", "crl"])
def test_a_registry_transaction_is_the_store_each_service_declares(store, storage):
    tx = RegistryTransaction(None)  # type: ignore[arg-type] - repositories do not touch the connection when made
    for name, member in _members(store).items():
        assert hasattr(tx, name), f"RegistryTransaction has no {name}"
        if isinstance(member, property):
            repository = getattr(tx, name)
            wanted = typing.get_type_hints(member.fget)["return"]
            for method, declared in _members(wanted).items():
                assert _same_parameters(declared, getattr(type(repository), method)), f"{name}.{method}"
        else:
            assert _same_parameters(member, getattr(RegistryTransaction, name)), name
    assert _same_parameters(storage.transaction, Registry.transaction.__wrapped__)
