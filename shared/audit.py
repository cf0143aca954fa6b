"""The audit log of personal data: every read and change of a booking's personal data by staff, as
who (subject and role), what (action, bookings, the route or screen), and when.

Booking holds the personal data, so booking keeps the log, in its own append-only `audit`
collection: this code only ever inserts, and in production the service's MongoDB user should be
granted insert and find on it, never update or remove (docs/security.md). Other services that show
personal data (a crew's day sheet, the call list) obtain it from booking and name the staff member
they act for, so booking records the read."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from shared import clock
from shared.auth import Staff

ACTIONS = ("read", "search", "change")


def actor(staff: Staff, purpose: str) -> dict:
    """Who is asking and why, as another service passes it along with an RPC."""
    return {"subject": staff.subject, "role": staff.role, "purpose": purpose}


def record(db: Any, who: dict, action: str, booking_ids: list[str], now: dt.datetime | None = None) -> None:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if not booking_ids:
        return
    db.audit.insert_one(
        {
            "_id": str(uuid.uuid4()),
            "at": now or clock.now(),
            "subject": str(who["subject"]),
            "role": str(who["role"]),
            "purpose": str(who.get("purpose", "")),
            "action": action,
            "booking_ids": list(booking_ids),
        }
    )


def view(entry: dict) -> dict:
    return {
        "at": clock.iso(entry["at"]),
        "subject": entry["subject"],
        "role": entry["role"],
        "purpose": entry["purpose"],
        "action": entry["action"],
        "booking_ids": entry["booking_ids"],
    }


INDEXES = [("at", {}), ("booking_ids", {}), ("subject", {})]
