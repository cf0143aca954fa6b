"""Time in the municipality's zone (its configuration's `timezone`). One place, so tests can
reason about 'today'."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

# Japan's zone, every Japanese municipality's; the clock itself follows the configured one.
JST = ZoneInfo("Asia/Tokyo")


def zone() -> Any:
    from shared import municipality  # municipality reads settings only; imported late to stay light

    return municipality.load().timezone


def now() -> dt.datetime:
    return dt.datetime.now(zone())


def today() -> dt.date:
    return now().date()


def iso(moment: dt.datetime) -> str:
    return moment.astimezone(zone()).isoformat(timespec="seconds")


def local_day_range(first: dt.date | None, last: dt.date | None) -> dict[str, dt.datetime]:
    """A MongoDB range over whole local days, first to last inclusive (either may be open)."""
    bounds: dict[str, dt.datetime] = {}
    if first is not None:
        bounds["$gte"] = dt.datetime.combine(first, dt.time(), zone())
    if last is not None:
        bounds["$lt"] = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), zone())
    return bounds


def aware(moment: dt.datetime) -> dt.datetime:
    """A datetime read back from MongoDB, which stores UTC and returns it without a zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
