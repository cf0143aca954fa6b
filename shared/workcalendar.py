"""Working days: not a weekend, a Japanese public holiday, the New Year closure or a closed day."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import jpholiday

from shared.municipality import Calendar


def in_closure(day: dt.date, calendar: Calendar) -> bool:
    md = (day.month, day.day)
    start, end = calendar.closure_start, calendar.closure_end
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end  # the closure wraps over New Year


def is_working_day(day: dt.date, calendar: Calendar) -> bool:
    return not (
        day.weekday() >= 5
        or jpholiday.is_holiday(day)
        or in_closure(day, calendar)
        or day in calendar.extra_closed_days
    )


def working_days(first: dt.date, count: int, calendar: Calendar) -> Iterator[dt.date]:
    """The next `count` working days from `first` (inclusive)."""
    day, found = first, 0
    while found < count:
        if is_working_day(day, calendar):
            found += 1
            yield day
        day += dt.timedelta(days=1)


def previous_working_day(day: dt.date, calendar: Calendar) -> dt.date:
    """The last working day before `day`."""
    day -= dt.timedelta(days=1)
    while not is_working_day(day, calendar):
        day -= dt.timedelta(days=1)
    return day


def working_days_between(since: dt.date, until: dt.date, calendar: Calendar) -> int:
    """Working days after `since` up to and including `until` (0 when `until` is not later)."""
    count, day = 0, since + dt.timedelta(days=1)
    while day <= until:
        count += is_working_day(day, calendar)
        day += dt.timedelta(days=1)
    return count


# --- fiscal years (年度): April to March, as city reports and targets run -----------------------

FISCAL_YEAR_FIRST_MONTH = 4


def fiscal_year(day: dt.date) -> int:
    """The 年度 a day belongs to, named by the year it starts in (2026年度: April 2026 to March 2027)."""
    return day.year if day.month >= FISCAL_YEAR_FIRST_MONTH else day.year - 1


def fiscal_months(year: int) -> list[dt.date]:
    """The first day of each month of a 年度, April to March."""
    return [add_months(dt.date(year, FISCAL_YEAR_FIRST_MONTH, 1), n) for n in range(12)]


def add_months(month: dt.date, count: int) -> dt.date:
    """The first day of the month `count` months after `month`'s."""
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)
