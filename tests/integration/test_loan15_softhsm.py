"""LOAN-15 on a PKCS#11 token (SoftHSM2): each tenant's key-encryption key is an AES key on the token.

The registry keeps only the key's label; the key is sensitive and never
extractable; data keys are wrapped and unwrapped by AES-GCM on the token.
A contract signed and sealed on the token is stored sealed, the tenant's
key is rotated (the old key destroyed on the token) and the contract still
opens and verifies; a ciphertext moved to another row does not open.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.integration.test_signing_on_pkcs11 import token_services  # noqa: F401 - fixture
from tests.support.pdf_judges import pyhanko_statuses
from tests.support.signing import TENANT, client_with_held_key, latest_pdf, sign_client_and_seal, upload


def _token_key(services, label: str):  # noqa: ANN001, ANN202
    from pkcs11 import Attribute, KeyType, ObjectClass

    def find(session):  # noqa: ANN001, ANN202
        keys = list(session.get_objects({Attribute.CLASS: ObjectClass.SECRET_KEY, Attribute.LABEL: label}))
        return [(k[Attribute.KEY_TYPE], k[Attribute.SENSITIVE], k[Attribute.EXTRACTABLE], k[Attribute.VALUE_LEN])
                for k in keys] if keys else []

    found = services.backend.call(find)
    return [(t == KeyType.AES, s, e, n) for t, s, e, n in found]


def _client(services, phone: str, iin: str):  # noqa: ANN001, ANN202
    from registry import ClientRow

    with services.registry.transaction() as tx:
        row = tx.clients.add(ClientRow(public_id=secrets.token_hex(16), tenant=TENANT, kind="individual",
                                       id_number=iin, iin=iin, name="Сәрсенбаева Әйгерім", phone=phone,
                                       created_at=dt.datetime.now(dt.timezone.utc), created_by="test"))
        return row.public_id


def test_LOAN15_tenant_keys_on_softhsm2_seal_rotate_and_refuse_a_moved_ciphertext(token_services) -> None:  # noqa: F811
    from keys.envelope import Pkcs11KekMaker
    from registry import SealedDataUnreadable

    services = token_services
    assert isinstance(services.tenant_keyring.maker, Pkcs11KekMaker)
    holder = client_with_held_key(services)
    phone = "+7701" + f"{secrets.randbelow(10 ** 7):07d}"
    client = _client(services, phone, holder.iin)
    other = _client(services, "+77010000001", "900101300017" if holder.iin != "900101300017" else "880202400019")
    document = upload(services, holder.iin, pages=1)
    sign_client_and_seal(services, holder, document.id, level="B-T")
    pdf = latest_pdf(services, document.id)
    assert b"Microcredit contract MK-2026/001" in pdf

    with services.database.engine.connect() as connection:
        (key,) = connection.execute(text("SELECT version, backend, material FROM tenant_keys WHERE tenant = :t"),
                                    {"t": TENANT}).all()
    assert key.version == 1 and key.backend == "pkcs11" and key.material.startswith(b"qoltanba-kek:")
    assert _token_key(services, key.material.decode()) == [(True, True, False, 32)]   # AES-256, never extractable
    path = Path(services.database.engine.url.database)
    stored = b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal")) if p.exists())
    for clear in (phone.encode(), b"Microcredit contract MK-2026/001"):
        assert clear not in stored, clear

    result = services.key_rotation.rotate(TENANT, "security-officer")
    assert result.version == 2 and result.retired == (1,) and result.rewrapped >= 5
    assert _token_key(services, key.material.decode()) == []          # the retired key is gone from the token
    with services.database.engine.connect() as connection:
        versions = {t: connection.execute(text(f"SELECT DISTINCT kek_version FROM {t} WHERE tenant = :t"),
                                          {"t": TENANT}).scalars().all()
                    for t in ("clients", "documents", "document_versions")}
    assert versions == {"clients": [2], "documents": [2], "document_versions": [2]}
    assert latest_pdf(services, document.id) == pdf
    statuses = pyhanko_statuses(pdf, services.hierarchy.chain("national")[-1])
    assert len(statuses) == 2 and all(s.bottom_line for s in statuses)
    with services.registry.transaction(readonly=True) as tx:
        found = tx.clients.by_iin(TENANT, holder.iin)
        assert [c.public_id for c in found] == [client] and found[0].phone == phone
        row = tx.documents.by_public_id(TENANT, document.id)
        for version in tx.document_versions.list(row.id):
            assert hashlib.sha256(version.content).hexdigest() == version.sha256

    with services.database.engine.begin() as connection:
        connection.execute(text("UPDATE clients SET sealed = (SELECT sealed FROM clients WHERE public_id = :a), "
                                "data_key = (SELECT data_key FROM clients WHERE public_id = :a) "
                                "WHERE public_id = :b"), {"a": client, "b": other})
    with pytest.raises(SealedDataUnreadable, match="clients"):
        with services.registry.transaction(readonly=True) as tx:
            tx.clients.by_public_id(TENANT, other)
