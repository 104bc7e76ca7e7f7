"""GOST R 34.10-2012 / ST RK GOST R 34.10-2015 signatures (and 34.310-2004 ones).

The scheme (GOST R 34.10-2012 §6; RFC 7091 §6): with the digest read as the
integer α, e = α mod q (1 if that is 0); signing picks k, C = kP,
r = x_C mod q, s = (rd + ke) mod q; verification recomputes
C = (s/e)P - (r/e)Q and compares x_C mod q with r. GOST 34.310-2004 is the
same scheme on a 256-bit curve with the GOST 34.311-95 digest.

Byte conventions, measured on the NCA RK's certificates
(shared/vectors/nca-rk/README.md) and kept here only:

- a digest is read as a little-endian integer (α = int.from_bytes(h, "little"));
- a public key is X ‖ Y, each little-endian, as in RFC 4491 §2.3.2;
- the NCA's signature is r ‖ s, each little-endian: the integer s·2^(8n) + r
  written little-endian. RFC 4491 §2.2.2 (TC26 / CryptoPro OIDs) writes the
  same integer big-endian (s ‖ r, big-endian halves), i.e. the NCA's bytes
  reversed. :func:`encode_signature` takes the layout to use.

Verification raises ``cryptography.exceptions.InvalidSignature`` rather
than returning False, like every verifier of ``cryptography``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature

import keys.gost.arith as arith
from keys.gost.curves import Curve

NCA = "nca"        # r ‖ s, little-endian halves (Kazakh OIDs)
RFC4491 = "rfc4491"  # s ‖ r, big-endian halves (TC26 and CryptoPro OIDs)


def digest_to_e(digest: bytes, q: int) -> int:
    e = int.from_bytes(digest, "little") % q
    return e or 1


def encode_signature(r: int, s: int, size: int, layout: str = NCA) -> bytes:
    data = r.to_bytes(size, "little") + s.to_bytes(size, "little")
    if layout == NCA:
        return data
    if layout == RFC4491:
        return data[::-1]
    raise ValueError(f"unknown signature layout {layout!r}")


def decode_signature(signature: bytes, size: int, layout: str = NCA) -> tuple[int, int]:
    if len(signature) != 2 * size:
        raise InvalidSignature(f"a signature on this curve is {2 * size} bytes, not {len(signature)}")
    if layout == RFC4491:
        signature = signature[::-1]
    elif layout != NCA:
        raise ValueError(f"unknown signature layout {layout!r}")
    return int.from_bytes(signature[:size], "little"), int.from_bytes(signature[size:], "little")


@dataclass(frozen=True)
class GostPublicKey:
    curve: Curve
    x: int
    y: int

    def __post_init__(self) -> None:
        if not self.curve.contains(self.x, self.y):
            raise ValueError(f"the point is not on {self.curve.name}")

    @classmethod
    def from_bytes(cls, curve: Curve, data: bytes) -> "GostPublicKey":
        """X ‖ Y, each little-endian (RFC 4491 §2.3.2; what the NCA's certificates carry)."""
        n = curve.size
        if len(data) != 2 * n:
            raise ValueError(f"a public key on {curve.name} is {2 * n} bytes, not {len(data)}")
        return cls(curve, int.from_bytes(data[:n], "little"), int.from_bytes(data[n:], "little"))

    def to_bytes(self) -> bytes:
        n = self.curve.size
        return self.x.to_bytes(n, "little") + self.y.to_bytes(n, "little")

    def verify_digest(self, signature: bytes, digest: bytes, layout: str = NCA) -> None:
        """Raise InvalidSignature unless ``signature`` signs ``digest`` with this key."""
        curve = self.curve
        q = curve.q
        r, s = decode_signature(signature, curve.size, layout)
        if not (0 < r < q and 0 < s < q):
            raise InvalidSignature("r or s is out of range")
        v = pow(digest_to_e(digest, q), -1, q)
        z1, z2 = s * v % q, (q - r) * v % q
        point = arith.add(curve, arith.multiply_base(curve, z1), arith.multiply(curve, z2, self.x, self.y))
        affine = arith.to_affine(point, curve.p)
        if affine is None or affine[0] % q != r:
            raise InvalidSignature("the signature does not match")

    def verify(self, signature: bytes, data: bytes, hash_name: str | None = None, layout: str = NCA) -> None:
        """Hash ``data`` (Streebog of the curve's size unless ``hash_name`` says otherwise) and verify."""
        from keys.gost.hashes import digest as hash_digest

        self.verify_digest(signature, hash_digest(hash_name or default_hash(self.curve), data), layout)


class GostPrivateKey:
    """A GOST private key d, 0 < d < q. Kept as an int; never printed."""

    __slots__ = ("_curve", "_d", "_public")

    def __init__(self, curve: Curve, d: int) -> None:
        if not 0 < d < curve.q:
            raise ValueError("the private key is out of range")
        self._curve = curve
        self._d = d
        self._public: GostPublicKey | None = None

    def __repr__(self) -> str:
        return f"<GostPrivateKey {self._curve.name}>"

    @classmethod
    def generate(cls, curve: Curve) -> "GostPrivateKey":
        return cls(curve, secrets.randbelow(curve.q - 1) + 1)

    @classmethod
    def from_bytes(cls, curve: Curve, data: bytes) -> "GostPrivateKey":
        """Little-endian, as in the NCA's PKCS#8 and RFC 4491 / RFC 9215."""
        return cls(curve, int.from_bytes(data, "little") % curve.q)

    def to_bytes(self) -> bytes:
        return self._d.to_bytes(self._curve.size, "little")

    @property
    def curve(self) -> Curve:
        return self._curve

    def public_key(self) -> GostPublicKey:
        if self._public is None:
            x, y = arith.to_affine(arith.multiply_base(self._curve, self._d), self._curve.p)
            self._public = GostPublicKey(self._curve, x, y)
        return self._public

    def sign_digest(self, digest: bytes, layout: str = NCA, k: int | None = None) -> bytes:
        """Sign a digest; ``k`` is for the standard's worked examples only."""
        curve = self._curve
        q = curve.q
        e = digest_to_e(digest, q)
        while True:
            nonce = k if k is not None else secrets.randbelow(q - 1) + 1
            c = arith.to_affine(arith.multiply_base(curve, nonce), curve.p)
            r = c[0] % q if c else 0
            s = (r * self._d + nonce * e) % q
            if r and s:
                return encode_signature(r, s, curve.size, layout)
            if k is not None:
                raise ValueError("this k gives r = 0 or s = 0")

    def sign(self, data: bytes, hash_name: str | None = None, layout: str = NCA) -> bytes:
        from keys.gost.hashes import digest as hash_digest

        return self.sign_digest(hash_digest(hash_name or default_hash(self._curve), data), layout)


def default_hash(curve: Curve) -> str:
    """GOST R 34.10-2012 pairs a 256-bit key with Streebog-256 and a 512-bit one with Streebog-512."""
    return "streebog512" if curve.size == 64 else "streebog256"
