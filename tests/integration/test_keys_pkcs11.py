from __future__ import annotations

import datetime as dt
import secrets
import subprocess
import threading
from pathlib import Path

import pkcs11
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from pkcs11 import Attribute, ObjectClass
from pkcs11 import exceptions as p11e

from keys import (
    KeyAlgorithm,
    KeyBackend,
    KeyBackendUnavailable,
    KeyError_,
    KeyExists,
    KeyNotFound,
    PKCS11KeyBackend,
    sign_certificate,
    sign_tbs,
    verify_signature,
)
from tests.support.softhsm import SoftHSMToken, softhsm_token
from tests.support.tools import require_tool

DATA = b"qoltanba pkcs11 test"


@pytest.fixture(scope="module")
def token(tmp_path_factory: pytest.TempPathFactory) -> SoftHSMToken:
    return softhsm_token(tmp_path_factory.mktemp("hsm"))


@pytest.fixture(scope="module")
def backend(token: SoftHSMToken) -> PKCS11KeyBackend:
    module_path, label, pin = token
    return PKCS11KeyBackend(module_path, label, pin)


def _label(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


@pytest.fixture(scope="module")
def rsa_key(backend: PKCS11KeyBackend):
    return backend.generate(KeyAlgorithm.RSA_2048, _label("rsa"))


@pytest.fixture(scope="module")
def ec_key(backend: PKCS11KeyBackend):
    return backend.generate(KeyAlgorithm.EC_P256, _label("ec"))


def test_protocol(backend: PKCS11KeyBackend) -> None:
    assert isinstance(backend, KeyBackend)
    assert backend.name == "pkcs11"
    assert backend.owns("pkcs11:x") and not backend.owns("soft:" + "0" * 32)


@pytest.mark.parametrize("hash_name", ["sha256", "sha384", "sha512"])
def test_rsa_sign_verify(backend: PKCS11KeyBackend, rsa_key, hash_name: str) -> None:
    assert rsa_key.handle == f"pkcs11:{rsa_key.label}"
    assert backend.algorithm(rsa_key.handle) is KeyAlgorithm.RSA_2048
    public = backend.public_key(rsa_key.handle)
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 2048
    assert public.public_numbers().e == 65537
    signature = backend.sign(rsa_key.handle, DATA, hash_name)
    assert verify_signature(public, signature, DATA, hash_name)


@pytest.mark.parametrize("hash_name", ["sha256", "sha384"])
def test_ec_sign_verify(backend: PKCS11KeyBackend, ec_key, hash_name: str) -> None:
    assert backend.algorithm(ec_key.handle) is KeyAlgorithm.EC_P256
    public = backend.public_key(ec_key.handle)
    assert isinstance(public, ec.EllipticCurvePublicKey) and isinstance(public.curve, ec.SECP256R1)
    signature = backend.sign(ec_key.handle, DATA, hash_name)
    assert signature[0] == 0x30  # DER, not the token's raw r||s
    assert verify_signature(public, signature, DATA, hash_name)


def test_p384(backend: PKCS11KeyBackend) -> None:
    info = backend.generate(KeyAlgorithm.EC_P384, _label("p384"))
    signature = backend.sign(info.handle, DATA, "sha384")
    assert verify_signature(backend.public_key(info.handle), signature, DATA, "sha384")


def test_private_key_is_not_extractable(token: SoftHSMToken, backend, rsa_key, ec_key) -> None:
    module_path, token_label, _pin = token
    # Another session on the token, as a second program in this process would
    # open it; PKCS#11 login is per process, and the backend already did it.
    session = pkcs11.lib(module_path).get_token(token_label=token_label).open()
    try:
        for info, secret_attr in ((rsa_key, Attribute.PRIVATE_EXPONENT), (ec_key, Attribute.VALUE)):
            private = session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=info.label)
            assert private[Attribute.SENSITIVE] is True
            assert private[Attribute.EXTRACTABLE] is False
            assert private[Attribute.NEVER_EXTRACTABLE] is True
            assert private[Attribute.TOKEN] is True
            assert private[Attribute.ID]
            with pytest.raises(p11e.AttributeSensitive):
                private[secret_attr]
    finally:
        session.close()


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.EC_P256, KeyAlgorithm.RSA_2048])
def test_destroy_removes_both_key_objects(token: SoftHSMToken, backend: PKCS11KeyBackend, ec_key,
                                          algorithm: KeyAlgorithm) -> None:
    info = backend.generate(algorithm, _label("doomed"))
    backend.sign(info.handle, DATA, "sha256")                                 # cached in the backend
    backend.destroy(info.handle)
    session = pkcs11.lib(token.module_path).get_token(token_label=token.label).open()
    try:
        assert list(session.get_objects({Attribute.LABEL: info.label})) == []
        assert session.get_key(object_class=ObjectClass.PRIVATE_KEY, label=ec_key.label)   # others stay
    finally:
        session.close()
    with pytest.raises(KeyNotFound):
        backend.sign(info.handle, DATA, "sha256")
    with pytest.raises(KeyNotFound):
        backend.public_key(info.handle)
    with pytest.raises(KeyNotFound):
        backend.destroy(info.handle)
    assert verify_signature(backend.public_key(ec_key.handle), backend.sign(ec_key.handle, DATA, "sha256"),
                            DATA, "sha256")


def test_labels_are_unique(backend: PKCS11KeyBackend, ec_key) -> None:
    with pytest.raises(KeyExists):
        backend.generate(KeyAlgorithm.EC_P256, ec_key.label)


def test_unknown_label(backend: PKCS11KeyBackend) -> None:
    with pytest.raises(KeyNotFound):
        backend.sign("pkcs11:no-such-key", DATA, "sha256")


def test_list_keys(backend: PKCS11KeyBackend, rsa_key, ec_key) -> None:
    listed = {i.handle: i.algorithm for i in backend.list_keys()}
    assert listed[rsa_key.handle] is KeyAlgorithm.RSA_2048
    assert listed[ec_key.handle] is KeyAlgorithm.EC_P256


def test_second_backend_instance_shares_token(token: SoftHSMToken, rsa_key) -> None:
    other = PKCS11KeyBackend(*token)
    signature = other.sign(rsa_key.handle, DATA, "sha256")
    assert verify_signature(other.public_key(rsa_key.handle), signature, DATA, "sha256")
    other.close()


def test_wrong_token_label(token: SoftHSMToken) -> None:
    with pytest.raises(KeyBackendUnavailable, match="no PKCS#11 token"):
        PKCS11KeyBackend(token.module_path, "no-such-token", token.pin).list_keys()


def test_concurrent_signing(backend: PKCS11KeyBackend, ec_key) -> None:
    public = backend.public_key(ec_key.handle)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(20):
                data = f"{n}-{i}".encode()
                assert verify_signature(public, backend.sign(ec_key.handle, data, "sha256"), data, "sha256")
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_on_several_backends_generating_and_signing_never_meet_a_general_error(
        token: SoftHSMToken, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 17: a worker's request threads use several backends of one token at once (the CA's, the held keys',
    the seals') while one generates a key. python-pkcs11 initialises the module with C_Initialize(NULL), under
    which SoftHSM2 has no locks of its own, so without our per-module lock these calls met CKR_GENERAL_ERROR."""
    backends = [PKCS11KeyBackend(token.module_path, token.label, token.pin) for _ in range(3)]
    signing = [b.generate(KeyAlgorithm.EC_P256, _label("race")) for b in backends]
    publics = [b.public_key(k.handle) for b, k in zip(backends, signing)]
    errors: list[BaseException] = []

    def sign(n: int) -> None:
        try:
            for i in range(150):
                data = f"{n}-{i}".encode()
                signature = backends[n % 3].sign(signing[n % 3].handle, data, "sha256")
                assert verify_signature(publics[n % 3], signature, data, "sha256")
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    def generate(n: int) -> None:
        try:
            for _ in range(12):
                made = backends[n % 3].generate(KeyAlgorithm.EC_P256, _label("made"))
                backends[(n + 1) % 3].sign(made.handle, DATA, "sha256")
                backends[n % 3].destroy(made.handle)
        except BaseException as exc:  # noqa: BLE001 - collected for the main thread
            errors.append(exc)

    caplog.set_level("WARNING", logger="keys.pkcs11")
    threads = [threading.Thread(target=sign, args=(n,)) for n in range(6)]
    threads += [threading.Thread(target=generate, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert not [r for r in caplog.records if "CKR_GENERAL_ERROR" in r.getMessage()]


def test_a_generated_key_signs_without_searching_the_token(token: SoftHSMToken, monkeypatch) -> None:
    """Issue 17: SoftHSM2 looks at every object on the token for each search by label, so the key a backend just
    made is kept as made; its first signature searches nothing."""
    backend = PKCS11KeyBackend(token.module_path, token.label, token.pin)
    made = backend.generate(KeyAlgorithm.EC_P256, _label("kept"))

    def no_search(*_args, **_kwargs):  # noqa: ANN002, ANN003, ANN202
        raise AssertionError("the token was searched")

    monkeypatch.setattr(PKCS11KeyBackend, "_find", staticmethod(no_search))
    signature = backend.sign(made.handle, DATA, "sha256")
    assert verify_signature(backend.public_key(made.handle), signature, DATA, "sha256")


def test_a_fresh_label_is_not_searched_for_and_a_label_met_twice_is_refused_at_signing(token: SoftHSMToken) -> None:
    """Issue 17: a label the caller drew fresh (a held key's 128 random bits) is generated without a search of the
    token; should one ever be on the token twice, no signature is made with either (the label is not unique)."""
    backend = PKCS11KeyBackend(token.module_path, token.label, token.pin)
    label = _label("fresh")
    made = backend.generate(KeyAlgorithm.EC_P256, label, fresh=True)
    backend.generate(KeyAlgorithm.EC_P256, label, fresh=True)   # not searched for: made again, no KeyExists
    other = PKCS11KeyBackend(token.module_path, token.label, token.pin)   # finds the label on the token, twice
    with pytest.raises(KeyError_, match="not unique"):
        other.sign(made.handle, DATA, "sha256")
    with pytest.raises(KeyExists):
        backend.generate(KeyAlgorithm.EC_P256, label)


def test_a_backend_keeps_at_most_keys_kept_keys_found_and_finds_an_older_one_again(
        token: SoftHSMToken, monkeypatch) -> None:
    """Issue 17: the objects of the keys used lately are kept (a held key per borrower would otherwise grow a
    worker's memory without end); a key that fell out is found on the token again when it signs."""
    import keys.pkcs11 as module

    monkeypatch.setattr(module, "KEYS_KEPT", 2)
    backend = PKCS11KeyBackend(token.module_path, token.label, token.pin)
    made = [backend.generate(KeyAlgorithm.EC_P256, _label("lru"), fresh=True) for _ in range(3)]
    assert list(backend._keys) == [made[1].label, made[2].label]   # noqa: SLF001 - the cache itself is the subject
    signature = backend.sign(made[0].handle, DATA, "sha256")
    assert verify_signature(backend.public_key(made[0].handle), signature, DATA, "sha256")
    assert list(backend._keys) == [made[2].label, made[0].label]   # noqa: SLF001


def test_a_key_not_found_is_searched_for_again_before_not_found_is_answered(
        backend: PKCS11KeyBackend, ec_key, monkeypatch) -> None:
    """Issue 17: another worker's new held key may not show in SoftHSM2's view of the token (an object read while
    the other process wrote it stays broken until the module is initialised again), so a key not found is looked
    for again, the second time after re-initialising the module, KEY_NOT_FOUND_ATTEMPTS in all, before the answer
    is "not found"."""
    import keys.pkcs11 as module

    real, calls, renewed = PKCS11KeyBackend._key, [], []
    reinitialise = module._reinitialise
    monkeypatch.setattr(module, "_reinitialise", lambda path: renewed.append(path) or reinitialise(path))
    other = PKCS11KeyBackend(backend._module_path, backend._token_label, backend._pin)   # noqa: SLF001
    other_key = other.generate(KeyAlgorithm.EC_P256, _label("other"), fresh=True)

    def late(self, session, label):  # noqa: ANN001, ANN202
        calls.append(label)
        if len(calls) <= 2 or label == "never-made":
            raise KeyNotFound(f"no private key labelled {label!r}")
        return real(self, session, label)

    monkeypatch.setattr(PKCS11KeyBackend, "_key", late)
    signature = backend.sign(ec_key.handle, DATA, "sha256")
    assert len(calls) == 3 and len(renewed) == 1   # the second miss read the token anew (C_Initialize again)
    monkeypatch.setattr(PKCS11KeyBackend, "_key", real)
    assert verify_signature(backend.public_key(ec_key.handle), signature, DATA, "sha256")
    # Another backend of the process lost its session with the re-initialisation, opens a new one and signs.
    assert verify_signature(other.public_key(other_key.handle), other.sign(other_key.handle, DATA, "sha256"), DATA,
                            "sha256")
    monkeypatch.setattr(PKCS11KeyBackend, "_key", late)
    calls.clear()
    with pytest.raises(KeyNotFound):
        backend.sign("pkcs11:never-made", DATA, "sha256")
    assert len(calls) == module.KEY_NOT_FOUND_ATTEMPTS


def test_after_the_module_is_initialised_again_every_backend_signs_with_its_own_key(token: SoftHSMToken) -> None:
    """Issue 17: initialising the module again voids every session and object handle of the process, and the
    module numbers new ones from the start; a backend that kept keys found before drops them and finds them
    again, so it never signs with an object that now has another key's number."""
    from keys.pkcs11_session import library_lock, reinitialise

    backends = [PKCS11KeyBackend(token.module_path, token.label, token.pin) for _ in range(3)]
    keys = [b.generate(KeyAlgorithm.EC_P256, _label("epoch"), fresh=True) for b in backends]
    publics = [b.public_key(k.handle) for b, k in zip(backends, keys)]
    for b, k in zip(backends, keys):
        b.sign(k.handle, DATA, "sha256")   # every backend holds a session and its key's handles
    with library_lock(token.module_path):
        reinitialise(token.module_path)
    # The backends come back in another order, so new numbers land on other backends' old ones.
    for b, k, public in reversed(list(zip(backends, keys, publics))):
        assert verify_signature(public, b.sign(k.handle, DATA, "sha256"), DATA, "sha256")
    for b, k, public in zip(backends, keys, publics):
        assert verify_signature(public, b.sign(k.handle, DATA, "sha256"), DATA, "sha256")


def _self_signed_builder(public_key, cn: str) -> x509.CertificateBuilder:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


@pytest.mark.parametrize("which", ["rsa", "ec"])
def test_sign_certificate_on_token(backend, rsa_key, ec_key, which: str, tmp_path: Path) -> None:
    openssl = require_tool("openssl")
    info = rsa_key if which == "rsa" else ec_key
    public = backend.public_key(info.handle)
    cert = sign_certificate(backend, info.handle, _self_signed_builder(public, f"HSM {which} CA"))

    cert.verify_directly_issued_by(cert)
    assert cert.public_key() == public
    assert cert.signature_hash_algorithm.name == "sha256"
    der = cert.public_bytes(serialization.Encoding.DER)
    parsed = asn1_x509.Certificate.load(der)
    assert parsed["signature_algorithm"].dump() == parsed["tbs_certificate"]["signature"].dump()
    if which == "rsa":
        assert parsed["signature_algorithm"].dump().endswith(b"\x05\x00")  # explicit NULL

    path = tmp_path / "ca.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    shown = subprocess.run(
        [openssl, "x509", "-in", str(path), "-noout", "-text"], capture_output=True, text=True, timeout=60
    )
    assert shown.returncode == 0, shown.stderr
    assert f"HSM {which} CA" in shown.stdout
    verified = subprocess.run(
        [openssl, "verify", "-CAfile", str(path), str(path)], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr

    # The generic helper the CRL/OCSP code will use gives the same shape.
    sig_alg, signature = sign_tbs(backend, info.handle, cert.tbs_certificate_bytes, "sha256")
    assert sig_alg == parsed["signature_algorithm"].dump()
    assert verify_signature(public, signature, cert.tbs_certificate_bytes, "sha256")


def test_backend_reconnects_after_module_reinitialisation(
    backend: PKCS11KeyBackend, rsa_key, tmp_path: Path
) -> None:
    before = backend.sign(rsa_key.handle, DATA, "sha256")
    # Adding a token re-initialises the module, killing every open session.
    softhsm_token(tmp_path)
    after = backend.sign(rsa_key.handle, DATA, "sha256")
    public = backend.public_key(rsa_key.handle)
    assert verify_signature(public, before, DATA, "sha256")
    assert verify_signature(public, after, DATA, "sha256")


# PKCS#11 v2.40 §2.48: CKM_GOSTR3410_KEY_PAIR_GEN, CKM_GOSTR3410, CKM_GOSTR3410_WITH_GOSTR3411, CKM_GOSTR3411.
_GOST_MECHANISMS = {0x1200, 0x1201, 0x1202, 0x1210}


def test_softhsm_offers_no_gost_mechanism(token: SoftHSMToken) -> None:
    """Why the backend refuses GOST (DOMAIN.md KZ-5; docs/DECISIONS.md GOST). Fails if a build ever adds it."""
    module_path, label, _pin = token
    slot = pkcs11.lib(module_path).get_token(token_label=label).slot
    offered = {int(m) for m in slot.get_mechanisms()}
    assert offered and not offered & _GOST_MECHANISMS


@pytest.mark.parametrize("algorithm", [KeyAlgorithm.GOST_2015_256, KeyAlgorithm.GOST_2015_512])
def test_kz5_pkcs11_backend_refuses_gost_key_generation_clearly(backend: PKCS11KeyBackend, algorithm) -> None:
    from keys import UnsupportedAlgorithm

    label = f"gost-{secrets.token_hex(4)}"
    with pytest.raises(UnsupportedAlgorithm, match="does not generate GOST keys.*software backend"):
        backend.generate(algorithm, label)
    assert label not in {info.label for info in backend.list_keys()}


def test_read_public_key_asks_the_token_now(token: SoftHSMToken, backend: PKCS11KeyBackend) -> None:
    """Issue 17, readiness: ``read_public_key`` goes to the token; ``public_key`` may answer from the cache."""
    from cryptography.hazmat.primitives import serialization

    info = backend.generate(KeyAlgorithm.EC_P256, _label("ready"))
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    cached = backend.public_key(info.handle).public_bytes(*der)
    assert backend.read_public_key(info.handle).public_bytes(*der) == cached
    other = PKCS11KeyBackend(*token)
    other.destroy(info.handle)          # another process removes the key from the token
    other.close()
    assert backend.public_key(info.handle).public_bytes(*der) == cached   # this process's cache
    with pytest.raises(KeyNotFound):
        backend.read_public_key(info.handle)
