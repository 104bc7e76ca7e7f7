"""The evidence of factors a signer recorded in the signature dictionary is reported as found."""

from __future__ import annotations

from pyhanko.pdf_utils import generic

from signing.verification.pdf import _factors  # noqa: PLC2701 - the one rule under test


def _dictionary(**entries) -> generic.DictionaryObject:
    return generic.DictionaryObject({generic.pdf_name(f"/{k}"): v for k, v in entries.items()})


def test_prop_auth_type_and_time_are_reported() -> None:
    found = _factors(_dictionary(Prop_AuthType=generic.pdf_name("/PIN"), Prop_AuthTime=generic.NumberObject(42)))
    assert found == {"auth_type": "PIN", "auth_time": 42}


def test_a_signature_without_factor_evidence_reports_none() -> None:
    assert _factors(_dictionary(Reason=generic.TextStringObject("Contract"))) is None
