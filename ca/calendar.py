"""Kazakhstan working-day calendar for statutory deadlines.

Built on the ``holidays`` package (``holidays.country_holidays("KZ")``), which
models, for Kazakhstan:

* public holidays (New Year 1-2 Jan, Orthodox Christmas, 8 March, Nauryz
  21-23 March, 1 May, 7 May, 9 May, Capital Day, Constitution Day, Republic
  Day, Independence Day 16 December, Kurban Ait);
* the Labour Code rule that a holiday falling on a weekend moves the day off
  to the next working day ("observed" days, e.g. Nauryz on a Saturday);
* days off transferred by Government decree, and the weekend days that become
  working days in exchange (``weekend_workdays``, e.g. Sunday 5 January 2025
  was worked for Friday 3 January). The package only knows decrees already
  published; ``extra_holidays`` / ``extra_working_days`` cover newer ones.

Clock-agnostic: every method takes the dates to use; nothing reads "today".
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from datetime import date, datetime, timedelta

import holidays

__all__ = ["WorkingCalendar"]


def _as_date(value: date | datetime) -> date:
    # datetime is a subclass of date: take the calendar date as given. Callers
    # holding UTC timestamps convert to Kazakhstan local time first.
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raise TypeError(f"expected date or datetime, got {type(value).__name__}")


class WorkingCalendar:
    """Working days in Kazakhstan (Monday-Friday minus holidays, plus working weekends).

    Deadline rule used by :meth:`add_working_days`: the day of submission is
    day 0 and is not counted; the due date is the ``n``-th working day after
    it. A submission made on a non-working day is treated as made on the next
    working day (as with applications received on days off under the public
    services rules), and counting starts after that day.
    """

    def __init__(
        self,
        *,
        country: str = "KZ",
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        self.country = country
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_working_days = frozenset(extra_working_days)
        overlap = self._extra_holidays & self._extra_working_days
        if overlap:
            raise ValueError(f"dates both holiday and working day: {sorted(overlap)}")
        # year -> (holiday names by date in that year, weekend days worked in that year)
        self._years: dict[int, tuple[dict[date, str], frozenset[date]]] = {}
        self._lock = threading.Lock()

    # -- data --------------------------------------------------------------

    def _year(self, year: int) -> tuple[dict[date, str], frozenset[date]]:
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                # A decree may move a day off into the next year (e.g. Friday
                # 3 Jan 2014 off for Saturday 28 Dec 2013 worked), so load y+1.
                source = holidays.country_holidays(self.country, years=[year, year + 1])
                days_off = {d: name for d, name in source.items() if d.year == year}
                worked = frozenset(d for d in source.weekend_workdays if d.year == year)
                cached = (days_off, worked)
                self._years[year] = cached
        return cached

    def holiday_name(self, day: date | datetime) -> str | None:
        """Name of the holiday on ``day`` (None if not a holiday)."""
        d = _as_date(day)
        if d in self._extra_holidays:
            return "Additional day off"
        if d in self._extra_working_days:
            return None
        return self._year(d.year)[0].get(d)

    # -- queries -----------------------------------------------------------

    def is_working_day(self, day: date | datetime) -> bool:
        d = _as_date(day)
        if d in self._extra_working_days:
            return True
        if d in self._extra_holidays:
            return False
        days_off, worked = self._year(d.year)
        if d.weekday() >= 5:
            return d in worked
        return d not in days_off

    def next_working_day(self, day: date | datetime) -> date:
        """``day`` itself when it is a working day, else the next working day."""
        d = _as_date(day)
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def add_working_days(self, start: date | datetime, n: int) -> date:
        """Due date ``n`` working days after a submission on ``start``.

        ``n == 0`` gives the (effective) submission day itself.
        """
        if n < 0:
            raise ValueError("n must be >= 0")
        d = self.next_working_day(start)
        remaining = n
        while remaining:
            d += timedelta(days=1)
            if self.is_working_day(d):
                remaining -= 1
        return d

    def working_days_between(self, a: date | datetime, b: date | datetime) -> int:
        """Working days ``d`` with ``a < d <= b``; negative when ``b < a``.

        For a submission on a working day ``s``:
        ``working_days_between(s, add_working_days(s, n)) == n``.
        """
        start, end = _as_date(a), _as_date(b)
        if end < start:
            return -self.working_days_between(end, start)
        count = 0
        d = start + timedelta(days=1)
        while d <= end:
            if self.is_working_day(d):
                count += 1
            d += timedelta(days=1)
        return count
