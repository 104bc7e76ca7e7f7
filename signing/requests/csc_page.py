"""The CSC door's OAuth2 authorisation-code flow through the borrower's signing page (issue 19).

Where the signing policy of the document kind asks for more than a one-time
code (LOAN-2: biometrics for a contract), credentials/authorize refuses the
code alone; the MFO sends the borrower's browser to ``oauth2/authorize``
(CSC v2 section 8.4.2: ``scope=credential``, the credential, the number of
signatures and the hashes in the request), which opens a pending activation
and the page. The page runs the policy's biometric step (LOAN-4's liveness
challenge, checked as the signing page's own: signing/factors/biometrics.py);
once the rule is met the browser goes back to the MFO's ``redirect_uri``
with a single-use code, which the MFO exchanges at ``oauth2/token`` (its API
key as client_secret) for the SAD of exactly those hashes.

The page's token (in its cookie) and the code are kept as keyed hashes only.
"""

from __future__ import annotations

import datetime as dt
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Any

from registry import CSCActivationRow, CSCActivationStatus, FactorStatus
from signing.factors.biometrics import AssertionRejected, AssertionVerifier, assertion_problems, new_challenge
from signing.policies.policy import BiometricPolicy, Factor
from signing.requests.csc import CSCService, CSCStore, Granted, document_kind, held_key_satisfies, parse_hashes
from signing.requests.csc_credentials import Caller, CSCRefused, invalid

PAGE_TTL = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class PageRequest:
    """oauth2/authorize's query (CSC v2 names; ``hashes`` comma-separated base64url or base64)."""

    client_id: str
    redirect_uri: str
    response_type: str
    scope: str
    credential_id: str
    num_signatures: str
    hashes: str
    client_data: str
    state: str = ""
    hash_algo: str = ""


@dataclass(frozen=True)
class PageStarted:
    activation: str
    token: str


@dataclass(frozen=True)
class PageView:
    """What the page shows: who asks, for what, what is proven, what is still needed."""

    activation: str
    tenant: str
    document_kind: str
    policy: str
    hashes: int
    proven: tuple[str, ...]
    done: bool
    challenge: str | None
    movements: tuple[str, ...]


def _b64(value: str) -> str:
    value = value.strip().replace("-", "+").replace("_", "/")
    return value + "=" * (-len(value) % 4)


class CSCPage:
    def __init__(self, csc: CSCService, verifier: AssertionVerifier, biometrics: BiometricPolicy) -> None:
        self.csc = csc
        self.verifier = verifier
        self.biometrics = biometrics

    def begin(self, request: PageRequest) -> PageStarted:
        """A pending activation for the borrower's page; refused (CSC words) before anything is stored."""
        csc = self.csc
        if request.response_type != "code":
            raise CSCRefused("unsupported_response_type", "response_type must be code", audit=False)
        if request.scope != "credential":
            raise CSCRefused("invalid_scope", "scope must be credential", audit=False)
        uri = urllib.parse.urlsplit(request.redirect_uri)
        if uri.scheme not in ("https", "http") or not uri.netloc or len(request.redirect_uri) > 500 or uri.fragment:
            raise invalid("redirect_uri")
        key_id = request.client_id[3:].split("_", 1)[0] if request.client_id.startswith("qk_") else request.client_id
        with csc.registry.transaction() as tx:
            actor = tx.actors.by_key_id(key_id) if key_id else None
            if actor is None or not actor.active or actor.role != "mfo" or not actor.tenant:
                raise CSCRefused("invalid_client", "Invalid parameter client_id", 401, audit=False)
            caller = Caller(actor.name, actor.tenant)
            credential = csc.credentials.find(tx, caller, request.credential_id)
            if credential.is_seal:
                raise CSCRefused("invalid_request", "The seal's authMode is implicit: no page authorises it")
            try:
                number = int(request.num_signatures)
            except ValueError:
                raise invalid("numSignatures") from None
            if not 1 <= number <= csc.multisign:
                raise invalid("numSignatures")
            hashes = parse_hashes([_b64(h) for h in request.hashes.split(",") if h], expected=number)
            kind, purpose = document_kind(request.client_data)
            rule = csc.policies.of(tx, caller.tenant).rule_for(kind, credential.client.kind, purpose)
            now, token = csc.clock.now(), secrets.token_urlsafe(32)
            row = tx.csc_activations.add(CSCActivationRow(
                public_id=secrets.token_hex(16), tenant=caller.tenant, credential=credential.id,
                client_id=credential.client.id, signer_serial=credential.serial, document_kind=kind,
                policy=rule.name, hash_algo=request.hash_algo[:64] or None, hashes=list(hashes),
                status=CSCActivationStatus.PENDING, page_token_digest=csc.secrets.keyed_hash("csc-page", token),
                redirect_uri=request.redirect_uri, created_at=now, expires_at=now + PAGE_TTL,
                created_by=caller.actor,
                evidence={"request": {"endpoint": "oauth2/authorize", "api": "v2", "client_id": key_id,
                                      "credentialID": credential.id, "numSignatures": number, "hashes": list(hashes),
                                      "hashAlgorithmOID": request.hash_algo or None, "clientData": request.client_data,
                                      "redirect_uri": request.redirect_uri, "state": request.state[:200]},
                          "policy": {"name": rule.name, "cites": list(rule.cites)}, "factors": [], "signatures": []}))
            tx.audit.append(at=now, actor=caller.actor, action="csc.page_opened", subject=f"credential:{credential.id}",
                            details={"tenant": caller.tenant, "activation": row.public_id, "document_kind": kind,
                                     "policy": rule.name, "hashes": list(hashes)})
        return PageStarted(row.public_id, token)

    def view(self, activation: str, token: str | None) -> PageView:
        with self.csc.registry.transaction(readonly=True) as tx:
            return self._view(tx, self._row(tx, activation, token))

    def holder_iin(self, activation: str, token: str | None) -> str:
        """The borrower's IIN (what the identity provider's assertion names; the simulator needs it)."""
        with self.csc.registry.transaction(readonly=True) as tx:
            row = self._row(tx, activation, token)
            return tx.clients.by_id(row.tenant, row.client_id).iin

    def start_biometric(self, activation: str, token: str | None) -> PageView:
        """A fresh liveness challenge (LOAN-4): movements the borrower performs for the identity provider."""
        with self.csc.registry.transaction() as tx:
            row = self._row(tx, activation, token, for_update=True)
            moves = new_challenge(self.biometrics.movements)
            row.evidence = {**row.evidence, "challenge": {"id": secrets.token_hex(16), "movements": list(moves),
                                                          "at": self.csc.clock.now().isoformat()}}
            return self._view(tx, row)

    def submit_assertion(self, activation: str, token: str | None, assertion: str) -> PageView:
        """The identity provider's signed answer to the challenge: proven, or refused with every reason."""
        csc = self.csc
        with csc.registry.transaction() as tx:
            row = self._row(tx, activation, token, for_update=True)
            challenge = row.evidence.get("challenge")
            if not challenge:
                raise CSCRefused("invalid_request", "Start the biometric step first", audit=False)
            client = tx.clients.by_id(row.tenant, row.client_id)
            enrolled = tx.client_factors.of_client(client.id, kind=Factor.BIOMETRIC.value, status=FactorStatus.ACTIVE)
            if not enrolled:
                raise CSCRefused("invalid_request", "The borrower has no biometric enrolment")
            try:
                claims = self.verifier.verify(assertion)
            except AssertionRejected as rejected:
                raise CSCRefused("access_denied", f"The assertion is refused: {rejected}") from None
            now = csc.clock.now()
            problems = assertion_problems(claims, provider=self.verifier.provider, iin=client.iin,
                                          challenge_id=challenge["id"], movements=tuple(challenge["movements"]),
                                          challenge_issued_at=dt.datetime.fromisoformat(challenge["at"]), now=now,
                                          max_age=self.biometrics.assertion_max_age, skew=self.biometrics.clock_skew,
                                          reference=enrolled[0].reference)
            if problems:
                raise CSCRefused("access_denied", "The assertion " + "; ".join(problems))
            factors = [*row.evidence["factors"], {"factor": Factor.BIOMETRIC.value, "at": now.isoformat(),
                                                  "provider": claims.provider, "assertion": claims.id,
                                                  "challenge": challenge["id"]}]
            evidence = {k: v for k, v in row.evidence.items() if k != "challenge"}
            row.evidence = {**evidence, "factors": factors}
            tx.audit.append(at=now, actor=f"client:{client.public_id}", action="csc.factor_proven",
                            subject=f"credential:{row.credential}",
                            details={"activation": row.public_id, "factor": Factor.BIOMETRIC.value,
                                     "assertion": claims.id})
            return self._view(tx, row)

    def finish(self, activation: str, token: str | None) -> str:
        """The rule met: the code, and where the browser goes with it (the MFO's redirect_uri)."""
        csc = self.csc
        with csc.registry.transaction() as tx:
            row = self._row(tx, activation, token, for_update=True)
            proven = {Factor(f["factor"]) for f in row.evidence["factors"]}
            rule = csc.policies.of(tx, row.tenant).by_name(row.policy)
            if rule is None or not held_key_satisfies(rule, proven):
                raise CSCRefused("access_denied", f"Policy {row.policy} is not met yet")
            code, now = secrets.token_urlsafe(32), csc.clock.now()
            row.status, row.authorised_at = CSCActivationStatus.AUTHORISED, now
            row.code_digest, row.page_token_digest = csc.secrets.keyed_hash("csc-code", code), None
            row.expires_at = now + csc.sad_ttl
            tx.audit.append(at=now, actor=f"client:{tx.clients.by_id(row.tenant, row.client_id).public_id}",
                            action="csc.authorised", subject=f"credential:{row.credential}",
                            details={"tenant": row.tenant, "activation": row.public_id, "policy": row.policy,
                                     "document_kind": row.document_kind, "hashes": list(row.hashes),
                                     "factors": [f["factor"] for f in row.evidence["factors"]], "via": "page"})
            query = urllib.parse.urlencode({"code": code, "state": row.evidence["request"].get("state", "")})
            return row.redirect_uri + ("&" if "?" in row.redirect_uri else "?") + query

    def exchange(self, caller: Caller, code: str, redirect_uri: str) -> Granted:
        """oauth2/token, grant_type authorization_code: the code (once) for the SAD of the authorised hashes."""
        csc = self.csc

        def work(tx: CSCStore) -> Granted:
            row = tx.csc_activations.by_digest("code_digest", csc.secrets.keyed_hash("csc-code", code or ""),
                                               for_update=True)
            if row is None or row.tenant != caller.tenant or row.redirect_uri != redirect_uri:
                raise CSCRefused("invalid_grant", "Invalid authorization code")
            if csc.clock.now() >= row.expires_at or row.status != CSCActivationStatus.AUTHORISED:
                raise CSCRefused("invalid_grant", "The authorization code has expired")
            sad = secrets.token_urlsafe(32)
            row.code_digest, row.sad_digest = None, csc.secrets.keyed_hash("csc-sad", sad)
            return Granted(sad, max(1, int((row.expires_at - csc.clock.now()).total_seconds())))

        return csc._guarded(caller, "oauth2/token", None, work)  # noqa: SLF001 - the door's own guard

    # -- building blocks -------------------------------------------------------------------

    def _row(self, tx: Any, activation: str, token: str | None, *, for_update: bool = False) -> CSCActivationRow:
        digest = self.csc.secrets.keyed_hash("csc-page", token or "")
        row = tx.csc_activations.by_digest("page_token_digest", digest, for_update=for_update) if token else None
        if row is None or row.public_id != activation:
            raise CSCRefused("access_denied", "This page does not work: open the link from your lender again",
                             401, audit=False)
        if self.csc.clock.now() >= row.expires_at:
            raise CSCRefused("access_denied", "The time to authorise with this page is over", audit=False)
        return row

    def _view(self, tx: Any, row: CSCActivationRow) -> PageView:
        tenant = tx.tenants.by_code(row.tenant)
        proven = tuple(f["factor"] for f in row.evidence["factors"])
        rule = self.csc.policies.of(tx, row.tenant).by_name(row.policy)
        challenge = row.evidence.get("challenge") or {}
        return PageView(row.public_id, tenant.name if tenant else row.tenant, row.document_kind or "", row.policy or "",
                        len(row.hashes), proven,
                        bool(rule and held_key_satisfies(rule, {Factor(f) for f in proven})),
                        challenge.get("id"), tuple(challenge.get("movements", ())))


__all__ = ["CSCPage", "PAGE_TTL", "PageRequest", "PageStarted", "PageView"]
