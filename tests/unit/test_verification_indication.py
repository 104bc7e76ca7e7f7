"""The mapping from findings to ETSI EN 319 102-1 indications, one rule per test (docs/DECISIONS.md table)."""

from __future__ import annotations

import datetime as dt

from signing.verification.indication import Findings, judge
from signing.verification.report import Indication

T0 = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.timezone.utc)


def _verdict(**changes):
    verdict = judge(Findings(intact=True, valid=True, **changes))
    return verdict.indication, verdict.sub_indication


def test_an_intact_valid_trusted_unchanged_signature_passes() -> None:
    assert _verdict() == (Indication.TOTAL_PASSED, None)


def test_changed_content_is_hash_failure_and_wins_over_everything_else() -> None:
    assert judge(Findings(intact=False, valid=False, trust_problem="NO_CERTIFICATE_CHAIN_FOUND")).sub_indication \
        == "HASH_FAILURE"


def test_a_signature_value_that_does_not_verify_is_sig_crypto_failure() -> None:
    assert judge(Findings(intact=True, valid=False)).sub_indication == "SIG_CRYPTO_FAILURE"


def test_a_byte_range_covering_less_than_a_revision_is_format_failure() -> None:
    assert _verdict(coverage="partial") == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")
    assert _verdict(coverage="unclear") == (Indication.TOTAL_FAILED, "FORMAT_FAILURE")


def test_a_change_the_signatures_lock_forbids_is_format_failure() -> None:
    assert _verdict(modification="other", lock_broken=True, changes_allowed=False) == (Indication.TOTAL_FAILED,
                                                                                       "FORMAT_FAILURE")


def test_other_changes_without_a_lock_are_sig_constraints_failure() -> None:
    assert _verdict(modification="other", changes_allowed=False) == (Indication.INDETERMINATE,
                                                                     "SIG_CONSTRAINTS_FAILURE")


def test_form_filling_and_annotations_after_a_signature_are_fine() -> None:
    assert _verdict(modification="form_filling")[0] is Indication.TOTAL_PASSED
    assert _verdict(modification="annotations")[0] is Indication.TOTAL_PASSED


def test_revoked_before_a_proven_signing_time_is_total_failed_revoked() -> None:
    found = dict(trust_problem="REVOKED_NO_POE", revoked_at=T0, poe=T0 + dt.timedelta(minutes=5))
    assert _verdict(**found) == (Indication.TOTAL_FAILED, "REVOKED")


def test_revoked_without_a_proven_signing_time_is_revoked_no_poe() -> None:
    assert _verdict(trust_problem="REVOKED_NO_POE", revoked_at=T0) == (Indication.INDETERMINATE, "REVOKED_NO_POE")


def test_not_yet_valid_at_a_proven_signing_time_is_total_failed() -> None:
    assert _verdict(trust_problem="NOT_YET_VALID", poe=T0) == (Indication.TOTAL_FAILED, "NOT_YET_VALID")


def test_trust_problems_are_indeterminate_with_pyhankos_sub_indication() -> None:
    for problem in ("NO_CERTIFICATE_CHAIN_FOUND", "TRY_LATER", "OUT_OF_BOUNDS_NO_POE", "CHAIN_CONSTRAINTS_FAILURE"):
        assert _verdict(trust_problem=problem) == (Indication.INDETERMINATE, problem)


def test_a_certificate_without_non_repudiation_is_chain_constraints_failure() -> None:
    assert _verdict(key_usage_fit=False) == (Indication.INDETERMINATE, "CHAIN_CONSTRAINTS_FAILURE")


def test_total_failed_beats_indeterminate_whatever_the_order() -> None:
    assert _verdict(trust_problem="NO_CERTIFICATE_CHAIN_FOUND", lock_broken=True, changes_allowed=False)[0] \
        is Indication.TOTAL_FAILED
