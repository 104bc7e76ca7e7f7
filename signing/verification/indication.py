"""From what was checked to an ETSI EN 319 102-1 indication: the one mapping table.

docs/DECISIONS.md "Verification (issue 6)" shows the same table for readers.
Every check contributes at most one candidate verdict; the report takes the
most severe (TOTAL-FAILED over INDETERMINATE), and among equals the first
in the order below, so "the content was changed" is said before "the
certificate is not trusted".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from signing.verification.report import (
    CHAIN_CONSTRAINTS_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE,
    CRYPTO_CONSTRAINTS_FAILURE_NO_POE,
    FORMAT_FAILURE,
    HASH_FAILURE,
    NOT_YET_VALID,
    REVOKED,
    REVOKED_NO_POE,
    SIG_CONSTRAINTS_FAILURE,
    SIG_CRYPTO_FAILURE,
    Verdict,
)
from signing.verification.words import replaced

# pyHanko's modification levels, in our words (issue 6); LTA_UPDATES (DSS and
# document time-stamps) are what PAdES expects after a signature: "none".
MODIFICATION_NAMES = {"NONE": "none", "LTA_UPDATES": "none", "FORM_FILLING": "form_filling",
                      "ANNOTATIONS": "annotations", "OTHER": "other"}
COVERAGE_NAMES = {"ENTIRE_FILE": "entire_file", "ENTIRE_REVISION": "entire_revision",
                  "CONTIGUOUS_BLOCK_FROM_START": "partial", "UNCLEAR": "unclear"}


@dataclass(frozen=True)
class Findings:
    """What the checks found for one signature or time-stamp."""

    intact: bool
    valid: bool
    coverage: str | None = "entire_file"
    modification: str | None = "none"
    lock_broken: bool = False          # a change after it that its DocMDP/FieldMDP lock forbids
    changes_allowed: bool = True       # pyHanko's docmdp_ok (False: "other" changes after it)
    trust_problem: str | None = None   # an ETSI sub-indication from the certificate validation
    trust_detail: str = ""
    poe: dt.datetime | None = None     # the proven signing time the certificate was checked at
    revoked_at: dt.datetime | None = None
    key_usage_fit: bool = True
    replaced: tuple[str, ...] = ()     # what a later revision replaced of the signed pages (changes.py)
    crypto_detail: str = ""            # which algorithm is past its sunset (algorithms.py)


def judge(found: Findings) -> Verdict:
    candidates = []
    if not found.intact:
        candidates.append(Verdict.failed(HASH_FAILURE, "the digest over the signed bytes does not match"))
    if not found.valid:
        candidates.append(Verdict.failed(SIG_CRYPTO_FAILURE, "the signature value does not verify with the "
                                                             "signer's public key"))
    if found.coverage in ("partial", "unclear"):
        candidates.append(Verdict.failed(FORMAT_FAILURE, "the signed byte range does not cover a whole revision "
                                                         f"(coverage: {found.coverage})"))
    if found.lock_broken and not found.replaced:
        candidates.append(Verdict.failed(FORMAT_FAILURE, "the document was changed after the signature in a way "
                                                         "its lock (DocMDP/FieldMDP) forbids"))
    if found.trust_problem is not None:
        candidates.append(_trust_verdict(found))
    elif not found.key_usage_fit:
        candidates.append(Verdict.indeterminate(CHAIN_CONSTRAINTS_FAILURE, "the certificate lacks nonRepudiation"))
    if found.replaced and not found.lock_broken:
        # Shadow attacks (changes.py): whatever pyHanko's level, the signed pages now show something else.
        candidates.append(Verdict.indeterminate(SIG_CONSTRAINTS_FAILURE, replaced(found.replaced)))
    elif found.replaced:
        candidates.append(Verdict.failed(FORMAT_FAILURE, replaced(found.replaced)))
    if not found.changes_allowed and not found.lock_broken and not found.replaced:
        candidates.append(Verdict.indeterminate(SIG_CONSTRAINTS_FAILURE, "the document was changed after the "
                                                                         "signature beyond form filling, "
                                                                         "annotations and validation data"))
    if not candidates:
        return Verdict.passed()
    worst = max(v.indication.rank for v in candidates)
    return next(v for v in candidates if v.indication.rank == worst)


def _trust_verdict(found: Findings) -> Verdict:
    problem, detail = found.trust_problem, found.trust_detail
    # ETSI EN 319 102-1 §5.5.4: the signer's certificate was revoked, and a
    # time-stamp proves the signature was made at or after the revocation.
    if problem == REVOKED_NO_POE and found.poe is not None and found.revoked_at is not None \
            and found.revoked_at <= found.poe:
        return Verdict.failed(REVOKED, detail or "the signing certificate was revoked before the signing time")
    if problem == NOT_YET_VALID and found.poe is not None:
        return Verdict.failed(NOT_YET_VALID, detail or "the signing certificate was not yet valid")
    if problem in (CRYPTO_CONSTRAINTS_FAILURE, CRYPTO_CONSTRAINTS_FAILURE_NO_POE) and found.crypto_detail:
        # EN 319 102-1 Table 5: past the sunset with a proof it was made after it: CRYPTO_CONSTRAINTS_FAILURE;
        # with no proof either way: CRYPTO_CONSTRAINTS_FAILURE_NO_POE.
        sub = CRYPTO_CONSTRAINTS_FAILURE if found.poe is not None else CRYPTO_CONSTRAINTS_FAILURE_NO_POE
        return Verdict.indeterminate(sub, found.crypto_detail)
    return Verdict.indeterminate(problem, detail)


__all__ = ["COVERAGE_NAMES", "Findings", "MODIFICATION_NAMES", "judge"]
