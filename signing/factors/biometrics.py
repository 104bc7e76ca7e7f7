"""Biometric identification with liveness, without ever seeing a face (LOAN-2, LOAN-4, issue 5).

The service issues a liveness challenge: a random sequence of control
movements, none repeated, drawn afresh for every challenge (LOAN-4: a still
image or a replayed video cannot answer a sequence it has never seen). The
identity provider (ЦОИД, or the MFO's own device with biometrics captured
at registration) films the client, matches the face and checks the
movements, then returns a signed assertion:

    JWS compact serialisation (RFC 7515), ES256 (or EdDSA), claims
    iss   the provider's name          jti   the assertion id (used once)
    sub   the client's IIN             ref   the enrolment reference (optional)
    chl   our challenge id             mov   the movements performed, in order
    match the face matched             live  liveness passed
    iat   when, seconds since 1970

:class:`SignedAssertionVerifier` checks the signature with the provider's
configured public key and reads the claims; :func:`assertion_problems`
checks them against the request (IIN, challenge, freshness). Whether the
assertion id was seen before is the registry's to say. A real provider
whose native format differs plugs in as another :class:`AssertionVerifier`.

:class:`BiometricProviderSimulator` issues such assertions with its own key
for development and tests; it is never used in production mode.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass
from typing import Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from keys import load_simulator_key, simulator_key, simulator_key_pem

# Movements a phone camera can check; a challenge draws an ordered subset.
MOVEMENTS = ("turn-left", "turn-right", "look-up", "look-down", "blink", "smile", "open-mouth", "nod")
MAX_ASSERTION_BYTES = 8 * 1024
# iat is whole seconds since 1970; past the year 9999 (or before 1970) no datetime holds it, and no
# provider dates an assertion there, so such a claim is a refusal like any other unreadable one.
MAX_IAT = 253_402_300_799   # 9999-12-31T23:59:59Z


class AssertionRejected(ValueError):
    """The assertion cannot be read or its signature does not verify with the provider's key."""


def new_challenge(count: int, previous: tuple[str, ...] | None = None) -> tuple[str, ...]:
    """``count`` distinct movements in random order, never the same sequence as ``previous``."""
    if not 1 <= count <= len(MOVEMENTS):
        raise ValueError(f"a challenge has 1 to {len(MOVEMENTS)} movements")
    while True:
        pool = list(MOVEMENTS)
        sequence = tuple(pool.pop(secrets.randbelow(len(pool))) for _ in range(count))
        if sequence != previous:
            return sequence


@dataclass(frozen=True)
class Assertion:
    provider: str
    id: str
    iin: str
    challenge: str
    movements: tuple[str, ...]
    match: bool
    liveness: bool
    issued_at: dt.datetime
    reference: str | None = None


class AssertionVerifier(Protocol):
    """Turns what the identity provider returned into a verified :class:`Assertion`."""

    provider: str

    def verify(self, token: str) -> Assertion: ...


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise AssertionRejected("a part of the assertion is not base64url") from None


def _algorithm(key) -> str:  # noqa: ANN001 - a public or private key
    if isinstance(key, (ec.EllipticCurvePublicKey, ec.EllipticCurvePrivateKey)) and key.curve.name == "secp256r1":
        return "ES256"
    if isinstance(key, (ed25519.Ed25519PublicKey, ed25519.Ed25519PrivateKey)):
        return "EdDSA"
    raise ValueError("the identity provider's key must be EC P-256 (ES256) or Ed25519 (EdDSA)")


class SignedAssertionVerifier:
    """JWS assertions signed by one provider's key; the algorithm is the key's, never the token's choice."""

    def __init__(self, provider: str, public_key) -> None:  # noqa: ANN001 - EC P-256 or Ed25519 public key
        self.provider = provider
        self.public_key = public_key
        self.algorithm = _algorithm(public_key)

    @classmethod
    def from_pem(cls, provider: str, pem: bytes) -> "SignedAssertionVerifier":
        return cls(provider, serialization.load_pem_public_key(pem))

    def verify(self, token: str) -> Assertion:
        if not isinstance(token, str) or len(token) > MAX_ASSERTION_BYTES or token.count(".") != 2:
            raise AssertionRejected("the assertion is not a JWS compact serialisation")
        header_b64, payload_b64, signature_b64 = token.split(".")
        try:
            header = json.loads(_unb64(header_b64))
            claims = json.loads(_unb64(payload_b64))
        except (ValueError, RecursionError):
            # RecursionError: JSON nested deeper than the parser goes is no assertion either.
            raise AssertionRejected("the assertion's header or claims are not JSON") from None
        if not isinstance(header, dict) or header.get("alg") != self.algorithm:
            raise AssertionRejected(f"the assertion must be signed with {self.algorithm}")
        if "crit" in header:
            raise AssertionRejected("the assertion names critical header parameters we do not know")
        self._check_signature(f"{header_b64}.{payload_b64}".encode(), _unb64(signature_b64))
        return _claims(claims)

    def _check_signature(self, signed: bytes, signature: bytes) -> None:
        try:
            if self.algorithm == "ES256":
                if len(signature) != 64:
                    raise AssertionRejected("an ES256 signature is 64 bytes")
                der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
                self.public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            else:
                self.public_key.verify(signature, signed)
        except InvalidSignature:
            raise AssertionRejected("the assertion's signature does not verify with the provider's key") from None


def _claims(claims: object) -> Assertion:
    if not isinstance(claims, dict):
        raise AssertionRejected("the assertion's claims are not an object")
    strings = {k: claims.get(k) for k in ("iss", "jti", "sub", "chl")}
    if not all(isinstance(v, str) and 0 < len(v) <= 128 for v in strings.values()):
        raise AssertionRejected("the assertion needs iss, jti, sub and chl as strings")
    movements = claims.get("mov")
    if not isinstance(movements, list) or not all(isinstance(m, str) for m in movements):
        raise AssertionRejected("the assertion needs mov, the movements performed")
    if not isinstance(claims.get("match"), bool) or not isinstance(claims.get("live"), bool):
        raise AssertionRejected("the assertion needs match and live as booleans")
    issued = claims.get("iat")
    if isinstance(issued, bool) or not isinstance(issued, int) or not 0 <= issued <= MAX_IAT:
        raise AssertionRejected(f"the assertion needs iat, whole seconds since 1970 (0 to {MAX_IAT})")
    reference = claims.get("ref")
    if reference is not None and not isinstance(reference, str):
        raise AssertionRejected("ref must be a string")
    return Assertion(provider=strings["iss"], id=strings["jti"], iin=strings["sub"], challenge=strings["chl"],
                     movements=tuple(movements), match=claims["match"], liveness=claims["live"],
                     issued_at=dt.datetime.fromtimestamp(issued, dt.timezone.utc), reference=reference)


def assertion_problems(assertion: Assertion, *, provider: str, iin: str, challenge_id: str,
                       movements: tuple[str, ...], challenge_issued_at: dt.datetime, now: dt.datetime,
                       max_age: dt.timedelta, skew: dt.timedelta, reference: str | None = None) -> list[str]:
    """Why the assertion does not prove this client answered this challenge just now (empty if it does)."""
    problems = []
    if assertion.provider != provider:
        problems.append(f"was issued by {assertion.provider!r}, not the configured provider")
    if assertion.iin != iin:
        problems.append("names another person than the client")
    if reference is not None and assertion.reference not in (None, reference):
        problems.append("names another biometric enrolment than the client's")
    if assertion.challenge != challenge_id:
        problems.append("answers another challenge than the one issued")
    elif assertion.movements != movements:
        problems.append("does not report the challenge's movements in order")
    if not assertion.match:
        problems.append("reports that the face did not match")
    if not assertion.liveness:
        problems.append("reports that liveness failed (LOAN-4)")
    if assertion.issued_at > now + skew:
        problems.append("is dated in the future")
    elif now - assertion.issued_at > max_age:
        problems.append(f"is older than {int(max_age.total_seconds() // 60)} minutes")
    elif assertion.issued_at < challenge_issued_at - skew:
        problems.append("is older than the challenge it claims to answer")
    return problems


class BiometricProviderSimulator:
    """A stand-in identity provider for development and tests: signs assertions with its own P-256 key.

    It answers whatever it is asked, including wrong answers, so tests can
    show each refusal. The service trusts it only because its public key is
    the configured provider key; production mode refuses the simulator.
    """

    def __init__(self, name: str = "simulator", private_key: ec.EllipticCurvePrivateKey | None = None) -> None:
        self.name = name
        self._key = private_key or simulator_key()

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        return self._key.public_key()

    def public_key_pem(self) -> bytes:
        return self.public_key.public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)

    def private_key_pem(self) -> bytes:
        return simulator_key_pem(self._key)

    @classmethod
    def from_pem(cls, pem: bytes, name: str = "simulator") -> "BiometricProviderSimulator":
        return cls(name, load_simulator_key(pem))

    def verifier(self) -> SignedAssertionVerifier:
        return SignedAssertionVerifier(self.name, self.public_key)

    def assertion(self, *, iin: str, challenge: str, movements, at: dt.datetime, match: bool = True,
                  liveness: bool = True, assertion_id: str | None = None, reference: str | None = None,
                  issuer: str | None = None) -> str:
        """What the provider returns after filming the client perform ``movements``."""
        claims = {"iss": issuer or self.name, "jti": assertion_id or uuid.uuid4().hex, "sub": iin,
                  "chl": challenge, "mov": list(movements), "match": match, "live": liveness,
                  "iat": int(at.timestamp())}
        if reference is not None:
            claims["ref"] = reference
        header = _b64(json.dumps({"alg": "ES256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
        r, s = decode_dss_signature(self._key.sign(f"{header}.{payload}".encode(), ec.ECDSA(hashes.SHA256())))
        return f"{header}.{payload}.{_b64(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"
