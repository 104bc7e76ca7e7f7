"""Software keys: private keys kept on disk only as encrypted PKCS#8.

Layout of the key directory, one pair of files per key::

    <id>.key   PEM "ENCRYPTED PRIVATE KEY" (PBES2, PBKDF2-HMAC-SHA256, AES-256-CBC)
    <id>.json  {"format", "algorithm", "label", "public_key"} -- nothing secret

The PKCS#8 password is not the master key itself but
``hex(HMAC-SHA256(master, "qoltanba soft-key v1 " + id))``: every file gets its
own password, and the master key never reaches a KDF whose output is stored
next to the ciphertext. The sidecar's public key lets ``public_key()`` answer
without decrypting and catches a ``.key`` file copied under the wrong id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed
from cryptography.hazmat.primitives.asymmetric.types import (
    PrivateKeyTypes,
    PublicKeyTypes,
)

from keys.backend import (
    KeyAlgorithm,
    KeyError_,
    KeyInfo,
    KeyNotFound,
    MasterKeyError,
    MasterKeyMismatch,
    UnsupportedAlgorithm,
    algorithm_of,
    hash_algorithm,
    normalise_hash_name,
)
from keys.files import fsync_dir, write_atomic
from keys.gost import GostPrivateKey, GostPublicKey, pkcs8, private_key_from_info, private_key_info_der, spki_der
from keys.gost import public_key as gost_public_key

HANDLE_PREFIX = "soft:"
_FORMAT = "qoltanba-soft-key/1"
_ID_RE = re.compile(r"[0-9a-f]{32}")
MIN_MASTER_KEY_BYTES = 32

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | GostPrivateKey


def generate_private_key(algorithm: KeyAlgorithm) -> SigningKey:
    if algorithm.is_rsa:
        return rsa.generate_private_key(public_exponent=65537, key_size=algorithm.rsa_bits)
    if algorithm is KeyAlgorithm.EC_P256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm is KeyAlgorithm.EC_P384:
        return ec.generate_private_key(ec.SECP384R1())
    if algorithm.is_gost:
        return GostPrivateKey.generate(algorithm.gost_curve)
    raise UnsupportedAlgorithm(f"software backend cannot generate {algorithm.value}")


def sign_with(private_key: PrivateKeyTypes, data: bytes, hash_name: str) -> bytes:
    """RSA PKCS#1 v1.5, DER ECDSA, or GOST in the NCA's byte layout (r ‖ s, little-endian halves)."""
    if isinstance(private_key, GostPrivateKey):
        # GOST R 34.10-2015 fixes the hash by key size; another one is refused, not silently replaced.
        name = normalise_hash_name(hash_name)
        wanted = algorithm_of(private_key.public_key()).default_hash
        if name != wanted:
            raise UnsupportedAlgorithm(f"a {private_key.curve.name} key signs with {wanted}, not {hash_name}")
        return private_key.sign(data, name)
    digest = hash_algorithm(hash_name)
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(data, padding.PKCS1v15(), digest)
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(digest))
    raise UnsupportedAlgorithm(f"unsupported private key {type(private_key).__name__}")


def sign_digest_with(private_key: PrivateKeyTypes, digest: bytes, hash_name: str) -> bytes:
    """The signature over a digest computed elsewhere (a remote signing client's, CSC signHash): RSA PKCS#1 v1.5
    or DER ECDSA, exactly as ``sign_with`` over the data that hashes to ``digest``. GOST is refused."""
    algorithm = hash_algorithm(hash_name)
    if len(digest) != algorithm.digest_size:
        raise UnsupportedAlgorithm(f"a {hash_name} digest is {algorithm.digest_size} bytes, not {len(digest)}")
    if isinstance(private_key, rsa.RSAPrivateKey):
        return private_key.sign(digest, padding.PKCS1v15(), Prehashed(algorithm))
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(digest, ec.ECDSA(Prehashed(algorithm)))
    raise UnsupportedAlgorithm(f"a {type(private_key).__name__} does not sign a digest given to it")


def check_master_key(master_key: bytes) -> None:
    if not isinstance(master_key, (bytes, bytearray)):
        raise MasterKeyError("master key must be bytes")
    if len(master_key) < MIN_MASTER_KEY_BYTES:
        raise MasterKeyError(
            f"master key is {len(master_key)} bytes; at least {MIN_MASTER_KEY_BYTES} are required"
        )


def _spki(public_key: PublicKeyTypes | GostPublicKey) -> bytes:
    if isinstance(public_key, GostPublicKey):
        return spki_der(public_key)
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class _Meta:
    info: KeyInfo
    public_key: PublicKeyTypes
    spki: bytes


class SoftwareKeyBackend:
    """Keys encrypted under a master key in ``directory``; decrypted once, then cached.

    Several processes may share the directory. After ``rotate_master`` in one
    of them the others keep signing with keys they already decrypted, but must
    be restarted with the new master key before they can open any other key.
    """

    name = "soft"

    def __init__(self, directory: Path, master_key: bytes) -> None:
        check_master_key(master_key)
        self._dir = Path(directory)
        self._dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._master = bytes(master_key)
        # The lock guards disk access and the master key; the caches are
        # read without it because dict lookups are atomic and entries never change.
        self._lock = threading.RLock()
        self._keys: dict[str, SigningKey] = {}
        self._meta: dict[str, _Meta] = {}

    # -- KeyBackend -----------------------------------------------------------

    def generate(self, algorithm: KeyAlgorithm, label: str, *, fresh: bool = False) -> KeyInfo:
        algorithm = KeyAlgorithm(algorithm)
        private_key = generate_private_key(algorithm)
        key_id = uuid.uuid4().hex
        info = KeyInfo(handle=HANDLE_PREFIX + key_id, algorithm=algorithm, label=label)
        spki = _spki(private_key.public_key())
        sidecar = {
            "format": _FORMAT,
            "algorithm": algorithm.value,
            "label": label,
            "public_key": base64.b64encode(spki).decode("ascii"),
        }
        with self._lock:
            # The key file goes first: a sidecar is what makes a key visible,
            # so a crash in between leaves an orphan .key, never a dangling entry.
            write_atomic(self._key_path(key_id), self._encrypt(private_key, key_id, self._master))
            write_atomic(
                self._meta_path(key_id),
                json.dumps(sidecar, indent=1, sort_keys=True).encode("utf-8") + b"\n",
            )
            self._keys[key_id] = private_key
            self._meta[key_id] = _Meta(info, private_key.public_key(), spki)
        return info

    def sign(self, handle: str, data: bytes, hash_name: str) -> bytes:
        return sign_with(self._private_key(handle), data, hash_name)

    def sign_digest(self, handle: str, digest: bytes, hash_name: str) -> bytes:
        """The signature over ``digest``, already computed with ``hash_name`` (CSC signHash, issue 19)."""
        return sign_digest_with(self._private_key(handle), digest, hash_name)

    def public_key(self, handle: str) -> PublicKeyTypes:
        return self._load_meta(self._key_id(handle)).public_key

    def algorithm(self, handle: str) -> KeyAlgorithm:
        return self._load_meta(self._key_id(handle)).info.algorithm

    def read_public_key(self, handle: str) -> PublicKeyTypes:
        """The public key, with the encrypted key file checked on disk now (readiness, issue 17)."""
        key_id = self._key_id(handle)
        if not self._key_path(key_id).is_file():
            raise KeyNotFound(f"no software key {HANDLE_PREFIX}{key_id}")
        return self._load_meta(key_id).public_key

    def owns(self, handle: str) -> bool:
        return isinstance(handle, str) and handle.startswith(HANDLE_PREFIX)

    def destroy(self, handle: str) -> None:
        """Delete the encrypted key file, then its sidecar, and forget the cached key.

        The key file goes first: what makes the key usable disappears before
        what makes it visible, so an interruption leaves a sidecar without a
        key (nothing can sign; calling again finishes). Deleting ciphertext
        does not reach copies: backups of the key directory still hold it,
        encrypted under the master key. Another process sharing the directory
        keeps a key it already decrypted until it restarts.
        """
        key_id = self._key_id(handle)
        with self._lock:
            removed = False
            for path in (self._key_path(key_id), self._meta_path(key_id)):
                try:
                    path.unlink()
                    removed = True
                except FileNotFoundError:
                    pass
            self._keys.pop(key_id, None)
            self._meta.pop(key_id, None)
            if not removed:
                raise KeyNotFound(f"no software key {HANDLE_PREFIX}{key_id}")
            fsync_dir(self._dir)

    # -- management -----------------------------------------------------------

    def info(self, handle: str) -> KeyInfo:
        return self._load_meta(self._key_id(handle)).info

    def list_keys(self) -> list[KeyInfo]:
        infos = []
        for key_id in self._key_ids():
            infos.append(self._load_meta(key_id).info)
        return sorted(infos, key=lambda i: (i.label, i.handle))

    def verify_master(self) -> int:
        """Decrypt every key now (warming the cache); fail fast on a wrong master key."""
        key_ids = self._key_ids()
        for key_id in key_ids:
            self._private_key(HANDLE_PREFIX + key_id)
        return len(key_ids)

    def rotate_master(self, new_master_key: bytes) -> int:
        """Re-encrypt every key file under ``new_master_key``; return how many keys it now guards.

        Every key is decrypted before any file is rewritten, so a wrong current
        master key changes nothing. Files already under the new key (left by an
        interrupted rotation) are accepted, so the call can simply be repeated.
        """
        check_master_key(new_master_key)
        new_master = bytes(new_master_key)
        with self._lock:
            pending: list[tuple[str, SigningKey]] = []
            already = 0
            for key_id in self._key_ids():
                pem = self._read_key_file(key_id)
                try:
                    key = self._decrypt(pem, key_id, self._master)
                except MasterKeyMismatch:
                    try:
                        key = self._decrypt(pem, key_id, new_master)
                    except MasterKeyMismatch:
                        raise MasterKeyMismatch(
                            f"{key_id}.key opens under neither the current nor the new "
                            "master key; nothing was rewritten"
                        ) from None
                    already += 1
                    self._check_matches_meta(key_id, key)
                    continue
                self._check_matches_meta(key_id, key)
                pending.append((key_id, key))
            for key_id, key in pending:
                write_atomic(self._key_path(key_id), self._encrypt(key, key_id, new_master))
                self._keys.setdefault(key_id, key)
            self._master = new_master
            return len(pending) + already

    # -- internals ------------------------------------------------------------

    def _private_key(self, handle: str) -> SigningKey:
        """The decrypted key; only ``keys.x509sign`` may use this outside the class."""
        key_id = self._key_id(handle)
        key = self._keys.get(key_id)
        if key is not None:
            return key
        with self._lock:
            key = self._keys.get(key_id)
            if key is None:
                key = self._decrypt(self._read_key_file(key_id), key_id, self._master)
                self._check_matches_meta(key_id, key)
                self._keys[key_id] = key
            return key

    def _key_id(self, handle: str) -> str:
        if not self.owns(handle):
            raise KeyNotFound(f"not a software key handle: {handle!r}")
        key_id = handle[len(HANDLE_PREFIX):]
        # The id becomes a file name: anything but 32 hex digits is refused
        # before it can point outside the key directory.
        if not _ID_RE.fullmatch(key_id):
            raise KeyNotFound(f"malformed software key handle: {handle!r}")
        return key_id

    def _key_ids(self) -> list[str]:
        return sorted(
            p.stem
            for p in self._dir.glob("*.json")
            if _ID_RE.fullmatch(p.stem) and self._key_path(p.stem).exists()
        )

    def _key_path(self, key_id: str) -> Path:
        return self._dir / f"{key_id}.key"

    def _meta_path(self, key_id: str) -> Path:
        return self._dir / f"{key_id}.json"

    def _read_key_file(self, key_id: str) -> bytes:
        try:
            return self._key_path(key_id).read_bytes()
        except FileNotFoundError:
            raise KeyNotFound(f"no software key {HANDLE_PREFIX}{key_id}") from None

    def _load_meta(self, key_id: str) -> _Meta:
        meta = self._meta.get(key_id)
        if meta is not None:
            return meta
        try:
            raw = json.loads(self._meta_path(key_id).read_bytes())
        except FileNotFoundError:
            raise KeyNotFound(f"no software key {HANDLE_PREFIX}{key_id}") from None
        except ValueError as exc:
            raise KeyError_(f"damaged metadata for {HANDLE_PREFIX}{key_id}: {exc}") from exc
        if raw.get("format") != _FORMAT:
            raise KeyError_(f"unknown key file format {raw.get('format')!r} for {key_id}")
        spki = base64.b64decode(raw["public_key"])
        algorithm = KeyAlgorithm(raw["algorithm"])
        public_key = gost_public_key(spki) if algorithm.is_gost else serialization.load_der_public_key(spki)
        if algorithm_of(public_key) is not algorithm:
            raise KeyError_(f"metadata for {key_id} names {algorithm.value} but holds another key")
        info = KeyInfo(handle=HANDLE_PREFIX + key_id, algorithm=algorithm, label=raw["label"])
        meta = _Meta(info, public_key, spki)
        self._meta[key_id] = meta
        return meta

    def _check_matches_meta(self, key_id: str, key: SigningKey) -> None:
        if _spki(key.public_key()) != self._load_meta(key_id).spki:
            raise KeyError_(
                f"{key_id}.key does not hold the key its metadata describes; "
                "was a key file copied or renamed?"
            )

    @staticmethod
    def _password(master: bytes, key_id: str) -> bytes:
        mac = hmac.new(master, b"qoltanba soft-key v1 " + key_id.encode("ascii"), hashlib.sha256)
        return mac.hexdigest().encode("ascii")

    def _encrypt(self, key: SigningKey, key_id: str, master: bytes) -> bytes:
        # BestAvailableEncryption yields PBES2 / PBKDF2-SHA256 / AES-256-CBC for
        # PKCS#8 in cryptography 50 (encryption_builder() only serves PKCS#12
        # and OpenSSH); the password is a 256-bit derived value, so the modest
        # PBKDF2 round count costs no strength. cryptography cannot write a
        # GOST key: keys.gost.pkcs8 writes the same format for it.
        if isinstance(key, GostPrivateKey):
            return pkcs8.encrypt(private_key_info_der(key), self._password(master, key_id))
        return key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._password(master, key_id)),
        )

    def _decrypt(self, pem: bytes, key_id: str, master: bytes) -> SigningKey:
        if b"-----BEGIN ENCRYPTED PRIVATE KEY-----" not in pem:
            raise KeyError_(f"{key_id}.key is not an encrypted PKCS#8 key; refusing to use it")
        try:
            if self._load_meta(key_id).info.algorithm.is_gost:
                key = private_key_from_info(pkcs8.decrypt(pem, self._password(master, key_id)))
            else:
                key = serialization.load_pem_private_key(pem, password=self._password(master, key_id))
        except ValueError:
            raise MasterKeyMismatch(
                f"{key_id}.key does not decrypt under the configured master key "
                "(wrong master key, or the file is damaged)"
            ) from None
        if not isinstance(key, (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, GostPrivateKey)):
            raise UnsupportedAlgorithm(f"{key_id}.key holds an unsupported key type")
        return key
