"""What a borrower types for a change of details (issue 16, LOAN-9): every problem listed at once.

The valid IBAN is the Kazakh example of SWIFT's IBAN Registry (KZ86125KZT5004100100); ISO 13616's check
digits are what the other one breaks.
"""

from __future__ import annotations

import pytest

from ca.errors import InvalidInput
from signing.accounts.views import DetailsChange, iban_problems, password_problems

EXAMPLE = "KZ86125KZT5004100100"


def test_an_iban_is_kazakh_and_its_check_digits_hold() -> None:
    assert iban_problems(EXAMPLE) == []
    assert iban_problems("KZ87125KZT5004100100") == ["has wrong check digits (ISO 13616 mod 97)"]
    assert "Kazakh IBAN" in iban_problems("DE89370400440532013000")[0]
    assert "Kazakh IBAN" in iban_problems(EXAMPLE[:-1])[0]


def test_LOAN_9_a_change_lists_every_problem_and_normalises_what_is_good() -> None:
    with pytest.raises(InvalidInput) as caught:
        DetailsChange(phone="12", bank_account="KZ00", bank_bic="x").checked("+77010000000")
    assert {p.field for p in caught.value.problems} == {"phone", "bank_account", "bank_bic", "bank_name"}
    with pytest.raises(InvalidInput) as caught:
        DetailsChange().checked("+77010000000")
    assert [p.field for p in caught.value.problems] == ["phone"]
    phone, iban, bic, name = DetailsChange(bank_account="kz86 125K ZT50 0410 0100", bank_bic="hsbkkzkx",
                                           bank_name="Halyk").checked("+77010000000")
    assert (phone, iban, bic, name) == (None, EXAMPLE, "HSBKKZKX", "Halyk")


def test_a_password_is_long_enough_and_not_the_iin() -> None:
    assert password_problems("long enough password") == []
    assert [p.message for p in password_problems("short")] == ["must be 10 to 128 characters"]
    assert [p.message for p in password_problems("900101300017-pass", "900101300017")] == ["must not contain your IIN"]
    assert [p.message for p in password_problems(None)] == ["is required"]
