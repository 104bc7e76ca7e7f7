"""The client's side of a signing request: the factors (issue 5).

What the client's signing page calls, authenticated by the request's token
(compared in constant time with the SHA-256 kept). Each step checks the
request first: open, not expired, not locked, the review window over
(LOAN-5), the document still in the state the factors are bound to. A
refused factor is counted (and audited) even though the call fails; past
the policy's tolerance the request locks.

Signing once the factors meet the policy is ``signing/requests/completion.py``.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from ca.errors import ConflictError, InvalidInput, Problem, QoltanbaError
from registry import (
    BiometricAssertionRow,
    BiometricChallengeRow,
    ClientFactorRow,
    Conflict,
    DocumentRow,
    DocumentVersionRow,
    FactorProofRow,
    FactorStatus,
    SigningRequestRow,
)
from signing.documents import StoredPdf
from signing.factors import (
    AssertionRejected,
    AssertionVerifier,
    ReviewWindowOpen,
    SMSSender,
    assertion_problems,
    masked,
    new_challenge,
    totp_step,
)
from signing.factors.authorisation import AuthorisationService
from signing.factors.otp import CodeStore, check_code, issue_code
from signing.factors.sms import code_text
from signing.policies.policy import Factor
from signing.requests import lifecycle
from signing.requests.evidence import EvidenceService
from signing.requests.lifecycle import OPEN, SigningRequests, rule_of, token_digest
from signing.requests.service import SigningService
from signing.requests.steps import Challenge, ClientRequestView, CodeSent, DocumentShown, FactorStarted, TotpReady

MAX_CHALLENGES = 10


class RequestRows(lifecycle.RequestRows, Protocol):
    def for_client(self, public_id: str, *, for_update: bool = False) -> SigningRequestRow | None: ...


class VersionRows(lifecycle.VersionRows, Protocol):
    def list(self, document_id: int) -> Sequence[DocumentVersionRow]: ...


class ProofRows(lifecycle.ProofRows, Protocol):
    def add(self, row: FactorProofRow) -> FactorProofRow: ...


class ChallengeRows(Protocol):
    def add(self, row: BiometricChallengeRow) -> BiometricChallengeRow: ...
    def of_request(self, request_id: int, *, for_update: bool = False) -> list[BiometricChallengeRow]: ...


class AssertionRows(Protocol):
    def add(self, row: BiometricAssertionRow) -> BiometricAssertionRow: ...
    def seen(self, provider: str, assertion_id: str) -> bool: ...


class ProofStore(lifecycle.RequestStore, CodeStore, Protocol):
    """What the client's factor steps touch in one unit of work (a ``registry.RegistryTransaction`` is one)."""

    @property
    def signing_requests(self) -> RequestRows: ...
    @property
    def document_versions(self) -> VersionRows: ...
    @property
    def factor_proofs(self) -> ProofRows: ...
    @property
    def biometric_challenges(self) -> ChallengeRows: ...
    @property
    def biometric_assertions(self) -> AssertionRows: ...


class ProofStorage(Protocol):
    """The registry as the client's steps see it (``registry.Registry`` is one)."""

    def transaction(self, *, readonly: bool = False) -> AbstractContextManager[ProofStore]: ...


class TokenRefused(QoltanbaError):
    def __init__(self) -> None:
        super().__init__("unauthenticated", "the signing request's token is missing or wrong "
                                            "(header X-Signing-Token)", [])


@dataclass(frozen=True)
class ClientContext:
    """Where the client's call came from, as our edge saw it (kept in the evidence)."""

    ip: str | None = None
    user_agent: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"client_ip": self.ip, "user_agent": (self.user_agent or "")[:512] or None}


class FactorProofs:
    registry: ProofStorage

    def __init__(self, requests: SigningRequests, signing: SigningService, authorisations: AuthorisationService,
                 evidence: EvidenceService, secrets_, sms: SMSSender, verifier: AssertionVerifier,
                 say: Callable[[str, str], str] = lambda _language, words: words) -> None:
        self.requests = requests
        self.registry = requests.registry
        self.clock = requests.clock
        self.policies = requests.policies
        self.signing = signing
        self.authorisations = authorisations
        self.evidence = evidence
        self.secrets = secrets_
        self.sms = sms
        self.verifier = verifier
        self.say = say   # (language, English) -> the borrower's words: the SMS text (issue 20)

    # -- reading ----------------------------------------------------------------------------

    def show(self, request_id: str, token: str | None) -> ClientRequestView:
        def work(tx: ProofStore, row: SigningRequestRow) -> tuple[ClientRequestView, None]:
            return self._client_view(tx, row), None
        return self._step(request_id, token, work, open_only=False)

    def document(self, request_id: str, token: str | None) -> StoredPdf:
        """The exact version the factors are bound to: what the client reads during the review window."""
        with self.registry.transaction(readonly=True) as tx:
            row = self._authenticate(tx, request_id, token)
            doc = tx.documents.by_id(row.tenant, row.document_id)
            version = next(v for v in tx.document_versions.list(doc.id) if v.sha256 == row.document_sha256)
            return StoredPdf(document_id=doc.public_id, number=version.number, sha256=version.sha256,
                             content=version.content)

    # -- factors ------------------------------------------------------------------------------

    def start(self, request_id: str, token: str | None, factor: str, ctx: ClientContext) -> FactorStarted:
        """SMS: a code is sent; biometrics: a liveness challenge; TOTP: nothing to send."""
        kind = _factor(factor, (Factor.SMS, Factor.TOTP, Factor.BIOMETRIC))
        outbox: list[tuple[str, str, str]] = []

        def work(tx: ProofStore, row: SigningRequestRow) -> tuple[FactorStarted, None]:
            enrolled = self._needed(tx, row, kind)
            now = self.clock.now()
            if kind is Factor.SMS:
                code, sent = issue_code(tx, self.secrets, self.policies.codes, now, factor=enrolled,
                                        request_id=row.id, binding=row.public_id, document_sha256=row.document_sha256)
                doc = tx.documents.by_id(row.tenant, row.document_id)
                minutes = int(self.policies.codes.ttl.total_seconds() // 60)
                outbox.append((row.tenant, enrolled.phone, code_text(
                    self.say, row.language, code=code, kind=doc.kind, number=doc.contract_number,
                    digest=row.document_sha256[:8], minutes=minutes)))
                return CodeSent(sent_to=masked(enrolled.phone), expires_at=sent.expires_at,
                                resend_after=now + self.policies.codes.resend_after), None
            if kind is Factor.TOTP:
                return TotpReady(digits=6), None
            return self._challenge(tx, row, now), None

        result = self._step(request_id, token, work)
        for tenant, phone, text in outbox:
            self.sms.send(tenant, phone, text)
        return result

    def _challenge(self, tx: ProofStore, row: SigningRequestRow, now: dt.datetime) -> Challenge:
        challenges = tx.biometric_challenges.of_request(row.id, for_update=True)
        if len(challenges) >= MAX_CHALLENGES:
            raise ConflictError(f"{MAX_CHALLENGES} liveness challenges were issued already; the MFO starts a new "
                                "request")
        for old in challenges:
            if old.answered_at is None and old.expires_at > now:
                old.expires_at = now    # a new challenge replaces the open one
        previous = tuple(challenges[-1].movements) if challenges else None
        movements = new_challenge(self.policies.biometrics.movements, previous)
        challenge = tx.biometric_challenges.add(BiometricChallengeRow(
            public_id=secrets.token_hex(16), request_id=row.id, movements=list(movements), created_at=now,
            expires_at=now + self.policies.biometrics.challenge_ttl))
        return Challenge(challenge=challenge.public_id, movements=tuple(movements), expires_at=challenge.expires_at,
                         provider=self.verifier.provider)

    def submit_code(self, request_id: str, token: str | None, factor: str, code: str,
                    ctx: ClientContext) -> ClientRequestView:
        kind = _factor(factor, (Factor.SMS, Factor.TOTP))
        digits = self.policies.codes.digits if kind is Factor.SMS else 6
        if not isinstance(code, str) or len(code) != digits or not code.isascii() or not code.isdigit():
            raise InvalidInput("the code is refused", [Problem("code", f"must be {digits} digits")])

        def work(tx: ProofStore, row: SigningRequestRow) -> tuple[ClientRequestView | None, QoltanbaError | None]:
            enrolled = self._needed(tx, row, kind, for_update=True)
            now = self.clock.now()
            details: dict[str, Any] = ctx.as_json()
            if kind is Factor.SMS:
                refused = check_code(tx, self.secrets, now, factor=enrolled, request_id=row.id,
                                     binding=row.public_id, document_sha256=row.document_sha256, code=code)
                details["phone"] = masked(enrolled.phone)
            else:
                refused, step = self._totp(enrolled, code, now)
                details["time_step"] = step
            if refused is not None:
                return None, self.requests.fail(tx, row, kind.value, "code", refused, actor_of(row))
            self._prove(tx, row, kind, enrolled, details)
            return self._client_view(tx, row), None

        return self._step(request_id, token, work)

    def _totp(self, factor: ClientFactorRow, code: str, now: dt.datetime) -> tuple[str | None, int | None]:
        secret = self.secrets.open(factor.secret, f"totp:{factor.public_id}").decode()
        step = totp_step(secret, code, now)
        if step is None:
            return "is wrong", None
        if factor.last_step is not None and step <= factor.last_step:
            return "was already used (RFC 6238 §5.2: each code once)", None
        factor.last_step = step
        return None, step

    def submit_assertion(self, request_id: str, token: str | None, assertion: str,
                         ctx: ClientContext) -> ClientRequestView:
        """The identity provider's signed answer to our liveness challenge (LOAN-2, LOAN-4)."""
        def work(tx: ProofStore, row: SigningRequestRow) -> tuple[ClientRequestView | None, QoltanbaError | None]:
            enrolled = self._needed(tx, row, Factor.BIOMETRIC)
            now = self.clock.now()
            try:
                claims = self.verifier.verify(assertion)
            except AssertionRejected as error:
                return None, self.requests.fail(tx, row, "biometric", "assertion", str(error), actor_of(row))
            client = tx.clients.by_id(row.tenant, row.client_id)
            challenges = tx.biometric_challenges.of_request(row.id, for_update=True)
            challenge = next((c for c in challenges if c.public_id == claims.challenge),
                             challenges[-1] if challenges else None)
            if challenge is None:
                return None, self.requests.fail(tx, row, "biometric", "assertion", "answers no challenge of ours",
                                                actor_of(row))
            bio = self.policies.biometrics
            problems = assertion_problems(claims, provider=self.verifier.provider, iin=client.iin,
                                          challenge_id=challenge.public_id, movements=tuple(challenge.movements),
                                          challenge_issued_at=challenge.created_at, now=now,
                                          max_age=bio.assertion_max_age, skew=bio.clock_skew,
                                          reference=enrolled.reference)
            if challenge.public_id == claims.challenge and challenge.answered_at is not None:
                problems.append("answers a challenge that was answered already")
            elif challenge.public_id == claims.challenge and now >= challenge.expires_at:
                problems.append("answers a challenge that expired or was replaced")
            if tx.biometric_assertions.seen(claims.provider, claims.id):
                problems.append("was used already (an assertion counts once)")
            if problems:
                return None, self.requests.fail(tx, row, "biometric", "assertion", "; ".join(problems), actor_of(row))
            try:
                tx.biometric_assertions.add(BiometricAssertionRow(
                    provider=claims.provider, assertion_id=claims.id, request_id=row.id, challenge_id=challenge.id,
                    asserted_at=claims.issued_at, received_at=now))
            except Conflict:
                raise ConflictError("this assertion was used at the same moment elsewhere") from None
            challenge.answered_at = now
            self._prove(tx, row, Factor.BIOMETRIC, enrolled, {
                "provider": claims.provider, "assertion_id": claims.id, "asserted_at": claims.issued_at.isoformat(),
                "match": claims.match, "liveness": claims.liveness, "reference": enrolled.reference,
                "challenge": {"id": challenge.public_id, "movements": challenge.movements,
                              "issued_at": challenge.created_at.isoformat()}, **ctx.as_json()})
            return self._client_view(tx, row), None

        return self._step(request_id, token, work)

    # -- signing ------------------------------------------------------------------------------

    def _step(self, request_id: str, token: str | None, work, *, open_only: bool = True):  # noqa: ANN001, ANN202
        """Authenticate, check the request, run ``work``; commit, then raise the refusal ``work`` returned.

        A refused factor must be counted even though the call fails, so
        ``work`` returns its refusal instead of raising it.
        """
        with self.registry.transaction() as tx:
            row = self._authenticate(tx, request_id, token, for_update=True)
            error = self.requests.guard(tx, row)
            result = None
            if error is None or not open_only:
                if open_only:
                    # Held for the unit of work: the identity map keeps a row only while someone does, and
                    # ``work`` reads the document's fixed fields (its ids, kind, title) by id again.
                    document = self._check_document(tx, row)  # noqa: F841 - held, see above
                    if self.clock.now() < row.review_until:
                        raise ReviewWindowOpen(row.review_until)
                result, error = work(tx, row)
                if not open_only:
                    error = None
        self.requests.events.kick()
        if error is not None:
            raise error
        return result

    def authenticated(self, tx: ProofStore, request_id: str, token: str | None) -> SigningRequestRow:
        """The request the token opens, in the caller's unit of work (the borrower's page reads more of it)."""
        return self._authenticate(tx, request_id, token)

    def _authenticate(self, tx: ProofStore, request_id: str, token: str | None, *,
                      for_update: bool = False) -> SigningRequestRow:
        row = tx.signing_requests.for_client(request_id, for_update=for_update) \
            if isinstance(request_id, str) and len(request_id) == 32 else None
        expected = row.token_digest if row is not None else token_digest("no such request")
        if not hmac.compare_digest(expected, token_digest(token or "")) or row is None or not token:
            raise TokenRefused()
        return row

    def _check_document(self, tx: ProofStore, row: SigningRequestRow) -> DocumentRow:
        doc = tx.documents.by_id(row.tenant, row.document_id)
        if tx.document_versions.latest(doc.id).sha256 != row.document_sha256:
            raise ConflictError("the document changed since the request was made; the MFO starts a new one")
        return doc

    def _needed(self, tx: ProofStore, row: SigningRequestRow, kind: Factor, *,
                for_update: bool = False) -> ClientFactorRow:
        rule = rule_of(row)
        # The EDS is the signature itself: welcome wherever it completes the rule (start_eds checks that).
        if kind is not Factor.EDS and kind not in rule.factors:
            raise ConflictError(f"policy {rule.name} does not use the {kind.value} factor")
        if kind is not Factor.EDS and kind in self._proven(tx, row):
            raise ConflictError(f"the {kind.value} factor is proven already")
        active = self._active(tx, row, kind, for_update=for_update)
        if not active:
            raise ConflictError(f"the client has no active {kind.value} factor; the MFO enrols it first")
        return active[-1]

    def _active(self, tx: ProofStore, row: SigningRequestRow, kind: Factor, *,
                for_update: bool = False) -> list[ClientFactorRow]:
        return tx.client_factors.of_client(row.client_id, kind=kind.value, status=FactorStatus.ACTIVE,
                                         for_update=for_update)

    @staticmethod
    def _proven(tx: ProofStore, row: SigningRequestRow) -> set[Factor]:
        return {Factor(p.factor) for p in tx.factor_proofs.of_request(row.id)}

    def _prove(self, tx: ProofStore, row: SigningRequestRow, kind: Factor, factor: ClientFactorRow,
               details: dict[str, Any]) -> None:
        now = self.clock.now()
        tx.factor_proofs.add(FactorProofRow(request_id=row.id, factor=kind.value, factor_id=factor.id,
                                            proven_at=now, details=details))
        row.updated_at = now
        tx.audit.append(at=now, actor=actor_of(row), action="factor.proven", subject=f"request:{row.public_id}",
                        details={"tenant": row.tenant, "factor": kind.value,
                                 **({"assertion_id": details["assertion_id"]} if "assertion_id" in details else {})})

    def _client_view(self, tx: ProofStore, row: SigningRequestRow) -> ClientRequestView:
        doc = tx.documents.by_id(row.tenant, row.document_id)
        rule, proven = rule_of(row), self._proven(tx, row)
        enrolled = tx.client_factors.kinds(row.client_id, status=FactorStatus.ACTIVE)
        return ClientRequestView(
            request=self.requests.view(tx, row),
            document=DocumentShown(id=doc.public_id, kind=doc.kind, title=doc.title,
                                   contract_number=doc.contract_number, sha256=row.document_sha256),
            enrolled=tuple(sorted(enrolled)), missing=missing_factors(rule, proven) if row.status == OPEN else "",
            can_confirm=row.status == OPEN and rule.satisfied_by(proven))


def actor_of(row: SigningRequestRow) -> str:
    return f"client:request:{row.public_id}"


def _factor(name: str, allowed: tuple[Factor, ...]) -> Factor:
    if name not in {f.value for f in allowed}:
        raise InvalidInput("unknown factor", [Problem("factor", "must be one of: "
                                                      + ", ".join(f.value for f in allowed))])
    return Factor(name)


def missing_factors(rule, proven: set[Factor]) -> str:  # noqa: ANN001 - SigningRule
    options = []
    for alternative in rule.any_of:
        need = sorted(f.value for f in alternative.all_of - proven)
        text = " and ".join(need)
        if alternative.distinct_kinds:
            text = (text + " and " if text else "") + f"factors of {alternative.distinct_kinds} different kinds"
        options.append(text or "nothing more")
    return " or ".join(options)


__all__ = ["ClientContext", "FactorProofs", "ProofStorage", "ProofStore", "TokenRefused", "actor_of",
           "missing_factors"]
