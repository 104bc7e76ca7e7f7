"""The CSC door's credentials (issue 19): which keys a tenant may name, and what credentials/info says of them.

Two kinds of credential, each reached through the signer the wiring made
for it and nothing else:

- ``held-<serial>``: a borrower's key the service holds (issue 15,
  ca/held_keys.py), a certificate of our national CA whose holder is a
  client of the calling tenant; it signs only with the borrower's
  authorisation of exactly these hashes (SCAL 2, EN 419 241-1): their PIN
  (the cabinet password) and an SMS code (csc_factors.py).
- ``seal-<tenant>``: the tenant's own seal (signing/tenants/seals.py); only
  that tenant names it.

A credential of another tenant is not found, exactly like one that never
existed (CSC's "Invalid parameter credentialID").

Errors are the CSC API's (v1.0.4 section 10 and the error tables of each
method): an ``error`` code and an ``error_description``, 400 for a bad
request, 401 for a missing or bad access token.
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from ca.policy import NATIONAL
from registry import CertificateRow, CertificateStatus, ClientRow
from signing.documents.metadata import holder_matches

HELD, SEAL = "held-", "seal-"

# OIDs (RFC 5758 section 3.2, RFC 4055 section 5, NIST CSOR): what credentials/info lists as key/algo and what
# signatures/signHash accepts as hashAlgo and signAlgo.
HASHES = {"2.16.840.1.101.3.4.2.1": "sha256", "2.16.840.1.101.3.4.2.2": "sha384",
          "2.16.840.1.101.3.4.2.3": "sha512"}
_EC_ALGOS = {"1.2.840.10045.4.3.2": "sha256", "1.2.840.10045.4.3.3": "sha384", "1.2.840.10045.4.3.4": "sha512"}
_RSA_ALGOS = {"1.2.840.113549.1.1.11": "sha256", "1.2.840.113549.1.1.12": "sha384",
              "1.2.840.113549.1.1.13": "sha512"}
_CURVES = {"secp256r1": "1.2.840.10045.3.1.7", "secp384r1": "1.3.132.0.34", "secp521r1": "1.3.132.0.35"}
HASH_BYTES = {"sha256": 32, "sha384": 48, "sha512": 64}


class CSCRefused(Exception):
    """A request the CSC API refuses: ``error`` and ``error_description`` as the specification words them."""

    def __init__(self, error: str, description: str, status: int = 400, *, audit: bool = True,
                 keep: bool = False) -> None:
        """``keep``: what the refused call wrote is committed all the same (a wrong one-time code's try)."""
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.audit = audit
        self.keep = keep

    def as_json(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


def invalid(parameter: str) -> CSCRefused:
    return CSCRefused("invalid_request", f"Invalid parameter {parameter}")


@dataclass(frozen=True)
class Caller:
    """Who calls the CSC door: the MFO's actor (its API key or its OAuth2 client) and its tenant."""

    actor: str
    tenant: str


@dataclass(frozen=True)
class Credential:
    """A credential found for the calling tenant: its certificate and chain, and whose it is."""

    id: str
    tenant: str
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...]
    serial: str
    client: ClientRow | None = None
    row: CertificateRow | None = field(default=None, repr=False)

    @property
    def is_seal(self) -> bool:
        return self.client is None

    def public_key(self) -> Any:  # noqa: ANN401 - RSA, EC, or None for a key cryptography cannot read (GOST)
        try:
            return self.certificate.public_key()
        except (ValueError, TypeError, UnsupportedAlgorithm):
            return None

    def sign_algorithms(self) -> dict[str, str]:
        """signAlgo OID -> the hash it names, for this key (RSA PKCS#1 v1.5 or ECDSA; none for GOST)."""
        key = self.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            return dict(_RSA_ALGOS)
        if isinstance(key, ec.EllipticCurvePublicKey):
            return dict(_EC_ALGOS)
        return {}

    def info(self, *, certificates: str, cert_info: bool, auth_info: bool, multisign: int,
             otp_digits: int) -> dict[str, Any]:
        """credentials/info's answer (CSC v1.0.4 section 11.5; v2 keeps these members)."""
        key = self.public_key()
        algo: dict[str, Any] = {"status": "enabled", "algo": sorted(self.sign_algorithms()),
                                "len": key.key_size if isinstance(key, (rsa.RSAPublicKey,
                                                                        ec.EllipticCurvePublicKey)) else 0}
        if isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name in _CURVES:
            algo["curve"] = _CURVES[key.curve.name]
        der = [self.certificate, *self.chain] if certificates == "chain" else \
            [self.certificate] if certificates == "single" else []
        cert: dict[str, Any] = {"status": "valid",
                                "certificates": [base64.b64encode(c.public_bytes(serialization.Encoding.DER)).decode()
                                                 for c in der]}
        if cert_info:
            cert.update({"issuerDN": self.certificate.issuer.rfc4514_string(),
                         "serialNumber": format(self.certificate.serial_number, "x"),
                         "subjectDN": self.certificate.subject.rfc4514_string(),
                         "validFrom": _generalized(self.certificate.not_valid_before_utc),
                         "validTo": _generalized(self.certificate.not_valid_after_utc)})
        answer: dict[str, Any] = {
            "description": "the tenant's seal" if self.is_seal else "the borrower's signing key held by the service",
            "key": algo, "cert": cert, "authMode": "implicit" if self.is_seal else "explicit",
            "SCAL": "2", "multisign": multisign, "lang": "en-US"}
        if auth_info and not self.is_seal:
            # Both, one of each kind (LOAN-6): the PIN is the borrower's personal-cabinet password (issue 16).
            answer["PIN"] = {"presence": "true", "format": "A", "label": "Cabinet password",
                             "description": "the borrower's personal-cabinet password; wrong ones count toward "
                                            "the cabinet's lockout"}
            answer["OTP"] = {"presence": "true", "type": "online", "ID": "sms", "provider": "qoltanba",
                             "format": "N", "label": "SMS code",
                             "description": f"a {otp_digits}-digit code sent by credentials/sendOTP to the "
                                            "borrower's phone; a document kind whose policy asks for more is "
                                            "authorised on the borrower's signing page (oauth2/authorize)"}
        return answer


def _generalized(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y%m%d%H%M%SZ")


class CertificateRows(Protocol):
    def by_serial(self, serial: str, issuer_id: int | None = None, *,
                  for_update: bool = False) -> list[CertificateRow]: ...
    def search(self, *, issuer_id: int | None = None, iin: str | None = None, bin: str | None = None,  # noqa: A002
               status: str | None = None, limit: int = 100, **more: Any) -> list[CertificateRow]: ...


class ClientRows(Protocol):
    def by_public_id(self, tenant: str, public_id: str, *, for_update: bool = False) -> ClientRow | None: ...
    def by_id_number(self, tenant: str, id_number: str) -> ClientRow | None: ...


class Chains(Protocol):
    def issuing_ca(self, code: str, tx: Any = None) -> Any: ...
    def chain(self, code: str) -> list[x509.Certificate]: ...


class Seals(Protocol):
    def active(self, tx: Any, tenant: str) -> Any: ...   # noqa: ANN401 - registry.TenantRow
    def find(self, tx: Any, tenant: str) -> Any: ...   # noqa: ANN401 - registry.TenantRow


class Credentials:
    """Finds a credential for a tenant; another tenant's, a destroyed or revoked key: not found."""

    def __init__(self, chains: Chains, seals: Seals, clock: Any) -> None:
        self.chains = chains
        self.seals = seals
        self.clock = clock

    def find(self, tx: Any, caller: Caller, credential_id: object) -> Credential:
        """The credential, for a registered tenant that is not suspended (issue 15: it signs nothing then)."""
        self.seals.ensure_active(tx, caller.tenant)
        if not isinstance(credential_id, str) or not credential_id:
            raise CSCRefused("invalid_request", "Missing (or invalid type) string parameter credentialID")
        if credential_id.startswith(SEAL):
            if credential_id != SEAL + caller.tenant:
                raise invalid("credentialID")
            row = self.seals.find(tx, caller.tenant)
            certificate = x509.load_der_x509_certificate(row.seal_der)
            return Credential(credential_id, caller.tenant, certificate, tuple(self.chains.chain(NATIONAL)),
                              row.seal_serial.lower())
        if not credential_id.startswith(HELD) or len(credential_id) > 64:
            raise invalid("credentialID")
        serial = credential_id[len(HELD):].lower()
        national = self.chains.issuing_ca(NATIONAL, tx).centre_id
        rows = tx.certificates.by_serial(serial, national) if serial.isalnum() else []
        row = rows[0] if rows else None
        client = self._client(tx, caller.tenant, row) if row is not None else None
        now = self.clock.now()
        if (row is None or client is None or not row.key_handle or row.key_carrier != "service"
                or row.status != CertificateStatus.VALID or not row.not_before <= now <= row.not_after):
            raise invalid("credentialID")
        return Credential(credential_id, caller.tenant, x509.load_der_x509_certificate(row.der),
                          tuple(self.chains.chain(NATIONAL)), row.serial.lower(), client, row)

    def of_client(self, tx: Any, caller: Caller, client_public_id: str) -> list[str]:
        """credentials/list for a borrower (the MFO's client id as userID): their held keys, then the seal."""
        client = tx.clients.by_public_id(caller.tenant, client_public_id) if client_public_id else None
        if client_public_id and client is None:
            raise invalid("userID")
        found = []
        if client is not None:
            national = self.chains.issuing_ca(NATIONAL, tx).centre_id
            now = self.clock.now()
            for row in tx.certificates.search(issuer_id=national, iin=client.iin, status=CertificateStatus.VALID,
                                              limit=1000):
                if (row.key_handle and row.key_carrier == "service" and row.not_before <= now <= row.not_after
                        and holder_matches(client.kind, client.id_number, row.iin, row.bin)):
                    found.append(HELD + row.serial.lower())
        return [*found, SEAL + caller.tenant]

    @staticmethod
    def _client(tx: Any, tenant: str, row: CertificateRow) -> ClientRow | None:
        for number in (row.bin, row.iin):
            client = tx.clients.by_id_number(tenant, number) if number else None
            if client is not None and holder_matches(client.kind, client.id_number, row.iin, row.bin):
                return client
        return None


__all__ = ["CSCRefused", "Caller", "Credential", "Credentials", "HASHES", "HASH_BYTES", "HELD", "SEAL", "invalid"]
