"""A client's key the service holds signs only with the authorisation object the factor check made (issue 21).

pyca/cryptography's "hard to misuse": the key itself demands the object, so
a caller holding only an authorisation id, a look-alike object, one for
another document state or signer, or one already spent gets no signature.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import pickle
from pathlib import Path
from types import SimpleNamespace

import pytest

from ca.clock import FrozenClock
from ca.errors import ConflictError
from keys import KeyAlgorithm, KeySigner, SoftwareKeyBackend, verify_signature
from registry import CertificateRow
from signing.factors.authorisation import Authorisation, AuthorisationService, NotAuthorised
from signing.factors.held_keys import HeldKeys, HeldKeySigner
from signing.tenants import SealKeys, SealUnusable

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.timezone.utc)
DOCUMENT = b"%PDF-1.7 the loan contract, version 1"
OTHER_DOCUMENT = b"%PDF-1.7 the loan contract, version 2"
SERIAL = "4a1b2c3d"


class _Rows:
    def add(self, row):  # noqa: ANN001, ANN201 - the repository's shape
        return row


class _Audit:
    def append(self, **_entry) -> int:  # noqa: ANN003
        return 1


def _grant(serial: str = SERIAL, document: bytes = DOCUMENT) -> Authorisation:
    """What the factor check hands over once the client's factors are proven."""
    tx = SimpleNamespace(authorisations=_Rows(), audit=_Audit())
    return AuthorisationService(FrozenClock(NOW)).grant(
        tx, tenant="mfo-1", document_row_id=7, document_public_id="d" * 32,  # type: ignore[arg-type]
        document_sha256=hashlib.sha256(document).hexdigest(), signer_serial=serial, granted_by="factors")


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> HeldKeySigner:
    backend = SoftwareKeyBackend(Path(tmp_path_factory.mktemp("held")), b"h" * 32)
    return HeldKeySigner(KeySigner(backend, backend.generate(KeyAlgorithm.EC_P256, "client").handle), SERIAL)


def test_only_the_factor_check_makes_an_authorisation() -> None:
    with pytest.raises(TypeError):
        Authorisation(id="x", document_id="d", document_sha256="0" * 64, signer_serial=SERIAL,  # type: ignore[call-arg]
                      tenant="mfo-1", granted_at=NOW, expires_at=NOW)
    auth = _grant()
    assert (auth.signer_serial, auth.tenant, auth.document_sha256) == (
        SERIAL, "mfo-1", hashlib.sha256(DOCUMENT).hexdigest())
    for clone in (copy.copy, copy.deepcopy, pickle.dumps):
        with pytest.raises(TypeError):
            clone(auth)


def test_held_key_signs_once_with_the_authorisation_for_this_document(held: HeldKeySigner) -> None:
    auth = _grant()
    signature = held.sign(b"signed attributes", "sha256", authorisation=auth, document=DOCUMENT)
    assert verify_signature(held._key.public_key, signature, b"signed attributes", "sha256")  # noqa: SLF001
    assert auth.spent


@pytest.mark.parametrize("authorisation", [None, "a" * 32, SimpleNamespace(
    id="a" * 32, document_sha256=hashlib.sha256(DOCUMENT).hexdigest(), signer_serial=SERIAL, tenant="mfo-1",
    spend=lambda **_: None)], ids=["none", "an-id-string", "a-look-alike"])
def test_held_key_refuses_without_an_authorisation_object(held: HeldKeySigner, authorisation: object) -> None:
    with pytest.raises(NotAuthorised):
        held.sign(b"data", "sha256", authorisation=authorisation, document=DOCUMENT)  # type: ignore[arg-type]


def test_held_key_refuses_an_authorisation_for_another_document(held: HeldKeySigner) -> None:
    auth = _grant(document=DOCUMENT)
    with pytest.raises(NotAuthorised, match="another state of the document"):
        held.sign(b"data", "sha256", authorisation=auth, document=OTHER_DOCUMENT)
    assert not auth.spent


def test_held_key_refuses_an_authorisation_for_another_signer(held: HeldKeySigner) -> None:
    with pytest.raises(NotAuthorised, match="another signer certificate"):
        held.sign(b"data", "sha256", authorisation=_grant(serial="ffff"), document=DOCUMENT)


def test_held_key_refuses_the_same_authorisation_twice(held: HeldKeySigner) -> None:
    auth = _grant()
    unlocked = held.unlocked(auth, DOCUMENT)
    unlocked.sign(b"first", "sha256")
    with pytest.raises(NotAuthorised, match="already used"):
        unlocked.sign(b"second", "sha256")
    with pytest.raises(NotAuthorised, match="already used"):
        held.sign(b"third", "sha256", authorisation=auth, document=DOCUMENT)


def _row(**fields: object) -> CertificateRow:
    base = dict(serial=SERIAL, profile="individual-sign", holder="iin:900101300017", key_carrier="service",
                key_handle="soft:" + "0" * 32)
    return CertificateRow(**{**base, **fields})


@pytest.mark.parametrize("fields", [
    {"holder": "service:mfo-seal", "profile": "legal-sign"},   # the seal is not a client's key
    {"holder": "tenant:alpha", "profile": "legal-seal"},       # nor a tenant's seal (issue 15)
    {"holder": "tenant:alpha", "profile": "legal-sign"},       # whatever its profile
    {"holder": "service:tsa", "profile": "tsa"},
    {"profile": "subordinate-ca"},                            # nor a CA's
    {"key_carrier": "holder-csr", "key_handle": None},        # the client's own key, not held
], ids=["seal", "tenant-seal", "tenant-seal-profile", "tsa", "ca", "not-held"])
def test_held_keys_reach_clients_keys_only(fields: dict) -> None:
    with pytest.raises(ConflictError):
        HeldKeys(SimpleNamespace()).signer(_row(**fields))  # type: ignore[arg-type]


def _seal_certificate(key) -> bytes:  # noqa: ANN001 - a private key
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization

    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "SEAL")])
    now = dt.datetime.now(dt.timezone.utc)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(7).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
                   .sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.DER)


def test_a_tenants_seal_signs_only_with_its_certificates_key() -> None:
    """Issue 15: ``SealKeys`` makes a signer for a key only when it is the tenant's seal certificate's."""
    from cryptography.hazmat.primitives.asymmetric import ec

    ours, other = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    keys = {"hsm:seal": ours, "hsm:tsa": other}
    backend = SimpleNamespace(public_key=lambda handle: keys[handle].public_key(),
                              algorithm=lambda handle: KeyAlgorithm.EC_P256)
    seals = SealKeys(backend)  # type: ignore[arg-type]
    tenant = SimpleNamespace(code="alpha", seal_key_handle="hsm:seal", seal_serial="7", seal_der=_seal_certificate(ours))
    assert seals.signer(tenant).handle == "hsm:seal"   # type: ignore[arg-type]
    for handle in ("hsm:tsa", "hsm:missing"):
        with pytest.raises(SealUnusable):
            seals.signer(SimpleNamespace(**{**vars(tenant), "seal_key_handle": handle}))  # type: ignore[arg-type]
