"""Booking references that reception can read out on the phone: the date and a daily number.

The numbers run in order, without gaps, and cost no database round trip of their own: each process
remembers the last number of the day and stores the booking with the next one. The unique index on
`reference` refuses a number another replica took first; the process then reads the day's highest
number and tries the one after it. (A counter document took a second round trip per booking, a
fifth of the intake's time.) A write that fails for another reason can leave a gap.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from shared.db import is_duplicate_key
from shared.http import TemporarilyUnavailable

MAX_ATTEMPTS = 20
INDEXES = [
    ("reference", {"unique": True}),
    ([("reference_day", 1), ("reference_seq", -1)], {}),
]


def format_reference(day: dt.date, number: int) -> str:
    return f"{day:%y%m%d}-{number:03d}"


def highest(db: Any, day: dt.date) -> int:
    """The day's highest number in use: in stored bookings, or in the counter document where
    numbers were kept before (bookings stored that day before the upgrade)."""
    latest = db.bookings.find_one(
        {"reference_day": day.isoformat()}, {"reference_seq": 1}, sort=[("reference_seq", -1)]
    )
    counter = db.counters.find_one({"_id": f"reference-{day.isoformat()}"})
    return max(latest["reference_seq"] if latest else 0, counter["seq"] if counter else 0)


class References:
    """The last number handed out, per database and day, in this process."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, dt.date], int] = {}

    def insert(
        self, db: Any, day: dt.date, build: Callable[[str], dict], is_repeat: Callable[[], bool] = lambda: False
    ) -> dict:
        """Stores `build(reference)` in `bookings` under the day's next reference and returns it.
        `is_repeat` tells a duplicate of something else (the same referral again), which is raised,
        from a number taken by another replica, which is tried again."""
        key = (db.name, day)
        if key not in self._last:
            self._last = {known: number for known, number in self._last.items() if known[1] >= day}
            self._catch_up(db, key)
        for _ in range(MAX_ATTEMPTS):
            number = self._last[key] = self._last[key] + 1
            document = {
                **build(format_reference(day, number)),
                "reference_day": day.isoformat(),
                "reference_seq": number,
            }
            try:
                db.bookings.insert_one(document)
                return document
            except Exception as error:
                if not is_duplicate_key(error) or is_repeat():
                    raise
                self._catch_up(db, key)
        raise TemporarilyUnavailable(f"no free booking reference after {MAX_ATTEMPTS} attempts")

    def _catch_up(self, db: Any, key: tuple[str, dt.date]) -> None:
        """Moves on to the highest number in use; never back (a twin request may have gone on)."""
        found = highest(db, key[1])
        self._last[key] = max(self._last.get(key, 0), found)


REFERENCES = References()
