"""Working-day arithmetic over Kazakh holidays.

Dates are from 2024-2025, whose holidays and Government transfer decrees are
final, so the expectations do not depend on future updates of ``holidays``.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from ca.calendar import WorkingCalendar


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return WorkingCalendar()


# --- is_working_day ---------------------------------------------------------


def test_plain_weekdays_and_weekends(cal):
    assert cal.is_working_day(date(2025, 10, 15))  # Wednesday
    assert not cal.is_working_day(date(2025, 10, 18))  # Saturday
    assert not cal.is_working_day(date(2025, 10, 19))  # Sunday


@pytest.mark.parametrize(
    "day",
    [
        date(2025, 1, 1), date(2025, 1, 2),  # New Year
        date(2025, 1, 7),  # Orthodox Christmas
        date(2025, 3, 21),  # Nauryz (Friday)
        date(2025, 3, 24), date(2025, 3, 25),  # Nauryz 22-23 fell on the weekend
        date(2025, 12, 16),  # Independence Day (Tuesday)
        date(2024, 12, 16),  # Independence Day (Monday)
    ],
)
def test_holidays_are_not_working_days(cal, day):
    assert not cal.is_working_day(day)
    assert cal.holiday_name(day)


def test_independence_day_was_two_days_until_2021(cal):
    assert not cal.is_working_day(date(2019, 12, 17))
    assert cal.is_working_day(date(2025, 12, 17))


def test_transferred_day_off_and_working_sunday(cal):
    # Government decree for 2025: Friday 3 January off, Sunday 5 January worked.
    assert not cal.is_working_day(date(2025, 1, 3))
    assert cal.is_working_day(date(2025, 1, 5))
    assert cal.holiday_name(date(2025, 1, 5)) is None
    # 2024: Wednesday 8 May off, Saturday 4 May worked.
    assert not cal.is_working_day(date(2024, 5, 8))
    assert cal.is_working_day(date(2024, 5, 4))


def test_religious_holiday_on_weekend_is_not_moved(cal):
    # Orthodox Christmas 2024 was a Sunday; Monday 8 January was a working day.
    assert cal.is_working_day(date(2024, 1, 8))


def test_decree_crossing_year_boundary(cal):
    # Friday 3 Jan 2014 off in exchange for Saturday 28 Dec 2013 worked.
    assert cal.is_working_day(date(2013, 12, 28))
    assert not cal.is_working_day(date(2014, 1, 3))


def test_accepts_datetime(cal):
    assert not cal.is_working_day(datetime(2025, 12, 16, 9, 30))
    assert cal.is_working_day(datetime(2025, 12, 17, 23, 59))


# --- add_working_days ---------------------------------------------------------


def test_fifteen_working_days_over_nauryz_2025(cal):
    # Fri 14 Mar; Nauryz 21 (Fri), 22-23 (weekend, moved to Mon 24, Tue 25).
    # Working: 17-20 (4), 26-28 (7), 31 Mar-4 Apr (12), 7-9 Apr (15).
    assert cal.add_working_days(date(2025, 3, 14), 15) == date(2025, 4, 9)


def test_fifteen_working_days_over_nauryz_2024(cal):
    # Nauryz 21-22 (Thu-Fri), 23 (Sat, moved to Mon 25).
    # Working: 26-29 Mar (4), 1-5 Apr (9), 8-12 (14), 15 (15).
    assert cal.add_working_days(date(2024, 3, 20), 15) == date(2024, 4, 15)


def test_fifteen_working_days_over_new_year_2025(cal):
    # Fri 20 Dec 2024. Working: 23-27 Dec (5), 30-31 (7), [1-3 Jan off],
    # Sun 5 Jan (8, worked by decree), 6 (9), [7 Christmas], 8-10 (12), 13-15 (15).
    assert cal.add_working_days(date(2024, 12, 20), 15) == date(2025, 1, 15)


def test_independence_day_skipped(cal):
    assert cal.add_working_days(date(2025, 12, 15), 1) == date(2025, 12, 17)
    # Friday 13 Dec 2024 -> weekend -> Mon 16 Dec holiday -> Tue 17 Dec.
    assert cal.add_working_days(date(2024, 12, 13), 1) == date(2024, 12, 17)


def test_weekends_skipped(cal):
    assert cal.add_working_days(date(2025, 10, 10), 1) == date(2025, 10, 13)  # Fri -> Mon
    assert cal.add_working_days(date(2025, 10, 13), 5) == date(2025, 10, 20)  # Mon -> Mon
    assert cal.add_working_days(date(2025, 10, 6), 10) == date(2025, 10, 20)
    # Republic Day, Saturday 25 Oct 2025, moved the day off to Monday 27 Oct.
    assert cal.add_working_days(date(2025, 10, 13), 10) == date(2025, 10, 28)


def test_submission_on_non_working_day_counts_from_next_working_day(cal):
    # Saturday 11 Oct 2025 is treated as Monday 13 Oct.
    assert cal.add_working_days(date(2025, 10, 11), 0) == date(2025, 10, 13)
    assert cal.add_working_days(date(2025, 10, 11), 1) == date(2025, 10, 14)
    assert cal.add_working_days(date(2025, 10, 12), 1) == date(2025, 10, 14)
    # Submission on Nauryz (Fri 21 Mar 2025) counts from Wed 26 Mar.
    assert cal.add_working_days(date(2025, 3, 21), 1) == date(2025, 3, 27)


def test_zero_days_and_datetime_start(cal):
    assert cal.add_working_days(date(2025, 10, 15), 0) == date(2025, 10, 15)
    assert cal.add_working_days(datetime(2025, 3, 14, 17, 45), 15) == date(2025, 4, 9)


def test_negative_days_rejected(cal):
    with pytest.raises(ValueError):
        cal.add_working_days(date(2025, 10, 15), -1)


def test_rejects_non_dates(cal):
    with pytest.raises(TypeError):
        cal.is_working_day("2025-10-15")


# --- working_days_between -----------------------------------------------------


def test_working_days_between(cal):
    assert cal.working_days_between(date(2025, 3, 14), date(2025, 4, 9)) == 15
    assert cal.working_days_between(date(2024, 12, 20), date(2025, 1, 15)) == 15
    assert cal.working_days_between(date(2025, 10, 15), date(2025, 10, 15)) == 0
    assert cal.working_days_between(date(2025, 10, 17), date(2025, 10, 19)) == 0  # Fri -> Sun
    assert cal.working_days_between(date(2025, 4, 9), date(2025, 3, 14)) == -15


def test_between_inverts_add_for_a_year_of_working_days(cal):
    day = date(2024, 1, 1)
    while day < date(2026, 1, 1):
        if cal.is_working_day(day):
            for n in (1, 5, 15):
                due = cal.add_working_days(day, n)
                assert cal.working_days_between(day, due) == n
                assert cal.is_working_day(due)
        day += timedelta(days=1)


# --- overrides ----------------------------------------------------------------


def test_extra_holidays_and_working_days():
    cal = WorkingCalendar(
        extra_holidays=[date(2025, 10, 15)],
        extra_working_days=[date(2025, 10, 18)],
    )
    assert not cal.is_working_day(date(2025, 10, 15))
    assert cal.holiday_name(date(2025, 10, 15)) == "Additional day off"
    assert cal.is_working_day(date(2025, 10, 18))
    assert cal.add_working_days(date(2025, 10, 14), 4) == date(2025, 10, 20)


def test_override_conflict_rejected():
    with pytest.raises(ValueError):
        WorkingCalendar(extra_holidays=[date(2025, 1, 1)], extra_working_days=[date(2025, 1, 1)])
