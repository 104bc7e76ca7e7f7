"""The one interface every key backend offers.

A caller never sees private-key bytes: it names a key by its handle and asks
the backend to sign. The handle is a short string that is safe to store in
the registry (``soft:<id>`` or ``pkcs11:<label>``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from keys.gost import TC26_256_A, TC26_512_A, Curve, GostPublicKey


class KeyAlgorithm(str, enum.Enum):
    """Key types a backend can generate.

    GOST_2015_256 / GOST_2015_512: ST RK GOST R 34.10-2015 on the curves the
    NCA uses (id-tc26-gost-3410-2012-256-paramSetA and
    id-tc26-gost-3410-12-512-paramSetA, DOMAIN.md KZ-5), with Streebog.
    """

    RSA_2048 = "rsa-2048"
    RSA_3072 = "rsa-3072"
    RSA_4096 = "rsa-4096"
    EC_P256 = "ec-p256"
    EC_P384 = "ec-p384"
    GOST_2015_256 = "gost2015-256"
    GOST_2015_512 = "gost2015-512"

    @property
    def is_rsa(self) -> bool:
        return self.value.startswith("rsa-")

    @property
    def is_ec(self) -> bool:
        return self.value.startswith("ec-")

    @property
    def is_gost(self) -> bool:
        return self.value.startswith("gost")

    @property
    def gost_curve(self) -> Curve:
        if self is KeyAlgorithm.GOST_2015_256:
            return TC26_256_A
        if self is KeyAlgorithm.GOST_2015_512:
            return TC26_512_A
        raise UnsupportedAlgorithm(f"{self.value} is not a GOST key type")

    @property
    def rsa_bits(self) -> int:
        return int(self.value.split("-")[1])

    @property
    def default_hash(self) -> str:
        """Hash paired with the key: SHA-256 for RSA (DOMAIN.md KZ-5), curve size for EC, Streebog for GOST."""
        if self.is_gost:
            return "streebog512" if self is KeyAlgorithm.GOST_2015_512 else "streebog256"
        return "sha384" if self is KeyAlgorithm.EC_P384 else "sha256"


class KeyError_(Exception):
    """Base for key-backend failures (kept out of the builtin KeyError's way)."""


class KeyNotFound(KeyError_):
    pass


class KeyBackendUnavailable(KeyError_):
    pass


class KeyExists(KeyError_):
    """A label that must be unique (PKCS#11) is already taken."""


class UnsupportedAlgorithm(KeyError_, ValueError):
    """A key type or hash name this backend cannot handle."""


class MasterKeyError(KeyError_):
    """The master key is missing, malformed or too short."""


class MasterKeyMismatch(KeyError_):
    """A key file does not open under the configured master key."""


class WrongPassword(KeyError_):
    """A PKCS#12 carrier did not open with the given password."""


class SignatureCheckFailed(KeyError_):
    """A backend returned a signature its own public key rejects."""


@dataclass(frozen=True)
class KeyInfo:
    handle: str
    algorithm: KeyAlgorithm
    label: str


@runtime_checkable
class KeyBackend(Protocol):
    """Generate, sign, public key, handle: what the rest of the project may ask."""

    name: str

    def generate(self, algorithm: KeyAlgorithm, label: str, *, fresh: bool = False) -> KeyInfo:
        """Create a key pair that stays in the backend; return its handle. ``fresh``: the caller drew ``label``
        new (128 random bits), so a backend naming keys by label need not search the token for it first."""

    def sign(self, handle: str, data: bytes, hash_name: str) -> bytes:
        """Sign ``data`` (hashed here with ``hash_name``).

        RSA uses PKCS#1 v1.5; ECDSA returns the DER ``Ecdsa-Sig-Value``, so
        the result drops straight into X.509 and CMS structures.
        """

    def public_key(self, handle: str) -> PublicKeyTypes:
        """The public half as a ``cryptography`` object."""

    def algorithm(self, handle: str) -> KeyAlgorithm:
        """The key's algorithm."""

    def owns(self, handle: str) -> bool:
        """True when the handle is one of this backend's."""

    def destroy(self, handle: str) -> None:
        """Destroy the key pair for good: it can never be loaded or used again.

        Raises KeyNotFound when the backend holds no such key (a second call).
        """


_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


GOST_HASHES = ("streebog256", "streebog512", "gost34311")


def normalise_hash_name(hash_name: str) -> str:
    """``sha256``-style name of a hash ``cryptography`` knows, or a GOST digest name."""
    normalised = hash_name.lower().replace("-", "").replace("_", "")
    if normalised in GOST_HASHES:
        return normalised
    return hash_algorithm(hash_name).name


def hash_algorithm(hash_name: str) -> hashes.HashAlgorithm:
    """``cryptography`` hash object for a name such as ``sha256`` or ``SHA-256``."""
    normalised = hash_name.lower().replace("-", "").replace("_", "")
    try:
        return _HASHES[normalised]()
    except KeyError:
        raise UnsupportedAlgorithm(f"unsupported hash {hash_name!r}") from None


def algorithm_of(public_key: PublicKeyTypes) -> KeyAlgorithm:
    """The :class:`KeyAlgorithm` a public key belongs to."""
    if isinstance(public_key, rsa.RSAPublicKey):
        try:
            return KeyAlgorithm(f"rsa-{public_key.key_size}")
        except ValueError:
            pass
    elif isinstance(public_key, GostPublicKey):
        if public_key.curve is TC26_256_A:
            return KeyAlgorithm.GOST_2015_256
        if public_key.curve is TC26_512_A:
            return KeyAlgorithm.GOST_2015_512
    elif isinstance(public_key, ec.EllipticCurvePublicKey):
        if isinstance(public_key.curve, ec.SECP256R1):
            return KeyAlgorithm.EC_P256
        if isinstance(public_key.curve, ec.SECP384R1):
            return KeyAlgorithm.EC_P384
    raise UnsupportedAlgorithm(f"unsupported public key {type(public_key).__name__}")


@dataclass(frozen=True)
class VerifiedSignature:
    """What ``verify_signature`` returns when the signature verifies: the key's kind and the hash."""

    key_kind: str   # "rsa", "ec" or "gost"
    hash_name: str


def verify_signature(
    public_key: PublicKeyTypes, signature: bytes, data: bytes, hash_name: str
) -> VerifiedSignature:
    """Check this project's RSA/ECDSA/GOST ``signature`` over ``data``; raise ``InvalidSignature`` if it fails.

    As pyca/cryptography's own ``verify`` does: a bad signature cannot be
    mistaken for a good one by a caller that forgets to look at a boolean.
    GOST signatures are in the NCA's byte layout (keys/gost/signature.py).
    """
    if isinstance(public_key, GostPublicKey):
        name = normalise_hash_name(hash_name)
        public_key.verify(signature, data, name)
        return VerifiedSignature("gost", name)
    digest = hash_algorithm(hash_name)
    name = digest.name
    if isinstance(public_key, rsa.RSAPublicKey):
        public_key.verify(signature, data, padding.PKCS1v15(), digest)
        return VerifiedSignature("rsa", name)
    if isinstance(public_key, ec.EllipticCurvePublicKey):
        public_key.verify(signature, data, ec.ECDSA(digest))
        return VerifiedSignature("ec", name)
    raise UnsupportedAlgorithm(
        f"unsupported public key {type(public_key).__name__}"
    )

