"""The factors an account action needs, given one at a time (issue 16): an SMS code, biometrics, the EDS.

A ceremony is opened for registration (LOAN-7: the phone confirmed by an
SMS code, biometrics and EDS; an individual entrepreneur gives no EDS) or a
change of phone or bank details (LOAN-9: biometrics and EDS; a new phone is
confirmed by a code sent to it). Each proof is checked as the signing
request's are:

- ``sms``: the one-time code sent to the ceremony's pending phone (only its
  keyed hash kept, signing/factors/otp.py), bound to the ceremony's id;
- ``biometric``: the identity provider's signed assertion (LOAN-4: the
  ceremony's own, non-repeating movements, in order; the client's IIN; fresh;
  its id never accepted for another ceremony);
- ``eds``: a CMS signature over ``views.ceremony_data`` (what is done, to
  which account, the nonce) by one of the client's enrolled EDS
  certificates, which must still be able to sign (valid, not revoked).

A refused proof counts; at the policy's ``lockout_failures`` the ceremony
locks and a new one starts from nothing. Every proof, given or refused, is
audited.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ca.cms import verify_signed_document
from ca.cms_algorithms import CMSVerificationError
from ca.errors import ConflictError, InvalidInput, Problem
from registry import BorrowerAccountRow, BorrowerCeremonyRow, CeremonyStatus, ClientFactorRow, ClientRow, FactorStatus
from signing.accounts.store import AccountStore, CabinetPolicy, Secrets
from signing.factors.biometrics import AssertionRejected, AssertionVerifier, assertion_problems, new_challenge
from signing.factors.client_certificates import ClientCertificates
from signing.factors.errors import Throttled
from signing.factors.otp import check_code, issue_code
from signing.policies.policy import CodePolicy, Factor

SMS, BIOMETRIC, EDS = Factor.SMS.value, Factor.BIOMETRIC.value, Factor.EDS.value
OPEN, DONE, LOCKED = CeremonyStatus.OPEN, CeremonyStatus.DONE, CeremonyStatus.LOCKED
MAX_CMS = 64 * 1024


@dataclass(frozen=True)
class Proof:
    """One factor the borrower gives: ``sms`` with ``code``, ``biometric`` with ``assertion``, ``eds`` with ``cms``
    (base64 of the DER CMS over the ceremony's ``data_to_sign``)."""

    factor: str | None = None
    code: str | None = None
    assertion: str | None = None
    cms: str | None = None


@dataclass(frozen=True)
class CheckedEds:
    """A CMS read before the transaction: its signer, or why it proves nothing."""

    certificate: x509.Certificate | None
    problems: tuple[str, ...]


class Ceremonies:
    def __init__(self, clock, secrets_: Secrets, codes: CodePolicy, policy: CabinetPolicy,  # noqa: ANN001 - Clock
                 assertions: AssertionVerifier, provider: str, certificates: ClientCertificates | None) -> None:
        self.clock = clock
        self.secrets = secrets_
        self.codes = codes
        self.policy = policy
        self.assertions = assertions
        self.provider = provider
        self.certificates = certificates

    def open(self, tx: AccountStore, account: BorrowerAccountRow, purpose: str, required: tuple[str, ...],
             now: dt.datetime, *, phone: str | None = None, **changes: str | None) -> tuple[BorrowerCeremonyRow,
                                                                                           str | None]:
        """A new ceremony (earlier open ones of the account are closed); the SMS code to send, if one is needed.

        A new one within the code policy's ``resend_after`` of the last is refused (``Throttled``): each sends an
        SMS, and the phone's owner is not to be flooded (per purpose) through an invitation link or a session."""
        earlier = tx.borrower_ceremonies.of_account(account.id, for_update=True)
        same = [c for c in earlier if c.purpose == purpose]
        if same and now < same[-1].created_at + self.codes.resend_after:
            wait = (same[-1].created_at + self.codes.resend_after - now).total_seconds()
            raise Throttled(f"a step was started moments ago; start again in {int(wait) + 1} s", wait)
        for old in earlier:
            if old.status == OPEN:
                old.status, old.completed_at = LOCKED, now
        factor = None
        if SMS in required:
            factor = tx.client_factors.add(ClientFactorRow(
                public_id=secrets.token_hex(16), client_id=account.client_id, kind=SMS, status=FactorStatus.PENDING,
                phone=phone, created_at=now))
        row = tx.borrower_ceremonies.add(BorrowerCeremonyRow(
            public_id=secrets.token_hex(16), account_id=account.id, tenant=account.tenant, purpose=purpose,
            status=OPEN, required=list(required), proven=[], movements=list(new_challenge(self.policy.movements)),
            nonce=secrets.token_hex(16), phone_factor_id=factor.id if factor else None, failures=0,
            created_at=now, expires_at=now + self.policy.ceremony_ttl, **changes))
        code = None
        if factor is not None:
            code, _ = issue_code(tx, self.secrets, self.codes, now, factor=factor, request_id=None,
                                 binding=row.public_id, document_sha256=None)
        return row, code

    def check_eds(self, proof: Proof, data: bytes) -> CheckedEds | None:
        """An ``eds`` proof's CMS verified over ``data`` (the ceremony's) and its certificate checked (chain,
        validity, status: maybe over the network, so before the transaction); None for another factor."""
        if proof.factor != EDS or not isinstance(proof.cms, str) or not proof.cms:
            return None
        try:
            cms = base64.b64decode(proof.cms, validate=True)
        except (ValueError, binascii.Error):
            return CheckedEds(None, ("is not base64",))
        if not cms or len(cms) > MAX_CMS:
            return CheckedEds(None, (f"must be 1 to {MAX_CMS} bytes",))
        try:
            signed = verify_signed_document(cms, detached_content=data)
        except CMSVerificationError as error:
            return CheckedEds(None, (f"does not verify over this step's data: {error}",))
        problems = self.certificates.problems(signed.signer) if self.certificates is not None else []
        return CheckedEds(signed.signer, tuple(p.message for p in problems))

    def prove(self, tx: AccountStore, account: BorrowerAccountRow, client: ClientRow, row: BorrowerCeremonyRow,
              proof: Proof, checked: CheckedEds | None, now: dt.datetime) -> str | None:
        """None when ``proof`` proves its factor (now recorded); else why not (counted as a failure)."""
        factor = proof.factor
        if row.status != OPEN or now >= row.expires_at:
            if row.status == OPEN:
                row.status = LOCKED
            raise ConflictError("this step is over (expired, locked after too many failures, or done); start "
                                "again", [Problem("ceremony", f"is {row.status if now < row.expires_at else 'expired'}")])
        if factor not in row.required:
            raise InvalidInput("the proof is refused", [Problem("factor", "must be one of: " + ", ".join(row.required))])
        if factor in row.proven:
            raise ConflictError(f"{factor} is given already", [Problem("factor", "is given already")])
        field = {SMS: "code", BIOMETRIC: "assertion", EDS: "cms"}[factor]
        value = getattr(proof, field)
        extra = sorted(f for f in ("code", "assertion", "cms") if f != field and getattr(proof, f) is not None)
        if not isinstance(value, str) or not value or extra:
            raise InvalidInput("the proof is refused", ([Problem(field, "is required")] if not value else [])
                               + [Problem(f, f"is not read for {factor}") for f in extra])
        refused = {SMS: self._code, BIOMETRIC: self._biometric, EDS: self._eds}[factor](
            tx, account, client, row, proof, checked, now)
        if refused is None:
            row.proven = [*row.proven, factor]
            if factor == SMS:
                self._confirm_phone(tx, client, row, now)
        else:
            row.failures += 1
            if row.failures >= self.policy.lockout_failures:
                row.status, row.completed_at = LOCKED, now
        tx.audit.append(at=now, actor=f"borrower:{account.public_id}",
                        action="borrower.factor-given" if refused is None else "borrower.factor-failed",
                        subject=f"account:{account.public_id}",
                        details={"tenant": account.tenant, "ceremony": row.public_id, "purpose": row.purpose,
                                 "factor": factor, **({"reason": refused, "failures": row.failures,
                                                       "locked": row.status == LOCKED} if refused else {})})
        return refused

    def _code(self, tx: AccountStore, account: BorrowerAccountRow, client: ClientRow, row: BorrowerCeremonyRow,
              proof: Proof, checked: CheckedEds | None, now: dt.datetime) -> str | None:
        factor = next((f for f in tx.client_factors.of_client(client.id, kind=SMS, for_update=True)
                       if f.id == row.phone_factor_id), None)
        if factor is None:
            return "is wrong; no code is waiting, start again"
        return check_code(tx, self.secrets, now, factor=factor, request_id=None, binding=row.public_id,
                          document_sha256=None, code=proof.code.strip())

    def _confirm_phone(self, tx: AccountStore, client: ClientRow, row: BorrowerCeremonyRow, now: dt.datetime) -> None:
        """Registration: the confirmed phone is the phone in force. A change applies it when it is done."""
        if row.new_phone is not None:
            return
        for f in tx.client_factors.of_client(client.id, kind=SMS, for_update=True):
            if f.id == row.phone_factor_id:
                f.status, f.confirmed_at = FactorStatus.ACTIVE, now
            elif f.status == FactorStatus.ACTIVE and f.phone == client.phone:
                f.status, f.revoked_at = FactorStatus.REVOKED, now

    def _biometric(self, tx: AccountStore, account: BorrowerAccountRow, client: ClientRow, row: BorrowerCeremonyRow,
                   proof: Proof, checked: CheckedEds | None, now: dt.datetime) -> str | None:
        if len(proof.assertion) > 8192:
            return "is too long"
        try:
            assertion = self.assertions.verify(proof.assertion)
        except AssertionRejected as rejected:
            return str(rejected)
        enrolled = tx.client_factors.of_client(client.id, kind=BIOMETRIC, status=FactorStatus.ACTIVE)
        problems = assertion_problems(assertion, provider=self.provider, iin=client.iin, challenge_id=row.public_id,
                                      movements=tuple(row.movements), challenge_issued_at=row.created_at, now=now,
                                      max_age=self.policy.assertion_max_age, skew=self.policy.skew,
                                      reference=enrolled[-1].reference if enrolled else None)
        if problems:
            return "; ".join(problems)
        row.assertion_id = assertion.id
        return None

    def _eds(self, tx: AccountStore, account: BorrowerAccountRow, client: ClientRow, row: BorrowerCeremonyRow,
             proof: Proof, checked: CheckedEds | None, now: dt.datetime) -> str | None:
        if checked is None or checked.certificate is None:
            return "; ".join(checked.problems) if checked else "is required"
        certificate = checked.certificate
        serial, issuer = format(certificate.serial_number, "x"), certificate.issuer.rfc4514_string()
        der = certificate.public_bytes(serialization.Encoding.DER)
        if not any(f.certificate_serial == serial and f.certificate_issuer == issuer and f.certificate_der == der
                   for f in tx.client_factors.of_client(client.id, kind=EDS, status=FactorStatus.ACTIVE)):
            return "is not made with one of your enrolled EDS certificates"
        if checked.problems:
            return "; ".join(checked.problems)
        return None


__all__ = ["BIOMETRIC", "EDS", "SMS", "Ceremonies", "CheckedEds", "Proof"]
