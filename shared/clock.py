"""Time in the municipality's zone. One place, so tests can reason about 'today'."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def now() -> dt.datetime:
    return dt.datetime.now(JST)


def today() -> dt.date:
    return now().date()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(JST).isoformat(timespec="seconds")
