"""The certification centre's own register, sealed (LOAN-15, issue 16 item 3).

Certificates (live and archived), the issuance journal, the revocation
journal and the applications keep their holders' personal fields (the
certificate itself, subject DN, name, IIN, BIN, e-mail, organisation, the
application's form and attachments) only inside one ``sealed`` column:
AES-256-GCM under the installation's *register key*, whose version the
row's ``kek_version`` names. Unlike a tenant's rows (``registry.sealing``)
there is no per-row data key: one data key per register-key version, wrapped
by its key-encryption key in the key backend, unwrapped once per process
(issuance's hot path pays one AES-GCM and two HMACs, no backend call).

The register key is a reserved owner of the tenants' keyring
(:data:`REGISTER_OWNER` in ``tenant_keys``): same backends, same storage.
Lookups use keyed hashes (``iin_digest``, ``bin_digest``, and ``holder``
for a person); a service's or a tenant's own holder name (``service:tsa``,
``tenant:alpha``) stays in clear, as do serials, statuses, dates, the
profile, the carrier and the fingerprint: the OCSP responder, the CRL
publisher and the TSA read only those, never a sealed field.

A service's own certificate (TSA, OCSP, audit: holder ``service:<name>``)
names the CA's organisation, no person: its row is kept *open*
(``kek_version`` NULL, ``sealed`` holding the fields' encoding in clear, the
DER also in ``service_der``), so whether the home is initialised, and
``qoltanba verify``, are answered without the register key.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select, update

from registry.sealing import (
    REGISTER_CLASSES,
    RegisterKey,
    SealedDataUnreadable,
    SealSpec,
    encode_fields,
    seal_register_fields,
)

REGISTER_OWNER = "~register"          # never a tenant's code (tenant codes are [a-z0-9-])
_CLEAR_HOLDERS = ("service:", "tenant:")


def holder_value(key: RegisterKey | None, holder: str | None) -> str | None:
    """What ``certificates.holder`` stores: a service's or tenant's name as it is, a person's keyed hash."""
    if holder is None or holder.startswith(_CLEAR_HOLDERS):
        return holder
    if key is None:
        raise ValueError("a person's holder needs the register key")
    return key.digest("holder", holder)


def register_key(tx: Any) -> RegisterKey:
    """The register's active key, from the unit of work's sealer (the keyring the wiring gave)."""
    if tx.sealer is None:
        raise SealedDataUnreadable("the registry has no sealer: the CA register needs the register key (wiring)")
    return tx.sealer.register_key(tx.connection)


def open_values(spec: SealSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A service's certificate row, kept open: its fields encoded in clear, no key version, no digests."""
    values["sealed"] = encode_fields({name: values.pop(name, None) for name in spec.fields})
    values["kek_version"] = None
    for column, _kind in spec.digests.values():
        values[column] = None
    return values


def seal_values(key: RegisterKey, spec: SealSpec, values: dict[str, Any]) -> dict[str, Any]:
    """A Core insert's values (issuance's hot path) with ``spec``'s fields taken out and sealed, digests added:
    what :func:`registry.sealing.seal_register_fields` makes of an ORM row with these values."""
    fields = {name: values.pop(name, None) for name in spec.fields}
    values["sealed"], digests = seal_register_fields(key, spec, "/".join([str(values[column])
                                                                          for column in spec.identity]), fields)
    values["kek_version"] = key.version
    values.update(digests)
    return values


@dataclass(frozen=True)
class StaleRow:
    """A register row sealed under another version of the register key (rotation re-seals it)."""

    table: Any
    spec: SealSpec
    row_id: int
    aad: bytes
    kek_version: int
    sealed: bytes


def stale_rows(connection: Connection, not_version: int, limit: int = 200) -> Iterator[StaleRow]:
    """Up to ``limit`` rows per register table sealed under a version other than ``not_version``."""
    for cls in REGISTER_CLASSES:
        spec: SealSpec = cls.__sealed__
        table = cls.__table__
        columns = [table.c[c] for c in dict.fromkeys(("id", "kek_version", "sealed", *spec.identity))]
        stmt = (select(*columns).where(table.c.sealed.is_not(None), table.c.kek_version != not_version)
                .order_by(table.c.id).limit(limit))
        for row in connection.execute(stmt):
            yield StaleRow(table, spec, row.id, spec.aad(None, row), row.kek_version, row.sealed)


def store_resealed(connection: Connection, row: StaleRow, version: int, sealed: bytes) -> None:
    """The same fields sealed under ``version`` (only if no one re-sealed the row meanwhile)."""
    connection.execute(update(row.table).where(row.table.c.id == row.row_id,
                                               row.table.c.kek_version == row.kek_version)
                       .values(kek_version=version, sealed=sealed))


__all__ = ["REGISTER_OWNER", "StaleRow", "holder_value", "open_values", "register_key", "seal_values", "stale_rows",
           "store_resealed"]
