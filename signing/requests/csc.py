"""Remote signing by the Cloud Signature Consortium API (issue 19): the second door onto the signing service.

The document stays with the MFO's software (pyHanko's CSCSigner, iText, EU
DSS); only hashes travel. What signs is what signs for the service's own
routes: a borrower's held key through its ``HeldKeySigner``, which demands
the ``Authorisation`` object only the factor check makes (here bound to one
hash), or the tenant's seal through its own signer. The factors follow the
signing policy of the document kind the MFO names (``clientData``):

- ``credentials/sendOTP`` sends an SMS code to the borrower's phone;
- ``credentials/authorize`` with that code and the borrower's PIN (their
  personal-cabinet password, ``csc_factors.py``) grants signature
  activation data (SAD) bound to exactly the hashes given, that credential,
  that borrower and tenant, for ``sad_ttl``, once, when those factors meet
  the policy (LOAN-6: two kinds); where the policy asks for more (LOAN-2's
  biometrics for a contract) it is refused, and the borrower authorises on
  the signing page instead (``csc_page.py``);
- ``signatures/signHash`` signs only hashes the SAD names; a reused, expired
  or another credential's SAD signs nothing.

The SAD, like every token handed out, is kept only as its keyed hash. Each
grant, signature and refusal is in the audit log; the row's ``evidence``
records the CSC requests as received (never the OTP or PIN), the policy and the
factors in order, and each signature.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import QoltanbaError
from registry import ClientFactorRow, CSCActivationRow, CSCActivationStatus, FactorStatus
from signing.documents.metadata import KINDS, PURPOSES
from signing.factors.authorisation import AuthorisationService, NotAuthorised
from signing.factors.held_keys import HeldKeys
from signing.factors.otp import REMOTE, check_code, issue_code
from signing.factors.sms import REMOTE_CODE_TEXT as OTP_TEXT
from signing.factors.sms import masked
from signing.policies.policy import CONSUMER, CodePolicy, Factor, SigningRule
from signing.requests.csc_credentials import HASH_BYTES, HASHES, Caller, Credential, Credentials, CSCRefused, invalid
from signing.requests.csc_factors import Pins, held_key_satisfies, policy_allows, prove_pin


@dataclass(frozen=True)
class Authorize:
    """credentials/authorize (v1 ``hash``, v2 ``hashes``; ``clientData``: the document kind, ``kind[:purpose]``)."""

    credential_id: object
    num_signatures: object
    hashes: object
    otp: object = None
    pin: object = None
    client_data: object = None
    description: object = None
    hash_algo: object = None
    api: str = "v1"

    def as_json(self) -> dict[str, Any]:
        """As the evidence keeps it: everything but the OTP and the PIN."""
        return {"endpoint": "credentials/authorize", "api": self.api, "credentialID": self.credential_id,
                "numSignatures": self.num_signatures, "hash": self.hashes, "hashAlgo": self.hash_algo,
                "clientData": self.client_data, "description": self.description,
                "OTP": "given" if self.otp is not None else None, "PIN": "given" if self.pin is not None else None}


@dataclass(frozen=True)
class SignHash:
    credential_id: object
    sad: object
    hashes: object
    hash_algo: object = None
    sign_algo: object = None
    client_data: object = None
    api: str = "v1"

    def as_json(self) -> dict[str, Any]:
        return {"endpoint": "signatures/signHash", "api": self.api, "credentialID": self.credential_id,
                "hash": self.hashes, "hashAlgo": self.hash_algo, "signAlgo": self.sign_algo,
                "clientData": self.client_data}


@dataclass(frozen=True)
class Granted:
    sad: str
    expires_in: int

    def as_json(self) -> dict[str, Any]:
        return {"SAD": self.sad, "expiresIn": self.expires_in}


@dataclass(frozen=True)
class CredentialInfo:
    """credentials/info's answer for one credential, as the caller asked for it."""

    credential: Credential
    certificates: str
    cert_info: bool
    auth_info: bool
    multisign: int
    otp_digits: int

    def as_json(self) -> dict[str, Any]:
        return self.credential.info(certificates=self.certificates, cert_info=self.cert_info,
                                    auth_info=self.auth_info, multisign=self.multisign, otp_digits=self.otp_digits)


class KeyedHash(Protocol):
    def keyed_hash(self, *parts: str | bytes) -> str: ...
    def matches(self, expected_hex: str, *parts: str | bytes) -> bool: ...


class SMS(Protocol):
    def send(self, tenant: str, phone: str, text: str) -> str: ...


class Policies(Protocol):
    def of(self, tx: Any, tenant: str) -> Any: ...   # noqa: ANN401 - SigningPolicies


class CSCStore(Protocol):
    """What the CSC door touches (a ``registry.RegistryTransaction`` is one)."""

    csc_activations: Any
    documents: Any
    clients: Any
    client_factors: Any
    one_time_codes: Any
    borrower_accounts: Any
    certificates: Any
    tenants: Any
    audit: Any


class CSCStorage(Protocol):
    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[CSCStore]: ...


def parse_hashes(value: object, *, expected: int | None = None) -> tuple[str, ...]:
    """The base64 hashes of a request, each decodable, in the request's order."""
    if not isinstance(value, list) or not value or not all(isinstance(h, str) for h in value):
        raise CSCRefused("invalid_request", "Missing (or invalid type) array parameter hash")
    for item in value:
        try:
            if len(base64.b64decode(item, validate=True)) not in HASH_BYTES.values():
                raise ValueError
        except (binascii.Error, ValueError):
            raise CSCRefused("invalid_request", "Invalid Base64 hash string parameter") from None
    if expected is not None and len(value) != expected:
        raise invalid("numSignatures")
    return tuple(value)


def document_kind(client_data: object) -> tuple[str, str]:
    """The document kind (and loan purpose) the MFO names for the hashes: ``consent`` or ``contract:business``."""
    if not isinstance(client_data, str) or not client_data:
        raise CSCRefused("invalid_request", "Missing (or invalid type) string parameter clientData: the document "
                                            f"kind the hashes are of ({', '.join(KINDS)}), optionally :purpose")
    kind, _, purpose = client_data.partition(":")
    if kind not in KINDS or (purpose and purpose not in PURPOSES):
        raise invalid("clientData")
    return kind, purpose or CONSUMER


class CSCService:
    def __init__(self, registry: CSCStorage, clock: Any, credentials: Credentials, secrets_: KeyedHash, sms: SMS,
                 codes: CodePolicy, policies: Policies, held_keys: HeldKeys, seals: Any,
                 authorisations: AuthorisationService, *, pins: Pins, say: Any,
                 sad_ttl: dt.timedelta = dt.timedelta(minutes=5), multisign: int = 10) -> None:
        self.registry = registry
        self.clock = clock
        self.credentials = credentials
        self.secrets = secrets_
        self.sms = sms
        self.codes = codes
        self.policies = policies
        self.held_keys = held_keys
        self.seals = seals
        self.authorisations = authorisations
        self.pins = pins
        self.say = say
        self.sad_ttl = sad_ttl
        self.multisign = multisign

    # -- credentials ---------------------------------------------------------------------

    def list(self, caller: Caller, user_id: object = None) -> list[str]:
        if user_id is not None and not isinstance(user_id, str):
            raise invalid("userID")
        with self.registry.transaction(readonly=True) as tx:
            return self.credentials.of_client(tx, caller, user_id or "")

    def info(self, caller: Caller, credential_id: object, *, certificates: object = "single",
             cert_info: object = False, auth_info: object = False) -> CredentialInfo:
        if certificates not in ("none", "single", "chain"):
            raise invalid("certificates")
        with self.registry.transaction(readonly=True) as tx:
            credential = self.credentials.find(tx, caller, credential_id)
        return CredentialInfo(credential, str(certificates), cert_info is True, auth_info is True, self.multisign,
                              self.codes.digits)

    # -- the borrower's will --------------------------------------------------------------

    def send_otp(self, caller: Caller, credential_id: object) -> None:
        """credentials/sendOTP: a code to the borrower's phone, bound to this credential."""
        def work(tx: CSCStore) -> tuple[str, str]:
            credential = self.credentials.find(tx, caller, credential_id)
            if credential.is_seal:
                raise CSCRefused("invalid_request", "The credential's authMode is implicit: it takes no OTP")
            factor = self._sms_factor(tx, credential)
            code, _row = issue_code(tx, self.secrets, self.codes, self.clock.now(), factor=factor, request_id=None,
                                    binding=credential.id, document_sha256=None, purpose=REMOTE,
                                    since=self.clock.now() - dt.timedelta(hours=1))
            tx.audit.append(at=self.clock.now(), actor=caller.actor, action="csc.otp_sent",
                            subject=f"credential:{credential.id}",
                            details={"tenant": caller.tenant, "phone": masked(factor.phone or "")})
            minutes = int(self.codes.ttl.total_seconds() // 60)
            return factor.phone or "", self.say("kk", OTP_TEXT).format(code=code, credential=credential.serial[:8],
                                                                       minutes=minutes)

        phone, text = self._guarded(caller, "credentials/sendOTP", credential_id, work)
        self.sms.send(caller.tenant, phone, text)

    def authorize(self, caller: Caller, request: Authorize) -> Granted:
        """credentials/authorize: a SAD for exactly these hashes, once the policy's factors are proven."""
        def work(tx: CSCStore) -> Granted:
            num = request.num_signatures
            if not isinstance(num, int) or isinstance(num, bool) or not 1 <= num <= self.multisign:
                raise CSCRefused("invalid_request", "Missing (or invalid type) integer parameter numSignatures"
                                 if not isinstance(num, int) else "Invalid parameter numSignatures")
            hashes = parse_hashes(request.hashes, expected=num)
            credential = self.credentials.find(tx, caller, request.credential_id)
            now = self.clock.now()
            if credential.is_seal:   # for the tenant's own documents only: clientData names one by its id
                document = tx.documents.by_public_id(caller.tenant, request.client_data) \
                    if isinstance(request.client_data, str) and len(request.client_data) == 32 else None
                if document is None:
                    raise CSCRefused("invalid_request", "Invalid parameter clientData: the seal signs the "
                                                        "tenant's own documents; name one by its id")
                return self._grant(tx, caller, credential, request, hashes, kind=document.kind, rule=None,
                                   factors=[])
            kind, purpose = document_kind(request.client_data)
            rule = self.policies.of(tx, caller.tenant).rule_for(kind, credential.client.kind, purpose)
            if not isinstance(request.otp, str) or not request.otp:
                raise CSCRefused("invalid_request", "Missing (or invalid type) string parameter OTP")
            pin = request.pin
            if pin is not None and (not isinstance(pin, str) or not 1 <= len(pin) <= 128):
                raise CSCRefused("invalid_request", "Missing (or invalid type) string parameter PIN")
            policy_allows(self.pins, tx, credential.client.id, rule, kind, pin=pin is not None)
            factor = self._sms_factor(tx, credential)
            account = prove_pin(self.pins, tx, caller, credential, pin, now) if pin is not None else None
            refused = check_code(tx, self.secrets, now, factor=factor, request_id=None, binding=credential.id,
                                 document_sha256=None, code=request.otp, purpose=REMOTE)
            if refused is not None:
                # The wrong try is kept (the transaction commits before the refusal is raised); at the code
                # policy's limit the live code is void, as the signing page's (issue 18).
                live = [r for r in tx.one_time_codes.sent(factor.id, None, REMOTE, for_update=True)
                        if r.used_at is None and r.superseded_at is None]
                if live and live[-1].attempts >= self.codes.max_failures:
                    live[-1].superseded_at = now
                raise CSCRefused("invalid_otp", f"The OTP is invalid: it {refused}", keep=True)
            proven = [{"factor": Factor.SMS.value, "at": now.isoformat(), "phone": masked(factor.phone or "")}]
            if account is not None:
                proven.append({"factor": Factor.PASSWORD.value, "at": now.isoformat(), "as": "PIN",
                               "account": account})
            return self._grant(tx, caller, credential, request, hashes, kind=kind, rule=rule, factors=proven)

        return self._guarded(caller, "credentials/authorize", request.credential_id, work)

    def _grant(self, tx: CSCStore, caller: Caller, credential: Credential, request: Authorize,
               hashes: tuple[str, ...], *, kind: str | None, rule: SigningRule | None,
               factors: list[dict[str, Any]]) -> Granted:
        now = self.clock.now()
        sad = secrets.token_urlsafe(32)
        row = tx.csc_activations.add(CSCActivationRow(
            public_id=secrets.token_hex(16), tenant=caller.tenant, credential=credential.id,
            client_id=credential.client.id if credential.client else None, signer_serial=credential.serial,
            document_kind=kind, policy=rule.name if rule else None, hash_algo=_text(request.hash_algo),
            hashes=list(hashes), status=CSCActivationStatus.AUTHORISED, sad_digest=self.secrets.keyed_hash("csc-sad", sad),
            created_at=now, expires_at=now + self.sad_ttl, authorised_at=now, created_by=caller.actor,
            evidence={"request": request.as_json(), "policy": _policy(rule), "factors": factors, "signatures": []}))
        tx.audit.append(at=now, actor=caller.actor, action="csc.authorised", subject=f"credential:{credential.id}",
                        details={"tenant": caller.tenant, "activation": row.public_id, "signer_serial": credential.serial,
                                 "document_kind": kind, "policy": rule.name if rule else None,
                                 "factors": [f["factor"] for f in factors], "hashes": list(hashes),
                                 "expires_at": row.expires_at.isoformat()})
        return Granted(sad, int(self.sad_ttl.total_seconds()))

    # -- the signature ------------------------------------------------------------------------

    def sign_hash(self, caller: Caller, request: SignHash) -> list[str]:
        """signatures/signHash: each hash signed, all of them named by the SAD, which is spent."""
        def work(tx: CSCStore) -> tuple[list[str], CSCActivationRow]:
            if not isinstance(request.sad, str) or not request.sad:
                raise CSCRefused("invalid_request", "Missing (or invalid type) string parameter SAD")
            credential = self.credentials.find(tx, caller, request.credential_id)
            hashes = parse_hashes(request.hashes)
            algorithms = credential.sign_algorithms()
            if not isinstance(request.sign_algo, str) or request.sign_algo not in algorithms:
                raise invalid("signAlgo")
            hash_name = algorithms[request.sign_algo]
            if request.hash_algo is not None and HASHES.get(request.hash_algo) != hash_name:   # type: ignore[arg-type]
                raise invalid("hashAlgo")
            if any(len(base64.b64decode(h)) != HASH_BYTES[hash_name] for h in hashes):
                raise CSCRefused("invalid_request", "Invalid Base64 hash string parameter: not a "
                                                    f"{hash_name} digest")
            row = tx.csc_activations.by_digest("sad_digest", self.secrets.keyed_hash("csc-sad", request.sad),
                                               for_update=True)
            now = self.clock.now()
            if row is None or row.tenant != caller.tenant or row.credential != credential.id:
                raise CSCRefused("invalid_request", "Invalid parameter SAD")
            if row.status == CSCActivationStatus.USED:
                raise CSCRefused("invalid_request", "Invalid parameter SAD: it was already used")
            if row.status != CSCActivationStatus.AUTHORISED or now >= row.expires_at:
                raise CSCRefused("invalid_request", "SAD expired")
            outside = [h for h in hashes if h not in row.hashes]
            if outside or len(set(hashes)) != len(hashes):
                raise CSCRefused("invalid_request", "Invalid parameter hash: "
                                 f"{len(outside) or 'a'} hash(es) not authorised by the SAD")
            signatures = [self._sign(credential, row, base64.b64decode(h), hash_name, tx) for h in hashes]
            row.status, row.used_at = CSCActivationStatus.USED, now
            row.evidence = {**row.evidence, "signHash": request.as_json(), "signatures": [
                {"hash": h, "signAlgo": request.sign_algo, "at": now.isoformat(), "signer_serial": credential.serial}
                for h in hashes]}
            tx.audit.append(at=now, actor=caller.actor, action="csc.signed", subject=f"credential:{credential.id}",
                            details={"tenant": caller.tenant, "activation": row.public_id, "hashes": list(hashes),
                                     "signAlgo": request.sign_algo, "signer_serial": credential.serial,
                                     "document_kind": row.document_kind, "policy": row.policy})
            return [base64.b64encode(s).decode() for s in signatures], row

        signatures, _row = self._guarded(caller, "signatures/signHash", request.credential_id, work)
        return signatures

    def _sign(self, credential: Credential, row: CSCActivationRow, digest: bytes, hash_name: str,
              tx: CSCStore) -> bytes:
        if credential.is_seal:
            return self.seals.ready(self.seals.find(tx, row.tenant)).signer.sign_digest(digest, hash_name)
        authorisation = self.authorisations.for_hash(activation=row.public_id, tenant=row.tenant,
                                                     signer_serial=credential.serial, digest_hex=digest.hex(),
                                                     granted_at=row.authorised_at or row.created_at,
                                                     expires_at=row.expires_at)
        return self.held_keys.signer(credential.row).sign_digest(digest, hash_name, authorisation=authorisation)

    # -- building blocks --------------------------------------------------------------------

    def _sms_factor(self, tx: CSCStore, credential: Credential) -> ClientFactorRow:
        factors = tx.client_factors.of_client(credential.client.id, kind=Factor.SMS.value, status=FactorStatus.ACTIVE)
        if not factors or not factors[0].phone:
            raise CSCRefused("invalid_request", "The borrower has no confirmed phone for an OTP")
        return factors[0]

    def _guarded(self, caller: Caller, endpoint: str, credential_id: object, work: Any) -> Any:  # noqa: ANN401
        """``work`` in one transaction; a refusal rolls it back, is audited in its own, and is raised."""
        try:
            kept: CSCRefused | None = None
            with self.registry.transaction() as tx:
                try:
                    return work(tx)
                except CSCRefused as refused:
                    if not refused.keep:
                        raise
                    kept = refused   # what the work wrote stays (a wrong code's try), then it is refused
            raise kept
        except (CSCRefused, NotAuthorised, QoltanbaError) as refused:
            error = refused if isinstance(refused, CSCRefused) else CSCRefused(
                "invalid_request", refused.detail if hasattr(refused, "detail") else str(refused))
            with self.registry.transaction() as tx:
                tx.audit.append(at=self.clock.now(), actor=caller.actor, action="csc.refused",
                                subject=f"credential:{_text(credential_id) or '-'}",
                                details={"tenant": caller.tenant, "endpoint": endpoint, "error": error.error,
                                         "error_description": error.description})
            raise error from None


def _policy(rule: SigningRule | None) -> dict[str, Any] | None:
    return {"name": rule.name, "cites": list(rule.cites)} if rule else None


def _text(value: object) -> str | None:
    return value[:64] if isinstance(value, str) else None


__all__ = ["Authorize", "CSCService", "CSCStorage", "CSCStore", "Granted", "SignHash", "held_key_satisfies"]
