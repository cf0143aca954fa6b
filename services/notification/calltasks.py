"""Call tasks: the day-of phone call (当日連絡) before the car sets off to a resident."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared import clock
from shared.db import is_duplicate_key
from shared.municipality import Municipality

CALL_BEFORE_MINUTES = 30
RESULTS = ("reached", "no_answer", "cancelled_by_resident")


def task_id(visit_id: str, start: dt.datetime) -> str:
    return f"call-{visit_id}-{start:%Y%m%d%H%M}"


def create(db: Any, slot: dict, city: Municipality) -> bool:
    """One task per visit and start; returns False when it already exists."""
    start = slot["start"].astimezone(city.timezone)
    day_start = dt.datetime.combine(start.date(), city.calendar.day_start, tzinfo=city.timezone)
    try:
        db.call_tasks.insert_one(
            {
                "_id": task_id(slot["visit_id"], start),
                "visit_id": slot["visit_id"],
                "booking_id": slot["booking_id"],
                "crew_id": slot["crew_id"],
                "date": start.date().isoformat(),
                "visit_start": start,
                "window_end": slot["window_end"],  # for the day-before notice (reminders.py)
                "venue": slot.get("venue"),
                "call_by": max(day_start, start - dt.timedelta(minutes=CALL_BEFORE_MINUTES)),
                "status": "open",
                "created_at": clock.now(),
            }
        )
        return True
    except Exception as error:
        if is_duplicate_key(error):
            return False
        raise


def cancel(db: Any, visit_id: str, start: dt.datetime) -> None:
    db.call_tasks.update_one(
        {"_id": task_id(visit_id, start), "status": "open"},
        {"$set": {"status": "cancelled", "closed_at": clock.now()}},
    )


def view(task: dict, contact: dict | None, city: Municipality) -> dict:
    def local(moment: dt.datetime) -> str:
        return clock.iso(clock.aware(moment).astimezone(city.timezone))

    return {
        "task_id": task["_id"],
        "visit_id": task["visit_id"],
        "booking_id": task["booking_id"],
        "crew_id": task["crew_id"],
        "date": task["date"],
        "visit_start": local(task["visit_start"]),
        "call_by": local(task["call_by"]),
        "status": task["status"],
        "result": task.get("result"),
        "reference": contact["reference"] if contact else None,
        "name": contact["name"] if contact else None,
        "phone": contact["phone"] if contact else None,
    }
