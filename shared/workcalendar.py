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
