"""LOAN-15 (issue 16 item 3): the certification centre's own register sealed under the installation's register key.

Certificates, the issuance and revocation journals and the applications keep
their holders' personal fields only sealed (registry/register.py, migration
0021), on SQLite and PostgreSQL. What is shown here: the rows hold no IIN,
name or e-mail in clear and are found by IIN, BIN and part of the name; the
OCSP, CRL and status reads work on a registry that holds no key at all (they
never open a sealed row); a sealed row moved onto another does not open; and
``qoltanba keys rotate-register`` re-seals every row under a new version
while every certificate still reads and is still found.
"""

from __future__ import annotations

import json

import pytest
from cryptography import x509
from sqlalchemy import text
from typer.testing import CliRunner

from ca.revocation import RevocationRequest
from registry import Database, Registry, SealedDataUnreadable
from tests.support import factories as f

_PERSONAL = ("subject_dn", "common_name", "iin", "bin", "email", "organisation", "der")


def _cli(services, *args: str):  # noqa: ANN001, ANN202
    from api import cli
    from tests.support.golden import MASTER_KEY

    env = {"QOLTANBA_DATABASE_URL": services.settings.database_url, "QOLTANBA_MASTER_KEY": MASTER_KEY}
    return CliRunner().invoke(cli.app, [*args, "--home", str(services.settings.home)], env=env)


def _issued(services, count: int = 3) -> list:  # noqa: ANN001
    people = [f.issue_person(services, profile="legal-sign" if n == 0 else "individual-sign") for n in range(count)]
    services.revocations.revoke(RevocationRequest(serial=people[-1].serial, actor="test", reason="key-compromise"))
    return people


def _raw(services, sql: str, **params) -> list:  # noqa: ANN001, ANN003
    with services.database.engine.connect() as connection:
        return connection.execute(text(sql), params).all()


def test_LOAN15_the_register_holds_no_personal_field_in_clear_and_is_found_by_keyed_hash(services) -> None:
    people = _issued(services)
    with services.registry.transaction(readonly=True) as tx:
        rows = [tx.certificates.by_serial(p.serial)[0] for p in people]
        iins = [r.iin for r in rows]
        assert all(iins) and rows[0].bin == f.VALID_BIN and rows[0].email == "t@example.kz"
        assert [x509.load_der_x509_certificate(r.der) for r in rows] == [p.certificate for p in people]
        # Found by IIN and BIN through the keyed hashes, by part of the name (any case) by opening the rows.
        for row in rows:
            assert [c.serial for c in tx.certificates.search(iin=row.iin)] == [row.serial]
        assert rows[0].serial in [c.serial for c in tx.certificates.search(bin=f.VALID_BIN)]
        named = [c.serial for c in tx.certificates.search(name="тестов тест", limit=1000)]
        assert {r.serial for r in rows} <= set(named)
        assert tx.certificates.search(name="no such holder") == []
    journal = {j.certificate_serial: j for j in services.catalogue.journal()}
    assert all(journal[r.serial].holder_name == r.common_name for r in rows)    # opened for the exports
    columns = {name for (name,) in _raw(services, "SELECT column_name FROM information_schema.columns WHERE "
                                                   "table_name = 'certificates'")} \
        if services.database.dialect != "sqlite" else {r[1] for r in _raw(services, "PRAGMA table_info(certificates)")}
    assert set(_PERSONAL).isdisjoint(columns) and {"sealed", "kek_version", "iin_digest", "bin_digest"} <= columns
    for row, iin in zip(rows, iins):
        (stored,) = _raw(services, "SELECT sealed, iin_digest, holder, kek_version FROM certificates "
                                   "WHERE serial = :s", s=row.serial)
        assert iin.encode() not in bytes(stored.sealed) and iin not in stored.holder and stored.kek_version == 1
        assert len(stored.iin_digest) == 32 and stored.iin_digest != iin
    # The journals too: the holder's name is nowhere in clear.
    for table in ("issuance_journal", "revocations"):
        for (sealed,) in _raw(services, f"SELECT sealed FROM {table}"):
            assert sealed is not None and "Тестов".encode() not in bytes(sealed)
    with services.registry.transaction(readonly=True) as tx:
        (revoked,) = [r for r in tx.revocations.entries(rows[-1].issuer_id) if r.serial == rows[-1].serial]
        assert revoked.holder_name == rows[-1].common_name


def test_LOAN15_ocsp_crl_and_status_reads_need_no_register_key(services) -> None:
    """The hot paths read serials, statuses and dates only: a registry without any key still answers them."""
    people = _issued(services)
    keyless = Registry(Database(services.settings.resolved_database_url))   # no sealer: no key at all
    try:
        with keyless.transaction(readonly=True) as tx:
            row = tx.connection.execute(text("SELECT issuer_id FROM certificates WHERE serial = :s"),
                                        {"s": people[0].serial}).one()
            assert tx.certificates.status_of(row.issuer_id, people[0].serial)[0] == "valid"
            assert tx.certificates.status_of(row.issuer_id, people[-1].serial)[0] == "revoked"
            entries = tx.revocations.crl_entries(row.issuer_id)
            assert people[-1].serial in [e[0] for e in entries]
            # The CA's own service certificates (no person in them) are kept open: read without any key too.
            (tsa_row,) = tx.certificates.by_holder("service:tsa")
            assert x509.load_der_x509_certificate(tsa_row.der).serial_number > 0 and tsa_row.kek_version is None
        with pytest.raises(SealedDataUnreadable):    # ... while a person's fields need the register key
            with keyless.transaction(readonly=True) as tx:
                tx.certificates.search(iin=f.iin())
    finally:
        keyless.database.dispose()
    # A service's certificate is read without keys too (qoltanba verify's read-only start).
    from registry.readonly import ReadOnlyRegistry

    readonly = ReadOnlyRegistry(services.settings.resolved_database_url)
    try:
        with readonly.transaction() as tx:
            (tsa,) = tx.certificates.by_holder("service:tsa")
        assert x509.load_der_x509_certificate(tsa.certificate_der).serial_number > 0
    finally:
        readonly.close()


def test_LOAN15_a_register_row_moved_onto_another_does_not_open(services) -> None:
    first, second, _ = _issued(services)
    with services.database.engine.begin() as connection:
        connection.execute(text("UPDATE certificates SET sealed = (SELECT sealed FROM certificates WHERE serial = :a) "
                                "WHERE serial = :b"), {"a": first.serial, "b": second.serial})
    with pytest.raises(SealedDataUnreadable, match="certificates"):
        with services.registry.transaction(readonly=True) as tx:
            tx.certificates.by_serial(second.serial)
    with services.registry.transaction(readonly=True) as tx:     # the source still opens
        assert x509.load_der_x509_certificate(tx.certificates.by_serial(first.serial)[0].der) == first.certificate


def test_LOAN15_rotate_register_reseals_every_row_and_every_certificate_still_reads(services) -> None:
    people = _issued(services)
    tables = ("certificates", "issuance_journal", "revocations")
    before = {t: dict(_raw(services, f"SELECT id, sealed FROM {t} WHERE kek_version IS NOT NULL")) for t in tables}
    services_open = _raw(services, "SELECT id, sealed FROM certificates WHERE holder LIKE 'service:%'")
    assert services_open and all(v is None for (v,) in _raw(services, "SELECT kek_version FROM certificates "
                                                                    "WHERE holder LIKE 'service:%'"))
    with services.registry.transaction(readonly=True) as tx:
        iins = {p.serial: tx.certificates.by_serial(p.serial)[0].iin for p in people}
    refused = _cli(services, "tenant", "rotate-key", "~register")
    assert refused.exit_code == 2 and "rotate-register" in refused.output
    rotated = _cli(services, "keys", "rotate-register", "--actor", "security-officer")
    assert rotated.exit_code == 0, rotated.output
    result = json.loads(rotated.output.strip().splitlines()[-1])
    assert result["register_key_version"] == 2 and result["retired"] == [1]
    assert result["resealed"] == sum(len(rows) for rows in before.values())
    for table in tables:
        after = dict(_raw(services, f"SELECT id, sealed FROM {table} WHERE kek_version IS NOT NULL"))
        assert after.keys() == before[table].keys() and all(after[i] != before[table][i] for i in after), table
        assert [v for (v,) in _raw(services, f"SELECT DISTINCT kek_version FROM {table} "
                                             "WHERE kek_version IS NOT NULL")] == [2], table
    # The service certificates (no person in them) stay open and unchanged.
    assert _raw(services, "SELECT id, sealed FROM certificates WHERE holder LIKE 'service:%'") == services_open
    keys = _raw(services, "SELECT version, state, material IS NULL FROM tenant_keys WHERE tenant = '~register' "
                          "ORDER BY version")
    assert [tuple(k) for k in keys] == [(1, "retired", True), (2, "active", False)]
    services.tenant_keyring.forget_all()   # what another process would hold: nothing of version 1
    with services.registry.transaction(readonly=True) as tx:
        for person in people:
            (row,) = tx.certificates.search(iin=iins[person.serial])     # the lookup key survives the rotation
            assert x509.load_der_x509_certificate(row.der) == person.certificate
        actions = {e.action for e in tx.audit.entries(after_id=0, limit=100_000)}
    assert {"register.key-rotation-started", "register.key-rotated"} <= actions
    assert f.issue_person(services).serial   # issuance goes on under version 2
    assert [v for (v,) in _raw(services, "SELECT DISTINCT kek_version FROM certificates "
                                         "WHERE kek_version IS NOT NULL")] == [2]
