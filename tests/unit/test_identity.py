from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ca.identity import (
    iin_birth_date,
    iin_check_digit,
    is_valid_bin,
    is_valid_email,
    is_valid_iin,
    is_valid_person_name,
    is_valid_phone,
    make_test_iin,
    normalize_phone,
    validate_bin,
    validate_email,
    validate_iin,
    validate_person_name,
    validate_phone,
)


def _with_check_digit(first11: str) -> str:
    check = iin_check_digit(first11)
    assert check is not None
    return f"{first11}{check}"


# --------------------------------------------------------------------------
# Checksum
# --------------------------------------------------------------------------


def test_check_digit_first_round():
    # 9,0,0,1,0,1,3,0,0,0,1 . 1..11 = 9+0+0+4+0+6+21+0+0+0+11 = 51; 51 mod 11 = 7
    assert iin_check_digit("90010130000") == 7


def test_check_digit_second_round():
    # Digits 8,8,0,6,1,5,3,0,0,6,2. First round: 8+16+0+24+5+30+21+0+0+60+22
    # = 186 = 10 (mod 11), so the weights 3,4,5,6,7,8,9,10,11,1,2 apply:
    # 24+32+0+36+7+40+27+0+0+6+4 = 176 = 0 (mod 11).
    assert iin_check_digit("88061530062") == 0
    assert validate_iin("880615300620") == []
    assert validate_iin("880615300621") == [
        "IIN checksum mismatch: check digit is 1, expected 0"
    ]


def test_check_digit_impossible_when_both_rounds_give_ten():
    assert iin_check_digit("88061530067") is None
    for last in "0123456789":
        problems = validate_iin("88061530067" + last)
        assert problems == [
            "IIN checksum: no valid check digit exists for the first 11 digits"
        ]


def test_check_digit_rejects_bad_input():
    with pytest.raises(ValueError):
        iin_check_digit("1234567890")
    with pytest.raises(ValueError):
        iin_check_digit("١٢٣٤٥٦٧٨٩٠١")  # Arabic-Indic digits are not ASCII


# --------------------------------------------------------------------------
# IIN
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iin",
    [
        "900101300017",  # man born 1990-01-01
        "850715400028",  # woman born 1985-07-15
        "040229600170",  # woman born 2004-02-29 (leap day)
        "991231100050",  # man born 1899-12-31
        "880615300620",  # check digit from the second round
    ],
)
def test_valid_iins(iin):
    assert validate_iin(iin) == []
    assert is_valid_iin(iin)


def test_nca_test_certificate_iin_is_not_a_valid_iin():
    # NCA RK test certificates carry SERIALNUMBER=IIN123456789011. It is a
    # placeholder, not a well-formed IIN: no 34th month, century digit 7, and
    # the checksum (round 1 gives 10, round 2 gives 3) does not match the 1.
    assert validate_iin("123456789011") == [
        "IIN birth date 123456 (YYMMDD) is not a valid calendar date",
        "IIN 7th digit (century and sex) must be 1-6, got 7",
        "IIN checksum mismatch: check digit is 1, expected 3",
    ]
    assert not is_valid_iin("123456789011")


@pytest.mark.parametrize(
    "iin, problem",
    [
        ("90010130001", "IIN must be exactly 12 digits"),
        ("9001013000170", "IIN must be exactly 12 digits"),
        ("90010130001A", "IIN must be exactly 12 digits"),
        (" 900101300017", "IIN must be exactly 12 digits"),
        ("９００１０１３０００１７", "IIN must be exactly 12 digits"),  # full-width digits
        ("", "IIN must be exactly 12 digits"),
        (None, "IIN must be a string"),
        (900101300017, "IIN must be a string"),
    ],
)
def test_iin_format(iin, problem):
    assert validate_iin(iin) == [problem]


def test_iin_bad_checksum():
    assert validate_iin("900101300018") == [
        "IIN checksum mismatch: check digit is 8, expected 7"
    ]


@pytest.mark.parametrize(
    "first11",
    [
        "90130130001",  # month 13
        "90023130001",  # 31 February
        "90000130001",  # month 00
        "90010030001",  # day 00
        "00022930001",  # 1900-02-29: 1900 is not a leap year (century digit 3)
    ],
)
def test_iin_bad_birth_date(first11):
    problems = validate_iin(_with_check_digit(first11))
    assert len(problems) == 1
    assert "is not a valid calendar date" in problems[0]


def test_iin_leap_day_depends_on_century():
    assert validate_iin(_with_check_digit("00022950001")) == []  # 2000-02-29
    assert validate_iin(_with_check_digit("00022930001")) != []  # 1900-02-29


@pytest.mark.parametrize("marker", ["7", "8", "9"])
def test_iin_bad_century_digit(marker):
    problems = validate_iin(_with_check_digit(f"900101{marker}0001"))
    assert problems == [f"IIN 7th digit (century and sex) must be 1-6, got {marker}"]


def test_iin_century_digit_zero_only_when_allowed():
    iin = _with_check_digit("9001010" + "0001")
    assert validate_iin(iin) == ["IIN 7th digit (century and sex) must be 1-6, got 0"]
    assert validate_iin(iin, allow_foreign_zero=True) == []
    assert iin_birth_date(iin) is None
    bad_date = _with_check_digit("9013010" + "0001")
    assert validate_iin(bad_date, allow_foreign_zero=True) == [
        "IIN birth date 901301 (YYMMDD) is not a valid calendar date"
    ]


def test_iin_birth_in_future_only_with_today():
    iin = make_test_iin(date(2030, 1, 1), "M", 1)
    assert validate_iin(iin) == []
    assert validate_iin(iin, today=date(2025, 6, 1)) == [
        "IIN birth date 2030-01-01 is in the future"
    ]
    assert validate_iin(iin, today=date(2030, 1, 1)) == []


def test_iin_birth_date():
    assert iin_birth_date("900101300017") == date(1990, 1, 1)
    assert iin_birth_date("991231100050") == date(1899, 12, 31)
    assert iin_birth_date("900101300018") is None


# --------------------------------------------------------------------------
# make_test_iin
# --------------------------------------------------------------------------


def test_make_test_iin_layout():
    iin = make_test_iin(date(1990, 1, 1), "M", 1)
    assert iin == "900101300017"
    assert make_test_iin(date(1985, 7, 15), "f", 2) == "850715400028"
    assert make_test_iin(date(2004, 2, 29), "female", 17)[6] == "6"
    assert make_test_iin(date(1850, 5, 5), "male", 3)[:7] == "5005051"


def test_make_test_iin_rejects_bad_arguments():
    with pytest.raises(ValueError, match="sex"):
        make_test_iin(date(1990, 1, 1), "X", 1)
    with pytest.raises(ValueError, match="serial"):
        make_test_iin(date(1990, 1, 1), "M", 10000)
    with pytest.raises(ValueError, match="year"):
        make_test_iin(date(2100, 1, 1), "M", 1)
    with pytest.raises(ValueError, match="no valid check digit"):
        make_test_iin(date(1988, 6, 15), "M", 67)  # 88061530067: both rounds 10


@given(
    birth=st.dates(min_value=date(1800, 1, 1), max_value=date(2099, 12, 31)),
    sex=st.sampled_from(["M", "F"]),
    serial=st.integers(min_value=0, max_value=9999),
)
def test_make_test_iin_is_valid(birth, sex, serial):
    try:
        iin = make_test_iin(birth, sex, serial)
    except ValueError as exc:  # ~1 serial in 121 admits no check digit
        assert "no valid check digit" in str(exc)
        return
    assert validate_iin(iin) == []
    assert iin_birth_date(iin) == birth
    assert int(iin[6]) % 2 == (1 if sex == "M" else 0)
    assert iin[7:11] == f"{serial:04d}"


# --------------------------------------------------------------------------
# BIN
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "bin_",
    [
        "940140000385",  # published example (python-stdnum docs)
        "990140004654",  # published example (python-stdnum docs)
        _with_check_digit("07104" + "0" + "12345"),  # resident head office, Oct 2007
        _with_check_digit("15035" + "1" + "00042"),  # non-resident's branch
        _with_check_digit("21126" + "3" + "00001"),  # joint-entrepreneurship farm
    ],
)
def test_valid_bins(bin_):
    assert validate_bin(bin_) == []
    assert is_valid_bin(bin_)


def test_bin_bad_month():
    assert validate_bin(_with_check_digit("07134" + "0" + "12345")) == [
        "BIN registration month (digits 3-4) must be 01-12, got 13"
    ]
    assert validate_bin(_with_check_digit("07004" + "0" + "12345")) != []


@pytest.mark.parametrize("kind", ["0", "1", "2", "3", "7", "9"])
def test_bin_bad_entity_type(kind):
    assert validate_bin(_with_check_digit(f"0710{kind}0" + "12345")) == [
        f"BIN 5th digit (entity type) must be 4, 5 or 6, got {kind}"
    ]


def test_bin_bad_division():
    assert validate_bin(_with_check_digit("071045" + "12345")) == [
        "BIN 6th digit (division) must be 0-3, got 5"
    ]


def test_bin_bad_checksum_and_format():
    assert validate_bin("940140000386") == [
        "BIN checksum mismatch: check digit is 6, expected 5"
    ]
    assert validate_bin("94014000038") == ["BIN must be exactly 12 digits"]


def test_an_iin_is_not_a_bin():
    # A person's IIN has a day (not an entity type) in the 5th position.
    assert not is_valid_bin("900101300017")


# --------------------------------------------------------------------------
# Phone
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "+77011234567",
        "+7 701 123 45 67",
        "+7 (701) 123-45-67",
        "8 701 123 45 67",
        "87011234567",
        "8-701-123-45-67",
        "77011234567",
        "  +7 701 123 4567 ",
    ],
)
def test_phone_normalisation(raw):
    assert validate_phone(raw) == []
    assert is_valid_phone(raw)
    assert normalize_phone(raw) == "+77011234567"


def test_phone_landline_and_new_range():
    assert normalize_phone("8 (727) 250-00-00") == "+77272500000"  # Almaty
    assert normalize_phone("+7 600 000 00 00") == "+76000000000"


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "+7701123456",  # 9 digits
        "+770112345678",  # 11 digits
        "+79161234567",  # Russian mobile
        "89161234567",  # Russian mobile, domestic form
        "+998901234567",  # Uzbekistan
        "7011234567",  # no prefix
        "+7 701 123 45 6x",
        "+7 701 123 45 ６７",  # full-width digits
    ],
)
def test_phone_invalid(raw):
    assert validate_phone(raw) != []
    with pytest.raises(ValueError):
        normalize_phone(raw)


# --------------------------------------------------------------------------
# E-mail
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email",
    ["user@example.kz", "first.last+tag@mail.gov.kz", "a@b.co", "info@мысал.қаз"],
)
def test_valid_email(email):
    assert validate_email(email) == []
    assert is_valid_email(email)


@pytest.mark.parametrize(
    "email",
    [
        "",
        "plainaddress",
        "a@@b.kz",
        "a@b@c.kz",
        "@example.kz",
        "user@",
        "user@localhost",
        "user@-bad.kz",
        "user@example.123",
        ".user@example.kz",
        "us..er@example.kz",
        "user.@example.kz",
        "us er@example.kz",
        "user@example.kz ",
        "x" * 65 + "@example.kz",
    ],
)
def test_invalid_email(email):
    assert validate_email(email) != []
    assert not is_valid_email(email)


# --------------------------------------------------------------------------
# Person name
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "Әлия",
        "Нұрсұлтан",
        "Ғабит Мүсірепов",
        "Қаныш-Имантайұлы",
        "Өтеген",
        "Һ",
        "Иван",
        "Ёлкин",
        "O'Connor",
        "D\u2019Artagnan",
        "Abaı Qunanbaıuly",
        "Ñurlan Ötegen",
        "Е\u0308лкин",  # decomposed Ё, normalised to NFC
        "A" * 64,
    ],
)
def test_valid_person_name(name):
    assert validate_person_name(name) == []
    assert is_valid_person_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "",
        "A" * 65,
        " Әлия",
        "Әлия ",
        "Әлия  Ахметова",
        "Әлия--Ахмет",
        "-Әлия",
        "Әлия'",
        "Alice1",
        "Alice_Smith",
        "Alice.Smith",
        "李",
        "Ali\u200bce",
    ],
)
def test_invalid_person_name(name):
    assert validate_person_name(name) != []
    assert not is_valid_person_name(name)


def test_person_name_reports_bad_characters():
    assert validate_person_name("Ali3e") == ["name contains characters not allowed: '3'"]
