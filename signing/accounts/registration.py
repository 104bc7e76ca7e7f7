"""The borrower's account: the MFO's invitation, registration (LOAN-7) and changes of details (LOAN-9), issue 16.

1. The MFO backend invites a client it registered (``invite``): the account
   is made ``invited`` and a link with a random invitation token goes by
   SMS to the client's phone (only its keyed hash is kept, 72 hours). The MFO
   never sees the token, the password or the bank details.
2. The borrower opens the link, chooses a password (argon2id) and gives the
   factors LOAN-7 names: the phone confirmed by an SMS code, biometrics, and
   the EDS — except an individual entrepreneur, whom the rule spares the
   EDS ("при регистрации клиента-физического лица, зарегистрированного в
   качестве индивидуального предпринимателя, применение ЭЦП не требуется",
   seed 003). Once all are given the account is ``active``.
3. A change of phone or bank details (LOAN-9) is the borrower's own action
   in the cabinet: biometrics and the EDS (the rule names no exception), the
   new phone confirmed by a code sent to it; on success the old phone is told
   by SMS. The IIN cannot be changed (seed 003: "не подлежат изменению").
"""

from __future__ import annotations

import datetime as dt
import secrets

from ca.access import Unauthenticated
from ca.errors import ConflictError, InvalidInput, NotFound, Problem
from registry import AccountStatus, BorrowerAccountRow, CeremonyStatus, ClientRow, FactorStatus
from signing.accounts import words
from signing.accounts.ceremony import BIOMETRIC, EDS, SMS, Ceremonies, Proof
from signing.accounts.passwords import Passwords
from signing.accounts.store import AccountStorage, AccountStore, CabinetPolicy, Secrets
from signing.accounts.views import (
    AccountView,
    Borrower,
    CeremonyView,
    DetailsChange,
    Invitation,
    account_view,
    ceremony_data,
    ceremony_view,
    password_problems,
)
from signing.documents.metadata import ENTREPRENEUR
from signing.factors.errors import FactorRefused
from signing.factors.sms import SMSSender, masked

REGISTRATION, DETAILS_CHANGE = "registration", "details-change"
LANGUAGES = ("kk", "ru", "en")


class BorrowerAccounts:
    def __init__(self, registry: AccountStorage, clock, secrets_: Secrets, sms: SMSSender,  # noqa: ANN001 - Clock
                 ceremonies: Ceremonies, passwords: Passwords, policy: CabinetPolicy, *, say: words.Say = words.english,
                 base_url: str = "http://127.0.0.1:8000", organisation: str = "Qoltanba") -> None:
        self.registry = registry
        self.clock = clock
        self.secrets = secrets_
        self.sms = sms
        self.ceremonies = ceremonies
        self.passwords = passwords
        self.policy = policy
        self.say = say
        self.base_url = base_url.rstrip("/")
        self.organisation = organisation

    # -- the MFO's ----------------------------------------------------------------------------

    def invite(self, actor: str, tenant: str, client_id: str, invitation: Invitation) -> AccountView:
        """Make (or renew) the client's invitation; the link goes to the client's phone, never to the MFO."""
        if invitation.language not in LANGUAGES:
            raise InvalidInput("the invitation is refused", [Problem("language", "must be one of: kk, ru, en")])
        now = self.clock.now()
        secret = secrets.token_urlsafe(32)
        with self.registry.transaction() as tx:
            client = self._client(tx, tenant, client_id)
            account = tx.borrower_accounts.of_client(client.id, for_update=True)
            if account is not None and account.status == AccountStatus.ACTIVE:
                raise ConflictError("the client has registered their account already")
            if account is None:
                account = tx.borrower_accounts.add(BorrowerAccountRow(
                    public_id=secrets.token_hex(16), tenant=tenant, client_id=client.id, status=AccountStatus.INVITED,
                    language=invitation.language, failures=0, created_at=now, created_by=actor))
            account.language = invitation.language
            account.invitation_digest = self.secrets.keyed_hash("cabinet invitation", account.public_id, secret)
            account.invitation_expires_at = now + self.policy.invitation_ttl
            tx.audit.append(at=now, actor=actor, action="borrower.invited", subject=f"account:{account.public_id}",
                            details={"tenant": tenant, "client": client.public_id, "phone": masked(client.phone)})
            view = account_view(account, client, own=False)
            phone, language = client.phone, account.language
        link = f"{self.base_url}/cabinet/register?t={account.public_id}.{secret}"
        hours = int(self.policy.invitation_ttl.total_seconds() // 3600)
        self.sms.send(tenant, phone, self.say(language, words.INVITATION).format(
            organisation=self.organisation, link=link, hours=hours))
        return view

    def of_client(self, tenant: str, client_id: str) -> AccountView:
        with self.registry.transaction(readonly=True) as tx:
            client = self._client(tx, tenant, client_id)
            account = tx.borrower_accounts.of_client(client.id)
            if account is None:
                raise NotFound(f"client {client_id} has no account")
            return account_view(account, client, own=False)

    # -- registration (the invitation token) ------------------------------------------------------

    def registration(self, token: str | None) -> CeremonyView | None:
        """The registration under way, if one is (none before the password is chosen)."""
        with self.registry.transaction(readonly=True) as tx:
            account, client = self._invited(tx, token)
            rows = [r for r in tx.borrower_ceremonies.of_account(account.id, purpose=REGISTRATION)
                    if r.status == CeremonyStatus.OPEN]
            return ceremony_view(rows[-1], account, client.phone) if rows else None

    def holder(self, token: str | None) -> AccountView:
        with self.registry.transaction(readonly=True) as tx:
            account, client = self._invited(tx, token)
            return account_view(account, client, own=False)

    def start_registration(self, token: str | None, password: object) -> CeremonyView:
        """Choose the password and open the registration's factors; the SMS code goes to the phone."""
        with self.registry.transaction(readonly=True) as tx:
            _account, client = self._invited(tx, token)
            iin = client.iin
        problems = password_problems(password, iin)
        if problems:
            raise InvalidInput("the registration is refused", problems)
        digest = self.passwords.hash(password)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            account, client = self._invited(tx, token, for_update=True)
            required = (SMS, BIOMETRIC) if client.kind == ENTREPRENEUR else (SMS, BIOMETRIC, EDS)
            if EDS in required and not tx.client_factors.of_client(client.id, kind=EDS, status=FactorStatus.ACTIVE):
                raise ConflictError("LOAN-7: registration needs your EDS; ask your MFO to enrol your EDS certificate "
                                    "first", [Problem("eds", "no EDS certificate is enrolled")])
            account.password_hash = digest
            row, code = self.ceremonies.open(tx, account, REGISTRATION, required, now, phone=client.phone)
            tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action="borrower.registration-started",
                            subject=f"account:{account.public_id}",
                            details={"tenant": account.tenant, "ceremony": row.public_id, "required": list(required)})
            view = ceremony_view(row, account, client.phone)
            phone, language, tenant = client.phone, account.language, account.tenant
        self._send_code(tenant, phone, language, code)
        return view

    def prove_registration(self, token: str | None, proof: Proof) -> CeremonyView:
        with self.registry.transaction(readonly=True) as tx:
            account, _client = self._invited(tx, token)
            row = self._open_ceremony(tx, account, REGISTRATION, None)
            data = ceremony_data(row, account)
        checked = self.ceremonies.check_eds(proof, data)
        now = self.clock.now()
        with self.registry.transaction() as tx:
            account, client = self._invited(tx, token, for_update=True)
            row = self._open_ceremony(tx, account, REGISTRATION, None)
            refused = self.ceremonies.prove(tx, account, client, row, proof, checked, now)
            if refused is None and not [f for f in row.required if f not in row.proven]:
                row.status, row.completed_at = CeremonyStatus.DONE, now
                account.status, account.registered_at = AccountStatus.ACTIVE, now
                account.invitation_digest = account.invitation_expires_at = None
                tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action="borrower.registered",
                                subject=f"account:{account.public_id}",
                                details={"tenant": account.tenant, "factors": list(row.proven)})
            view = ceremony_view(row, account, client.phone)
        if refused is not None:
            raise FactorRefused(f"the {proof.factor} is refused", [Problem(_field(proof.factor), refused)])
        return view

    # -- details change (a session) ----------------------------------------------------------------

    def start_change(self, who: Borrower, change: DetailsChange) -> CeremonyView:
        now = self.clock.now()
        with self.registry.transaction() as tx:
            account, client = self._own(tx, who, for_update=True)
            phone, iban, bic, bank = change.checked(client.phone)
            required = (SMS, BIOMETRIC, EDS) if phone is not None else (BIOMETRIC, EDS)
            if not tx.client_factors.of_client(client.id, kind=EDS, status=FactorStatus.ACTIVE):
                raise ConflictError("LOAN-9: a change of phone or bank details needs your EDS; ask your MFO to enrol "
                                    "your EDS certificate first", [Problem("eds", "no EDS certificate is enrolled")])
            row, code = self.ceremonies.open(tx, account, DETAILS_CHANGE, required, now, phone=phone, new_phone=phone,
                                             new_bank_account=iban, new_bank_bic=bic, new_bank_name=bank)
            fields = [f for f, v in (("phone", phone), ("bank", iban)) if v is not None]
            tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action="borrower.change-started",
                            subject=f"account:{account.public_id}",
                            details={"tenant": account.tenant, "ceremony": row.public_id, "fields": fields})
            view = ceremony_view(row, account, phone or client.phone)
            language, tenant = account.language, account.tenant
        if code is not None:
            self._send_code(tenant, phone, language, code)
        return view

    def change(self, who: Borrower, change_id: str) -> CeremonyView:
        with self.registry.transaction(readonly=True) as tx:
            account, client = self._own(tx, who)
            row = self._open_ceremony(tx, account, DETAILS_CHANGE, change_id, any_status=True)
            return ceremony_view(row, account, row.new_phone or client.phone)

    def prove_change(self, who: Borrower, change_id: str, proof: Proof) -> CeremonyView:
        with self.registry.transaction(readonly=True) as tx:
            account, _client = self._own(tx, who)
            data = ceremony_data(self._open_ceremony(tx, account, DETAILS_CHANGE, change_id), account)
        checked = self.ceremonies.check_eds(proof, data)
        now = self.clock.now()
        told: list[tuple[str, str]] = []
        with self.registry.transaction() as tx:
            account, client = self._own(tx, who, for_update=True)
            row = self._open_ceremony(tx, account, DETAILS_CHANGE, change_id)
            refused = self.ceremonies.prove(tx, account, client, row, proof, checked, now)
            if refused is None and not [f for f in row.required if f not in row.proven]:
                told = self._apply(tx, account, client, row, now)
            view = ceremony_view(row, account, row.new_phone or client.phone)
            tenant = account.tenant
        for phone, text in told:
            self.sms.send(tenant, phone, text)
        if refused is not None:
            raise FactorRefused(f"the {proof.factor} is refused", [Problem(_field(proof.factor), refused)])
        return view

    def _apply(self, tx: AccountStore, account: BorrowerAccountRow, client: ClientRow, row, now: dt.datetime  # noqa: ANN001
               ) -> list[tuple[str, str]]:
        """The change in force; the SMS texts for the old phone."""
        old_phone, told, fields = client.phone, [], []
        if row.new_phone is not None:
            for f in tx.client_factors.of_client(client.id, kind=SMS, for_update=True):
                if f.id == row.phone_factor_id:
                    f.status, f.confirmed_at = FactorStatus.ACTIVE, now
                elif f.status == FactorStatus.ACTIVE:
                    f.status, f.revoked_at = FactorStatus.REVOKED, now
            client.phone = row.new_phone
            fields.append("phone")
            told.append((old_phone, self.say(account.language, words.PHONE_CHANGED).format(
                phone=masked(row.new_phone))))
        if row.new_bank_account is not None:
            account.bank_account, account.bank_bic, account.bank_name = (row.new_bank_account, row.new_bank_bic,
                                                                         row.new_bank_name)
            fields.append("bank")
            told.append((old_phone, self.say(account.language, words.BANK_CHANGED).format(
                tail=row.new_bank_account[-4:])))
        row.status, row.completed_at = CeremonyStatus.DONE, now
        tx.audit.append(at=now, actor=f"borrower:{account.public_id}", action="borrower.details-changed",
                        subject=f"account:{account.public_id}",
                        details={"tenant": account.tenant, "ceremony": row.public_id, "fields": fields,
                                 "factors": list(row.proven), "old_phone": masked(old_phone),
                                 **({"new_phone": masked(row.new_phone)} if row.new_phone else {}),
                                 "told": "sms to the old phone"})
        return told

    # -- helpers ----------------------------------------------------------------------------------------

    def _send_code(self, tenant: str, phone: str, language: str, code: str | None) -> None:
        if code is not None:
            minutes = int(self.ceremonies.codes.ttl.total_seconds() // 60)
            self.sms.send(tenant, phone, self.say(language, words.CODE).format(code=code, minutes=minutes))

    def _client(self, tx: AccountStore, tenant: str, client_id: str) -> ClientRow:
        row = tx.clients.by_public_id(tenant, client_id) if isinstance(client_id, str) and len(client_id) == 32 \
            else None
        if row is None:
            raise NotFound(f"no client {client_id}")
        return row

    def _invited(self, tx: AccountStore, token: str | None, *,
                 for_update: bool = False) -> tuple[BorrowerAccountRow, ClientRow]:
        """The account the invitation token names, while it is invited and the token is live (else 401)."""
        refused = Unauthenticated("the invitation link is not valid, has expired or was used")
        public_id, _, secret = (token or "").partition(".")
        account = tx.borrower_accounts.invited(public_id, for_update=for_update) if len(public_id) == 32 else None
        digest = account.invitation_digest if account is not None and account.invitation_digest else "0" * 64
        matches = self.secrets.matches(digest, "cabinet invitation", public_id, secret)
        if (account is None or not matches or account.status != AccountStatus.INVITED
                or account.invitation_expires_at is None or self.clock.now() >= account.invitation_expires_at):
            raise refused
        return account, tx.clients.by_id(account.tenant, account.client_id)

    def _own(self, tx: AccountStore, who: Borrower, *,
             for_update: bool = False) -> tuple[BorrowerAccountRow, ClientRow]:
        account = tx.borrower_accounts.by_public_id(who.tenant, who.account, for_update=for_update)
        if account is None or account.status != AccountStatus.ACTIVE:
            raise Unauthenticated("the session is not valid")
        return account, tx.clients.by_id(account.tenant, account.client_id)

    @staticmethod
    def _open_ceremony(tx: AccountStore, account: BorrowerAccountRow, purpose: str, public_id: str | None, *,
                       any_status: bool = False):  # noqa: ANN205 - BorrowerCeremonyRow
        if public_id is None:
            rows = [r for r in tx.borrower_ceremonies.of_account(account.id, purpose=purpose)
                    if r.status == CeremonyStatus.OPEN]
            if not rows:
                raise ConflictError("no registration is under way; choose your password first")
            return rows[-1]
        row = tx.borrower_ceremonies.by_public_id(account.id, public_id) if len(public_id) == 32 else None
        if row is None or row.purpose != purpose:
            raise NotFound(f"no change {public_id}")
        return row


def _field(factor: str | None) -> str:
    return {SMS: "code", BIOMETRIC: "assertion", EDS: "cms"}.get(factor or "", "factor")


__all__ = ["DETAILS_CHANGE", "REGISTRATION", "BorrowerAccounts"]
