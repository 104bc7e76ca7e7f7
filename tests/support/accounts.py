"""The borrower's account (issue 16) as the tests drive it: the invitation from the outbox, each factor's proof;
a registered account with its password for tests of the password alone (the CSC PIN, issue 19)."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets

from registry import AccountStatus, BorrowerAccountRow
from tests.support.factors import Token, token_cms

INVITATION = re.compile(r"/cabinet/register\?t=([0-9a-f]{32}\.[A-Za-z0-9_-]+)")
PASSWORD = "Borrower-pass-2026"


def invitation_token(services, number: str) -> str:
    texts = [m.text for m in services.sms.messages(phone=number) if "/cabinet/register?t=" in m.text]
    assert texts, f"no invitation to {number}"
    return INVITATION.search(texts[-1]).group(1)


def invite(http, headers, services, client: dict, **body) -> str:
    """The MFO invites the client; the token the client's phone received."""
    response = http.post(f"/clients/{client['id']}/account", headers=headers, json=body or None)
    assert response.status_code == 201, response.text
    assert "/cabinet/register" not in response.text and "token" not in response.json()
    return invitation_token(services, client["phone"])


def assertion(services, iin: str, ceremony: dict, **kwargs) -> str:
    return services.biometric_simulator.assertion(iin=iin, challenge=ceremony["id"], movements=ceremony["movements"],
                                                  at=services.clock.now(), **kwargs)


def eds_cms(token: Token, ceremony: dict, data: bytes | None = None) -> str:
    """The borrower's own token signs the ceremony's data (detached CMS over its SHA-256, as NCALayer does)."""
    data = base64.b64decode(ceremony["data_to_sign"]) if data is None else data
    return base64.b64encode(token_cms(token.key, token.certificate, hashlib.sha256(data).digest())).decode()


def bearer(session: dict) -> dict[str, str]:
    return {"Authorization": f"Bearer {session['token']}"}


def cabinet_account(services, tenant: str, client_public_id: str, password: str = PASSWORD) -> str:
    """A registered cabinet account for a client (as registration leaves it, LOAN-7's ceremony skipped for a test
    that needs only the password): active, the password argon2id-hashed by the service's own hasher; its id."""
    now = services.clock.now()
    with services.registry.transaction() as tx:
        client = tx.clients.by_public_id(tenant, client_public_id)
        account = tx.borrower_accounts.add(BorrowerAccountRow(
            public_id=secrets.token_hex(16), tenant=tenant, client_id=client.id, status=AccountStatus.ACTIVE,
            password_hash=services.borrower_passwords.hash(password), language="kk", failures=0, created_at=now,
            created_by="test", registered_at=now))
        return account.public_id
