"""One-time codes in the registry: sent, throttled, checked once (issue 5).

A code is bound by its keyed hash to a purpose, a binding (the signing
request's id, or the factor's id for a phone confirmed at enrolment) and
the document digest, and lives ``CodePolicy.ttl``. A new code replaces the
ones before it; a code is asked for again no sooner than
``CodePolicy.resend_after`` and at most ``CodePolicy.max_sends`` times.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from ca.errors import ConflictError
from registry import ClientFactorRow, OneTimeCodeRow
from signing.factors.codes import code_parts, new_code
from signing.factors.errors import Throttled
from signing.policies.policy import CodePolicy

SIGNING, ENROLMENT = "signing", "enrolment"
# A code sent by the CSC door's credentials/sendOTP (issue 19): bound to the credential, no request.
REMOTE = "csc"


class OneTimeCodes(Protocol):
    def sent(self, factor_id: int, request_id: int | None, purpose: str, *,
             for_update: bool = False) -> list[OneTimeCodeRow]: ...
    def add(self, row: OneTimeCodeRow) -> OneTimeCodeRow: ...


class CodeStore(Protocol):
    """What sending and checking a code touch in the caller's unit of work (a ``RegistryTransaction`` is one)."""

    @property
    def one_time_codes(self) -> OneTimeCodes: ...


class KeyedHash(Protocol):
    def keyed_hash(self, *parts: str | bytes) -> str: ...

    def matches(self, expected_hex: str, *parts: str | bytes) -> bool: ...


def issue_code(tx: CodeStore, hasher: KeyedHash, policy: CodePolicy, now: dt.datetime, *,
               factor: ClientFactorRow, request_id: int | None, binding: str,
               document_sha256: str | None, purpose: str | None = None,
               since: dt.datetime | None = None) -> tuple[str, OneTimeCodeRow]:
    """A fresh code (returned once, to be sent) replacing the earlier ones; raises ``Throttled``.

    ``since``: only codes sent since then count towards ``max_sends`` (the CSC door's codes, bound to no
    request: so many an hour)."""
    purpose = purpose or (SIGNING if request_id is not None else ENROLMENT)
    sent = tx.one_time_codes.sent(factor.id, request_id, purpose, for_update=True)
    if since is not None:
        for row in sent:
            if row.created_at < since and row.used_at is None and row.superseded_at is None:
                row.superseded_at = now
        sent = [row for row in sent if row.created_at >= since]
    if sent and now < sent[-1].created_at + policy.resend_after:
        wait = (sent[-1].created_at + policy.resend_after - now).total_seconds()
        raise Throttled(f"a code was sent moments ago; ask again in {int(wait) + 1} s", wait)
    if len(sent) >= policy.max_sends:
        raise ConflictError(f"{policy.max_sends} codes were sent already; no more are sent for this "
                            + ("request" if request_id is not None else "hour" if since is not None
                               else "phone confirmation"))
    for row in sent:
        if row.used_at is None and row.superseded_at is None:
            row.superseded_at = now
    code = new_code(policy.digits)
    row = tx.one_time_codes.add(OneTimeCodeRow(
        factor_id=factor.id, request_id=request_id, purpose=purpose,
        code_digest=hasher.keyed_hash(*code_parts(purpose, binding, document_sha256, code)),
        document_sha256=document_sha256, created_at=now, expires_at=now + policy.ttl, attempts=0))
    return code, row


def check_code(tx: CodeStore, hasher: KeyedHash, now: dt.datetime, *, factor: ClientFactorRow,
               request_id: int | None, binding: str, document_sha256: str | None, code: str,
               purpose: str | None = None) -> str | None:
    """None when ``code`` is the live code (now used up); else why it is refused."""
    purpose = purpose or (SIGNING if request_id is not None else ENROLMENT)
    sent = tx.one_time_codes.sent(factor.id, request_id, purpose, for_update=True)
    parts = code_parts(purpose, binding, document_sha256, code)
    # Each sent code is compared (a handful at most), in constant time.
    matched = [row for row in sent if hasher.matches(row.code_digest, *parts)]
    live = next((r for r in reversed(sent) if r.used_at is None and r.superseded_at is None), None)
    if live is not None:
        live.attempts += 1
    if not matched:
        return "is wrong" if live is not None else "is wrong; no code is waiting, ask for one"
    row = matched[-1]
    if row.used_at is not None:
        return "was already used"
    if row.superseded_at is not None and row is not sent[-1]:
        return "was replaced by a newer code"
    if row.superseded_at is not None:
        # No code was sent after it: it was voided, which only too many wrong tries do (issue 18).
        return "is void after too many wrong tries; ask for a new code"
    if now >= row.expires_at:
        return "has expired; ask for a new one"
    row.used_at = now
    return None
