"""LOAN-15: the issuance hot path's sealing of a register row (registry/register.py ``seal_values``).

It writes the fields out by hand for speed; what it stores must be exactly what the ORM's general path
(``encode_fields`` under ``SealSpec.aad``) would store and open, digests included.
"""

from __future__ import annotations

import os

import pytest

from keys.envelope import DataUnreadable, RegisterDataKey
from registry.models import ApplicationRow, CertificateRow, IssuanceJournalRow
from registry.register import holder_value, seal_values
from registry.sealing import decode_fields


class _Row:
    def __init__(self, values: dict) -> None:
        self.__dict__.update(values)


@pytest.fixture
def key() -> RegisterDataKey:
    return RegisterDataKey(3, os.urandom(32), os.urandom(32))


def test_LOAN15_seal_values_stores_what_the_general_path_opens(key) -> None:
    der = os.urandom(600)
    fields = {"subject_dn": "CN=ТЕСТОВ ТЕСТ,SERIALNUMBER=IIN850505300012,C=KZ", "common_name": "Тестов Тест",
              "iin": "850505300012", "bin": None, "email": "t@example.kz", "organisation": None, "der": der}
    values = seal_values(key, CertificateRow.__sealed__, {"issuer_id": 2, "serial": "ab" * 8, "iin_digest": "old",
                                                          "bin_digest": "old", **fields})
    assert set(fields).isdisjoint(values) and values["kek_version"] == 3
    spec = CertificateRow.__sealed__
    assert decode_fields(key.open(spec.aad(None, _Row(values)), values["sealed"])) == fields
    assert values["iin_digest"] == key.digest("iin", "850505300012") and values["bin_digest"] is None
    assert "850505300012".encode() not in values["sealed"] and "Тестов".encode() not in values["sealed"]
    with pytest.raises(DataUnreadable):   # another row's name in the associated data: it does not open
        key.open(spec.aad(None, _Row({**values, "serial": "cd" * 8})), values["sealed"])


def test_LOAN15_seal_values_takes_the_general_encoder_for_json_fields(key) -> None:
    form = {"iin": "850505300012", "surname": "Тестов", "phone": "+77010000000"}
    values = seal_values(key, ApplicationRow.__sealed__, {"centre_id": 2, "kind": "individual", "submitted_by": "x",
                                                          "form": form, "attachments": [], "csr_der": b"\x30"})
    opened = decode_fields(key.open(ApplicationRow.__sealed__.aad(None, _Row(values)), values["sealed"]))
    assert opened == {"form": form, "attachments": [], "csr_der": b"\x30", "signed_document": None,
                      "refusal_detail": None}


def test_LOAN15_a_persons_holder_is_stored_as_its_keyed_hash_a_services_as_it_is(key) -> None:
    assert holder_value(key, "service:tsa") == "service:tsa" and holder_value(key, "tenant:alpha") == "tenant:alpha"
    hashed = holder_value(key, "IIN850505300012")
    assert hashed == key.digest("holder", "IIN850505300012") and len(hashed) == 32 and "850505" not in hashed
    assert holder_value(key, None) is None
    journal = seal_values(key, IssuanceJournalRow.__sealed__, {"centre_id": 2, "certificate_serial": "ab",
                                                               "holder_name": "Тестов Тест"})
    assert decode_fields(key.open(IssuanceJournalRow.__sealed__.aad(None, _Row(journal)), journal["sealed"])) == {
        "state_body": None, "letter_number": None, "holder_name": "Тестов Тест", "carrier_serial": None}


def test_LOAN15_the_register_digest_is_hmac_sha256_truncated_and_nonces_never_repeat(key) -> None:
    """RFC 2104 HMAC-SHA256 (pads hashed once) truncated to 128 bits; SP 800-38D 8.2.1 nonces: fixed + counter."""
    import hashlib
    import hmac

    lookup = os.urandom(32)
    mine = RegisterDataKey(1, os.urandom(32), lookup)
    assert mine.digest("iin", " 850505300012 ") == hmac.new(lookup, b"iin\x00850505300012",
                                                            hashlib.sha256).hexdigest()[:32]
    nonces = {mine.seal(b"a", b"x")[:12] for _ in range(1000)}
    assert len(nonces) == 1000 and len({n[:8] for n in nonces}) == 1


def test_LOAN15_a_spent_invocation_field_draws_a_new_fixed_field(key) -> None:
    import itertools

    fixed = key.seal(b"a", b"x")[:8]
    key._state = (fixed, itertools.count(1 << 32))   # noqa: SLF001 - the counter at its end
    renewed = key.seal(b"a", b"x")[:12]
    assert renewed[:8] != fixed and renewed[8:] == (1).to_bytes(4, "big")
