"""A document's metadata: LOAN-13's limits and the client's identifiers, every problem at once."""

from __future__ import annotations

from decimal import Decimal

import pytest

from signing.documents.limits import DocumentLimits
from signing.documents.metadata import DocumentMetadata, parse_metadata
from tests.support import factories as f

LIMITS = DocumentLimits()


def problems_of(**overrides: object) -> dict[str, str]:
    values, problems = parse_metadata(f.loan_metadata(**overrides), LIMITS)
    if not problems:
        DocumentMetadata(**values)  # a clean parse always builds
    return {p.field: p.message for p in problems}


def test_valid_metadata_reads_into_decimals():
    values, problems = parse_metadata(f.loan_metadata(loan_amount=250000, annual_effective_rate=45.9), LIMITS)
    assert problems == []
    meta = DocumentMetadata(**values)
    assert meta.loan_amount == Decimal("250000.00") and meta.annual_effective_rate == Decimal("45.90")
    assert meta.as_json()["loan_amount"] == "250000.00"


def test_json_text_is_read_with_decimal_numbers():
    values, problems = parse_metadata('{"kind": "contract", "loan_amount": 10000.1}', LIMITS)
    assert values["loan_amount"] == Decimal("10000.10")
    assert "metadata.contract_number" in {p.field for p in problems}


@pytest.mark.parametrize("field, inside, outside", [
    ("loan_amount", "10000", "9999.99"),
    ("loan_amount", "4757500", "4757500.01"),     # 1100 MRP at 4325 KZT (2026)
    ("term_days", 5, 4),
    ("term_days", 1096, 1097),                    # 36 months at most
    ("annual_effective_rate", "46", "46.01"),
    ("annual_effective_rate", "3.65", "3.64"),
    ("interest_rate", "3.65", "3.64"),
])
def test_LOAN13_limits_hold_at_their_edges(field, inside, outside):
    """LOAN-13 (seed 003 line 398, Table 1): 10 000 KZT to 1 100 MRP, 5 days to 36 months, rate >= 3.65 %, ГЭСВ <= 46 %."""
    extra = {"interest_rate": None} if field == "annual_effective_rate" else {}
    assert problems_of(**{field: inside, **extra}) == {}
    refused = problems_of(**{field: outside, **extra})
    assert list(refused) == [f"metadata.{field}"] and "LOAN-13" in refused[f"metadata.{field}"]


def test_LOAN13_maximum_follows_the_MRP_setting():
    """LOAN-13: the ceiling is 1 100 MRP, whatever the year's MRP is."""
    values, problems = parse_metadata(f.loan_metadata(loan_amount="4400000"), DocumentLimits(mrp_kzt=4000))
    assert problems == []
    _values, problems = parse_metadata(f.loan_metadata(loan_amount="4400001"), DocumentLimits(mrp_kzt=4000))
    assert [p.field for p in problems] == ["metadata.loan_amount"]


def test_interest_rate_may_not_exceed_the_effective_rate():
    assert "metadata.interest_rate" in problems_of(interest_rate="40", annual_effective_rate="30")
    assert problems_of(interest_rate=None) == {}   # optional


def test_LOAN13_every_problem_is_listed_at_once():
    """LOAN-13 limits, types, enumerations, identifiers and unknown fields are all reported together."""
    refused = problems_of(loan_amount="5000000", term_days=2000, annual_effective_rate="56", interest_rate="1",
                          client_id_number=f.bad_iin(), purpose="holiday", secured="yes", template_version=" ",
                          colour="blue")
    assert set(refused) == {"metadata.loan_amount", "metadata.term_days", "metadata.annual_effective_rate",
                            "metadata.interest_rate", "metadata.client_id_number", "metadata.purpose",
                            "metadata.secured", "metadata.template_version", "metadata.colour"}


@pytest.mark.parametrize("value, message", [
    (True, "must be a number"), ("12 000", "must be a number"), ("NaN", "finite"), ("10000.001", "decimal places"),
    ("1e40", "too large"),
])
def test_amounts_are_plain_finite_numbers(value, message):
    assert message in problems_of(loan_amount=value)["metadata.loan_amount"]


def test_term_is_a_whole_number_of_days():
    assert "whole number" in problems_of(term_days=30.5)["metadata.term_days"]
    assert "whole number" in problems_of(term_days="30")["metadata.term_days"]


def test_client_identifier_matches_the_kind_of_client():
    """An individual has an IIN, a legal entity a BIN, an entrepreneur an IIN or a joint-entrepreneurship BIN."""
    person, company, joint = f.iin(), f.VALID_BIN, f.joint_entrepreneurship_bin()
    assert problems_of(client_kind="individual", client_id_number=person) == {}
    assert problems_of(client_kind="legal_entity", client_id_number=company) == {}
    assert problems_of(client_kind="entrepreneur", client_id_number=person) == {}
    assert problems_of(client_kind="entrepreneur", client_id_number=joint) == {}
    assert "IIN" in problems_of(client_kind="individual", client_id_number=company)["metadata.client_id_number"]
    assert "BIN" in problems_of(client_kind="legal_entity", client_id_number=person)["metadata.client_id_number"]
    assert "BIN" in problems_of(client_kind="legal_entity", client_id_number=joint)["metadata.client_id_number"]
    assert "entrepreneur" in problems_of(client_kind="entrepreneur",
                                         client_id_number=company)["metadata.client_id_number"]
    assert "checksum" in problems_of(client_id_number=f.bad_iin())["metadata.client_id_number"]


def test_only_an_amendment_names_a_contract():
    assert "required" in problems_of(kind="amendment")["metadata.contract"]
    assert "only an amendment" in problems_of(contract="0" * 32)["metadata.contract"]
    assert problems_of(kind="amendment", contract="0" * 32) == {}


def test_text_fields_are_required_and_bounded():
    assert "required" in problems_of(contract_number=None)["metadata.contract_number"]
    assert "longer than 64" in problems_of(contract_number="N" * 65)["metadata.contract_number"]
    assert "control characters" in problems_of(title="a\x00b")["metadata.title"]


@pytest.mark.parametrize("payload, message", [(None, "required"), ("{", "not valid JSON"), ("[]", "JSON object"),
                                              (42, "JSON object")])
def test_metadata_must_be_a_json_object(payload, message):
    _values, problems = parse_metadata(payload, LIMITS)
    assert [p.field for p in problems] == ["metadata"] and message in problems[0].message


def test_limits_refuse_an_MRP_that_puts_the_ceiling_below_the_floor():
    with pytest.raises(ValueError, match="MRP"):
        DocumentLimits(mrp_kzt=9)
