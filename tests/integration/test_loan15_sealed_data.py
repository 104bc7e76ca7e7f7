"""LOAN-15: data kept by third parties is encrypted with keys held by the MFO (issue 16, item 3).

A whole contract flow over HTTP (client registered with a phone, contract
uploaded, signing request, biometrics, the client's signature with the key
the service holds, the MFO's seal, the signed copy downloaded), on SQLite
and PostgreSQL; then the database itself is read as a thief with a copy
would read it: the SQLite file and its WAL, and a plain ``pg_dump``. The
borrower's phone and name, the PDF's text, the SMS outbox's phones and
texts, a cabinet account's bank details (IBAN, BIC, bank), a pending
change's new phone and bank details, and the IIN and name the certification
centre's own register keeps of the borrower's certificate (sealed under the
register key, migration 0021) are nowhere in clear. The tenant's key is rotated (``qoltanba tenant rotate-key``)
while a reader keeps opening every document; a ciphertext moved to another
row or tenant does not open and the API says so with a 409 problem.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from tests.integration.test_api_documents import mfo_key  # noqa: F401 - fixture
from tests.support import factories as f
from tests.support.factors import SigningPage, register, services  # noqa: F401 - fixture
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.pdfs import contract_pdf
from tests.support.signing import client_with_held_key

SEALED_TABLES = ("clients", "client_factors", "documents", "document_versions", "evidence_records", "sms_outbox")
# The borrower's own account (issue 16): bank details in force and a change not yet proven.
ACCOUNT_TABLES = ("borrower_accounts", "borrower_ceremonies")
IBAN, BIC, NEW_IBAN, NEW_BIC = "KZ86125KZT5004100100", "HSBKKZKX", "KZ75125KZT2069100100", "CASPKZKA"


def _flow(http, services, headers) -> dict:  # noqa: ANN001
    """One contract, signed by its borrower (biometrics, the key the service holds) and sealed by the MFO."""
    secret = f"LOAN15-clause-{secrets.token_hex(6)}"
    held = client_with_held_key(services)
    client = register(http, headers, services, iin=held.iin, kind="entrepreneur")
    meta = f.loan_metadata(client_id_number=held.iin, client_kind="entrepreneur", purpose="business",
                           loan_amount="2000000.00", title=f"Title {secret}")
    uploaded = http.post("/documents", headers=headers, data={"metadata": json.dumps(meta)},
                         files={"file": ("d.pdf", contract_pdf(pages=1, text=secret), "application/pdf")})
    assert uploaded.status_code == 201, uploaded.text
    created = http.post("/signing-requests", headers=headers, json={"document": uploaded.json()["id"],
                                                                    "client": client["id"]})
    assert created.status_code == 201, created.text
    page = SigningPage(http, services, created.json())
    services.clock.advance(dt.timedelta(hours=2, seconds=1))
    assert page.biometrics(held.iin).status_code == 200
    done = page.confirm()
    assert done.status_code == 200 and done.json()["status"] == "sealed", done.text
    signed = http.get(f"/signing-requests/{created.json()['id']}/signed.pdf", headers=headers)
    assert signed.status_code == 200 and secret.encode() in signed.content   # the borrower's copy opens
    return {"iin": held.iin, "serial": held.serial, "phone": client["phone"], "secret": secret, "client": client["id"],
            "document": uploaded.json()["id"], "pdf": signed.content}


def _account_with_bank_details_and_a_pending_change(http, services, headers) -> dict:  # noqa: ANN001
    """A borrower registered in the cabinet whose bank details are in force (a change proven with biometrics and
    EDS, LOAN-9), then a second change (new phone and bank details) left pending: each in the database."""
    from tests.integration.test_borrower_accounts import login, registered
    from tests.support.accounts import assertion, bearer, eds_cms
    from tests.support.factors import phone

    client = registered(http, headers, services)
    session = bearer(login(http, client))
    bank = f"Bank {secrets.token_hex(6)}"
    started = http.post("/borrower/changes", headers=session,
                        json={"bank_account": IBAN, "bank_bic": BIC, "bank_name": bank})
    assert started.status_code == 201, started.text
    change = started.json()
    proofs = f"/borrower/changes/{change['id']}/proofs"
    assert http.post(proofs, headers=session, json={"factor": "biometric", "assertion": assertion(
        services, client["iin"], change)}).status_code == 200
    done = http.post(proofs, headers=session, json={"factor": "eds", "cms": eds_cms(client["token"], change)})
    assert done.status_code == 200 and done.json()["status"] == "done", done.text
    new_phone, new_bank = phone(), f"Bank {secrets.token_hex(6)}"
    services.clock.advance(dt.timedelta(seconds=61))     # one change started a minute (LOAN-9's pace)
    pending = http.post("/borrower/changes", headers=session, json={"phone": new_phone, "bank_account": NEW_IBAN,
                                                                    "bank_bic": NEW_BIC, "bank_name": new_bank})
    assert pending.status_code == 201, pending.text
    me = http.get("/borrower/me", headers=session).json()
    assert (me["bank_account"], me["bank_bic"], me["bank_name"]) == (IBAN, BIC, bank)   # the code reads them
    with services.registry.transaction(readonly=True) as tx:
        (row,) = [r for r in tx.borrower_ceremonies.of_account(tx.borrower_accounts.invited(me["id"]).id)
                  if r.public_id == pending.json()["id"]]
        assert (row.new_phone, row.new_bank_account, row.new_bank_bic) == (new_phone, NEW_IBAN, NEW_BIC)
    return {"values": [v.encode() for v in (client["phone"], client["phone"][1:], IBAN, BIC, bank, new_phone,
                                            new_phone[1:], NEW_IBAN, NEW_BIC, new_bank)]}


def _clear_values(flow: dict) -> list[bytes]:
    """The phone (with and without its +) and the PDF's own text: kept by no register in clear."""
    phone = flow["phone"]
    return [phone.encode(), phone[1:].encode(), flow["secret"].encode()]


def _pg_dump(url: str) -> bytes:
    from registry.backup import _libpq, pg_tool

    args, env = _libpq(url)
    return subprocess.run([pg_tool("pg_dump"), "--format=plain", "--no-owner", *args], env=env,
                          check=True, capture_output=True, timeout=120).stdout


@pytest.fixture
def alpha(mfo_key):  # noqa: F811
    return mfo_key("alpha")


def test_LOAN15_a_copy_of_the_database_after_a_contract_flow_holds_no_iin_phone_or_document_text(
        http, services, alpha, database_url, tmp_path) -> None:
    flow = _flow(http, services, alpha)
    account = _account_with_bank_details_and_a_pending_change(http, services, alpha)
    if database_url.startswith("sqlite"):
        # The whole file and its WAL, as stored (the CA's register included: nothing is left out).
        path = Path(services.database.engine.url.database)
        stored = path.read_bytes() + (path.with_name(path.name + "-wal").read_bytes()
                                      if path.with_name(path.name + "-wal").exists() else b"")
    else:
        stored = _pg_dump(database_url)   # the whole dump, every table's data
    assert b"CREATE TABLE" in stored or stored.startswith(b"SQLite format 3")
    # The grep reads what is stored: the certificate's serial is kept in clear by design (OCSP, CRLs) ...
    assert flow["serial"].encode() in stored
    # ... and the IIN, the holder's name, the phone, the text, the bank details are nowhere, register included.
    for value in [flow["iin"].encode(), "Сәрсенбаева".encode(), "Әйгерім".encode(), *_clear_values(flow),
                  *account["values"]]:
        assert value not in stored, value
    # What is kept instead: ciphertexts with wrapped data keys, all under the tenant's version 1 ...
    with services.database.engine.connect() as connection:
        for table in SEALED_TABLES + ACCOUNT_TABLES:
            versions = connection.execute(text(f"SELECT DISTINCT kek_version FROM {table} "
                                               "WHERE tenant = 'alpha'")).scalars().all()
            assert versions == [1], (table, versions)
        # ... and the CA register's rows under the installation's register key, version 1 (a service's own
        # certificate, the CA's TSA, OCSP and audit keys, names no person and is kept open: no key version).
        for table, people in (("certificates", "holder NOT LIKE 'service:%'"), ("issuance_journal", "1 = 1")):
            versions = connection.execute(text(f"SELECT DISTINCT kek_version FROM {table} WHERE {people}")
                                          ).scalars().all()
            assert versions == [1], (table, versions)


def test_LOAN15_search_by_iin_and_phone_works_through_the_keyed_hash(http, services, alpha) -> None:
    flow = _flow(http, services, alpha)
    with services.registry.transaction(readonly=True) as tx:
        (by_iin,) = tx.clients.by_iin("alpha", flow["iin"])
        assert by_iin.public_id == flow["client"] and by_iin.phone == flow["phone"] and by_iin.iin == flow["iin"]
        assert tx.clients.by_id_number("alpha", flow["iin"]).public_id == flow["client"]
        assert [c.public_id for c in tx.clients.by_phone("alpha", flow["phone"])] == [flow["client"]]
        assert [d.public_id for d in tx.documents.of_client("alpha", flow["iin"])] == [flow["document"]]
        # Another tenant's lookup key gives another hash: nothing of alpha's is found from beta.
        assert tx.clients.by_iin("beta", flow["iin"]) == [] and tx.documents.of_client("beta", flow["iin"]) == []
        assert by_iin.iin_digest != flow["iin"] and len(by_iin.iin_digest) == 64
    # The uniqueness of a client per tenant holds on the hash: the same IIN again is refused.
    again = http.post("/clients", headers=alpha, json={"kind": "individual", "iin": flow["iin"], "name": "X Y",
                                                       "phone": flow["phone"]})
    assert again.status_code == 409, again.text


def _cli(services, *args: str):  # noqa: ANN001, ANN202
    from api import cli
    from tests.support.golden import MASTER_KEY

    env = {"QOLTANBA_DATABASE_URL": services.settings.database_url, "QOLTANBA_MASTER_KEY": MASTER_KEY}
    return CliRunner().invoke(cli.app, [*args, "--home", str(services.settings.home)], env=env)


def _every_document_opens(services, tenant: str) -> int:  # noqa: ANN001
    opened = 0
    with services.registry.transaction(readonly=True) as tx:
        for document in tx.documents.list(tenant, limit=1000):
            for version in tx.document_versions.list(document.id):
                assert hashlib.sha256(version.content).hexdigest() == version.sha256
                opened += 1
    return opened


def test_LOAN15_rotation_rewraps_every_data_key_while_readers_read_and_every_document_still_verifies(
        http, services, alpha) -> None:
    flows = [_flow(http, services, alpha) for _ in range(2)]
    with services.database.engine.connect() as connection:
        before = {t: dict(connection.execute(text(f"SELECT id, data_key FROM {t} WHERE tenant = 'alpha'")).all())
                  for t in SEALED_TABLES}
        sealed_before = connection.execute(text("SELECT id, sealed FROM document_versions")).all()
    assert all(before.values())
    # A reader opens every document again and again while the key is rotated (one data key per batch).
    services.key_rotation.batch = 1
    stop, errors, reads = threading.Event(), [], []

    def reader() -> None:
        while not stop.is_set():
            try:
                reads.append(_every_document_opens(services, "alpha"))
            except Exception as error:  # noqa: BLE001 - any failure of a read during rotation is the finding
                errors.append(error)
                return

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        rotated = _cli(services, "tenant", "rotate-key", "alpha", "--actor", "security-officer")
    finally:
        stop.set()
        thread.join()
    assert rotated.exit_code == 0, rotated.output
    result = json.loads(rotated.output.strip().splitlines()[-1])   # after any warning line
    assert result["version"] == 2 and result["retired"] == [1] and result["rewrapped"] == sum(map(len, before.values()))
    assert errors == [] and reads and all(n == reads[0] for n in reads), (errors, reads)
    with services.database.engine.connect() as connection:
        for table in SEALED_TABLES:
            after = dict(connection.execute(text(f"SELECT id, data_key FROM {table} WHERE tenant = 'alpha'")).all())
            assert after.keys() == before[table].keys()
            assert all(after[i] != before[table][i] for i in after), table      # every data key re-wrapped
            assert connection.execute(text(f"SELECT DISTINCT kek_version FROM {table} WHERE tenant = 'alpha'")
                                      ).scalars().all() == [2]
        assert connection.execute(text("SELECT id, sealed FROM document_versions")).all() == sealed_before
        keys = connection.execute(text("SELECT version, state, material IS NULL FROM tenant_keys "
                                       "WHERE tenant = 'alpha' ORDER BY version")).all()
    assert [tuple(k) for k in keys] == [(1, "retired", True), (2, "active", False)]
    assert _every_document_opens(services, "alpha") == reads[0]
    root = services.hierarchy.chain("national")[-1]
    for flow in flows:
        pdf = http.get(f"/documents/{flow['document']}/pdf", headers=alpha)
        assert pdf.status_code == 200 and pdf.content == flow["pdf"], pdf.text[:200]
        assert all(status.bottom_line for status in pyhanko_statuses(pdf.content, root))
    with services.registry.transaction(readonly=True) as tx:
        assert tx.clients.by_iin("alpha", flows[0]["iin"])[0].phone == flows[0]["phone"]   # lookups survive
        actions = [e.action for e in tx.audit.entries(after_id=0, limit=100_000)]
    assert {"tenant.key-rotation-started", "tenant.key-rotated"} <= set(actions)
    # A new object after the rotation is wrapped by version 2; nothing can use the retired version.
    assert _flow(http, services, alpha)
    unknown = _cli(services, "tenant", "rotate-key", "nobody")
    assert unknown.exit_code == 2 and "nobody" in unknown.output


def test_LOAN15_a_ciphertext_moved_to_another_row_or_tenant_does_not_open(http, services, alpha, mfo_key) -> None:  # noqa: F811
    beta = mfo_key("beta")
    mine, other, theirs = _flow(http, services, alpha), _flow(http, services, alpha), _flow(http, services, beta)
    assert http.get(f"/clients/{other['client']}", headers=alpha).status_code == 200
    with services.database.engine.begin() as connection:
        # The first client's sealed data and wrapped key copied onto the second's row (same tenant) ...
        connection.execute(text("UPDATE clients SET sealed = (SELECT sealed FROM clients WHERE public_id = :a), "
                                "data_key = (SELECT data_key FROM clients WHERE public_id = :a) "
                                "WHERE public_id = :b"), {"a": mine["client"], "b": other["client"]})
        # ... and beta's document's first version onto alpha's (another tenant).
        connection.execute(text(
            "UPDATE document_versions SET sealed = (SELECT v.sealed FROM document_versions v JOIN documents d "
            "ON d.id = v.document_id WHERE d.public_id = :t AND v.number = 1), data_key = (SELECT v.data_key "
            "FROM document_versions v JOIN documents d ON d.id = v.document_id WHERE d.public_id = :t AND "
            "v.number = 1) WHERE number = 1 AND document_id = (SELECT id FROM documents WHERE public_id = :m)"),
            {"t": theirs["document"], "m": mine["document"]})
    moved = http.get(f"/clients/{other['client']}", headers=alpha)
    assert moved.status_code == 409 and moved.json()["code"] == "sealed-data-unreadable", moved.text
    assert mine["phone"] not in moved.text and mine["iin"] not in moved.text
    assert http.get(f"/clients/{mine['client']}", headers=alpha).status_code == 200     # the source still opens
    from registry import SealedDataUnreadable

    with pytest.raises(SealedDataUnreadable, match="document_versions"):
        with services.registry.transaction(readonly=True) as tx:
            document = tx.documents.by_public_id("alpha", mine["document"])
            _ = tx.document_versions.by_number(document.id, 1).content
    with services.registry.transaction(readonly=True) as tx:     # the other versions and beta's still open
        document = tx.documents.by_public_id("alpha", mine["document"])
        assert tx.document_versions.latest(document.id).content == mine["pdf"]
        document = tx.documents.by_public_id("beta", theirs["document"])
        assert tx.document_versions.by_number(document.id, 1).content.startswith(b"%PDF")


def test_LOAN15_a_downgrade_that_would_leave_the_cabinets_sealed_rows_without_their_keys_refuses(
        http, services, alpha) -> None:
    """0016 makes the cabinet's tables sealed from the start; 0018 keeps the tenants' keys. Down to 0016 with an
    account in the database would drop the keys its row needs: refused, nothing changed; down to 0015 works."""
    from tests.support.accounts import invite
    from tests.support.factors import register

    client = register(http, alpha, services, iin=f.iin())
    invite(http, alpha, services, client)
    with services.database.engine.connect() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    with pytest.raises(RuntimeError, match="borrower_accounts holds rows sealed"):
        services.database.downgrade("0016")
    with services.database.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar() == head   # unchanged
        assert connection.execute(text("SELECT count(*) FROM tenant_keys")).scalar() >= 1
    with services.registry.transaction(readonly=True) as tx:
        (found,) = tx.clients.by_phone("alpha", client["phone"])
        account = tx.borrower_accounts.of_client(found.id)
        assert account is not None and account.bank_account is None       # the row still opens
    services.database.downgrade("0015")
    assert {"tenant_keys", "borrower_accounts"}.isdisjoint(services.database.table_names())
    services.migrate()
    assert http.get(f"/clients/{client['id']}", headers=alpha).json()["phone"] == client["phone"]


def test_LOAN15_the_upgrade_seals_what_the_previous_release_kept_in_clear(http, services, alpha, database_url,
                                                                          tmp_path) -> None:
    """Migration 0018 down (every row opened into the clear columns) and up again (sealed, the clear columns
    dropped): the data is the same, found by IIN, and the PDFs still verify; on SQLite, VACUUM (docs/SECURITY.md)
    leaves none of the old clear pages."""
    flow = _flow(http, services, alpha)
    services.database.downgrade("0015")
    with services.database.engine.connect() as connection:
        row = connection.execute(text("SELECT iin, phone FROM clients WHERE public_id = :c"),
                                 {"c": flow["client"]}).one()
        assert tuple(row) == (flow["iin"], flow["phone"])                 # what the previous release kept
    assert "tenant_keys" not in services.database.table_names()
    services.migrate()
    with services.database.engine.connect() as connection:
        columns = {c["name"] for c in __import__("sqlalchemy").inspect(connection).get_columns("clients")}
        assert {"iin", "phone", "name"}.isdisjoint(columns) and {"sealed", "iin_digest"} <= columns
    with services.registry.transaction(readonly=True) as tx:
        (client,) = tx.clients.by_iin("alpha", flow["iin"])
        assert (client.public_id, client.phone) == (flow["client"], flow["phone"])
    pdf = http.get(f"/documents/{flow['document']}/pdf", headers=alpha)
    assert pdf.status_code == 200 and pdf.content == flow["pdf"]
    if database_url.startswith("sqlite"):
        # A copy of the running service's database (free pages included), vacuumed as docs/SECURITY.md says.
        source, copy = sqlite3.connect(Path(services.database.engine.url.database)), tmp_path / "vacuumed.db"
        target = sqlite3.connect(copy)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
            target.execute("VACUUM")
        finally:
            source.close()
            target.close()
        stored = copy.read_bytes()
    else:
        stored = _pg_dump(database_url)
    for value in _clear_values(flow):
        assert value not in stored, value


def test_LOAN15_an_objects_data_key_is_unwrapped_once_per_process_and_forgotten_with_its_kek_version(
        http, services, alpha, monkeypatch) -> None:
    """LOAN-15, issue 17: the keyring keeps the data keys it made or unwrapped lately, so reading the client again
    does not ask the key backend again; forgetting the tenant's KEK version forgets them, and a data key moved
    onto another row still does not open it (the cache is keyed by the row's own associated data)."""
    import signing.tenants.keyring as keyring_module

    first, second = _flow(http, services, alpha), _flow(http, services, alpha)
    unwraps: list[bytes] = []
    real = keyring_module.unwrap_data_key

    def counted(kek, wrapped, aad):  # noqa: ANN001, ANN202
        unwraps.append(aad)
        return real(kek, wrapped, aad)

    monkeypatch.setattr(keyring_module, "unwrap_data_key", counted)
    assert http.get(f"/clients/{first['client']}", headers=alpha).status_code == 200
    assert unwraps == []   # sealed by this process: its data key was kept when it was made
    keyring = services.tenant_keyring
    with services.registry.transaction(readonly=True) as tx:
        version = keyring_module.keys_table.active(tx.connection, "alpha").version
    keyring.forget("alpha", version)
    assert http.get(f"/clients/{first['client']}", headers=alpha).status_code == 200
    opened = len(unwraps)
    assert opened >= 1
    assert http.get(f"/clients/{first['client']}", headers=alpha).status_code == 200
    assert len(unwraps) == opened   # the second read: from the cache
    with services.database.engine.begin() as connection:
        connection.execute(text("UPDATE clients SET sealed = (SELECT sealed FROM clients WHERE public_id = :a), "
                                "data_key = (SELECT data_key FROM clients WHERE public_id = :a) "
                                "WHERE public_id = :b"), {"a": first["client"], "b": second["client"]})
    moved = http.get(f"/clients/{second['client']}", headers=alpha)
    assert moved.status_code == 409 and moved.json()["code"] == "sealed-data-unreadable", moved.text
