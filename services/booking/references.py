"""Booking references that reception can read out on the phone: the date and a daily number."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument


def next_reference(db: Any, day: dt.date) -> str:
    counter = db.counters.find_one_and_update(
        {"_id": f"reference-{day.isoformat()}"},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    return f"{day:%y%m%d}-{counter['seq']:03d}"
