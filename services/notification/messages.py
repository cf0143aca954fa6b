"""Messages to residents: one per kind and occasion, so the same event never sends twice.

A message is claimed (stored as pending) before it is sent and marked sent after. A crash between
the two leaves it pending and it is sent again on retry: at-least-once, with the Message-ID kept
stable so the duplicate window is one SMTP transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pymongo import ReturnDocument

from shared import clock, events, outbox
from shared.db import is_duplicate_key

DEFAULT_RETRY_DELAYS = (10, 30, 60, 120, 300, 600)  # seconds; then it stays failed for staff to see
RECOVERY_SECONDS = 30  # a message still pending this long after its claim was left by a crash


def message_id(kind: str, booking_id: str, occasion: str = "") -> str:
    return f"{kind}-{booking_id}" + (f"-{occasion}" if occasion else "")


def claim(db: Any, mid: str, kind: str, booking_id: str, municipality_code: str, details: dict) -> dict | None:
    """The message to send now, or None when it already exists: sent, or being sent by another
    worker (a duplicate event handled at the same moment), or left pending by a crash, which the
    retry timer takes up once `next_attempt_at` has passed."""
    doc = {
        "_id": mid,
        "kind": kind,
        "booking_id": booking_id,
        "municipality_code": municipality_code,
        "status": "pending",
        "attempts": 0,
        "details": details,
        "created_at": clock.now(),
        "next_attempt_at": clock.now() + dt.timedelta(seconds=RECOVERY_SECONDS),
    }
    try:
        db.messages.insert_one(doc)
        return doc
    except Exception as error:
        if not is_duplicate_key(error):
            raise
    return None


def _event(event_type: events.EventType, message: dict, payload: dict) -> dict:
    return outbox.event_entry(
        event_type,
        {"message_id": message["_id"], "booking_id": message["booking_id"], "kind": message["kind"], **payload},
        correlation_id=message["booking_id"],
        municipality_code=message["municipality_code"],
    )


def finish(db: Any, message: dict, status: str, channel: str) -> list[dict]:
    """Records the outcome with its event; returns the outbox entries written (for the relay)."""
    entry = _event(events.NOTIFICATION_SENT, message, {"channel": channel})
    db.messages.update_one(
        {"_id": message["_id"]},
        {
            "$set": {"status": status, "channel": channel, "finished_at": clock.now()},
            "$inc": {"attempts": 1},
            "$push": {"outbox": entry},
        },
    )
    return [entry]


def fail(db: Any, message: dict, reason: str, delays: tuple[int, ...] = DEFAULT_RETRY_DELAYS) -> bool:
    """Records a failed attempt; returns True when another attempt is scheduled."""
    attempts = message.get("attempts", 0) + 1
    retry = attempts <= len(delays)
    update: dict[str, Any] = {
        "$set": {
            "status": "retrying" if retry else "failed",
            "last_error": reason,
            "attempts": attempts,
            "next_attempt_at": clock.now() + dt.timedelta(seconds=delays[attempts - 1]) if retry else None,
        }
    }
    if not retry:
        update["$push"] = {
            "outbox": _event(events.NOTIFICATION_FAILED, message, {"channel": "email", "reason": reason})
        }
    db.messages.update_one({"_id": message["_id"]}, update)
    return retry


def lease_due(db: Any) -> dict | None:
    """Takes one message whose next attempt is due, moving its next attempt on so that no other
    worker or replica takes it at the same time."""
    now = clock.now()
    return db.messages.find_one_and_update(
        {"status": {"$in": ["retrying", "pending"]}, "next_attempt_at": {"$lte": now}},
        {"$set": {"next_attempt_at": now + dt.timedelta(seconds=RECOVERY_SECONDS)}},
        projection={"outbox": 0},
        return_document=ReturnDocument.AFTER,
    )


PHONEABLE = ("to_call", "failed")  # messages staff phone the resident about (or post a letter)


def record_phoned(db: Any, message_id: str, result: str, subject: str) -> dict | None:
    """Staff phoned the resident about a message e-mail could not carry. Told or a letter posted:
    the message is done ("phoned"); no answer: it stays on the list, the attempt counted."""
    attempt = {"result": result, "at": clock.now(), "by": subject}
    update: dict[str, Any] = {"$push": {"phone_attempts": attempt}}
    if result != "no_answer":
        update["$set"] = {"status": "phoned", "finished_at": clock.now()}
    db.messages.update_one({"_id": message_id, "status": {"$in": list(PHONEABLE)}}, update)
    return db.messages.find_one({"_id": message_id}, {"outbox": 0})


def view(message: dict) -> dict:
    return {
        "message_id": message["_id"],
        "booking_id": message["booking_id"],
        "kind": message["kind"],
        "status": message["status"],
        "channel": message.get("channel"),
        "attempts": message.get("attempts", 0),
        "created_at": clock.iso(message["created_at"]),
        "finished_at": clock.iso(message["finished_at"]) if message.get("finished_at") else None,
        # What the message says, for staff who phone instead (dates and codes, no personal data).
        "details": message.get("details") or {},
        "phone_attempts": [
            {"result": a["result"], "at": clock.iso(a["at"])} for a in message.get("phone_attempts", [])
        ],
    }
