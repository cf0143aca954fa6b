"""A channel's short referral (a community-hall chair knew only the neighbour's name, phone number
and district) waits here until reception has phoned the neighbour and typed in the household; the
booking then carries the referral's id and channel, so the channel follows it as any other.

Kept sealed like a booking's household (bound to the referral id), with the phone's keyed hash so
that reception's phone search finds a neighbour who calls in first."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError

from shared import clock, events, municipality, outbox, sealing
from shared.http import screen_and_load
from shared.referrals import ShortReferral

INDEXES = [("status", {}), ("phone_hash", {})]
TO_COMPLETE, COMPLETING, COMPLETED, CLOSED = "to_complete", "completing", "completed", "closed"


class InvalidShortReferral(Exception):
    pass


def receive(db: Any, referral: dict, opened: dict) -> bool:
    """Keeps the referral until reception completes it; False when it was already here (a redelivery)."""
    try:
        short = screen_and_load(ShortReferral, opened)
    except ValidationError as error:
        raise InvalidShortReferral(f"bad fields {sorted(error.messages)}") from None
    referral_id = referral["referral_id"]
    found = db.short_referrals.update_one(
        {"_id": referral_id},
        {
            "$setOnInsert": {
                "channel": referral["channel"],
                "referrer_id": referral["referrer_id"],
                "district": short["district"],
                "phone_hash": sealing.keyring().lookup_hash(short["phone"]),
                "sealed": sealing.keyring().seal(short, referral_id),
                "status": TO_COMPLETE,
                "received_at": clock.now(),
            }
        },
        upsert=True,
    )
    return found.upserted_id is not None


def view(document: dict) -> dict:
    opened = sealing.keyring().open(document["sealed"], document["_id"])
    return {
        "referral_id": document["_id"],
        "channel": document["channel"],
        "referrer_id": document["referrer_id"],
        "status": document["status"],
        "received_at": clock.iso(clock.aware(document["received_at"])),
        "name": opened["name"],
        "phone": opened["phone"],
        "district": opened["district"],
        "memo": opened["memo"],
        "community_hall": opened["community_hall"],
        "session_id": opened.get("session_id"),
        "booking_id": document.get("booking_id"),
    }


def waiting(db: Any) -> list[dict]:
    """Those reception has still to phone, the longest waiting first."""
    return list(db.short_referrals.find({"status": TO_COMPLETE}).sort("received_at", 1))


def waiting_for_phone(db: Any, phone_hash: str) -> list[dict]:
    return list(db.short_referrals.find({"status": TO_COMPLETE, "phone_hash": phone_hash}).sort("received_at", 1))


def to_complete(db: Any, referral_id: str) -> dict | None:
    return db.short_referrals.find_one({"_id": referral_id, "status": TO_COMPLETE})


def claim(db: Any, referral_id: str) -> dict | None:
    """Takes a waiting referral for completing, atomically: a second receptionist completing or
    closing the same one at the same moment finds it taken."""
    return db.short_referrals.find_one_and_update(
        {"_id": referral_id, "status": TO_COMPLETE}, {"$set": {"status": COMPLETING, "claimed_at": clock.now()}}
    )


def release(db: Any, referral_id: str) -> None:
    """The booking was not stored after all: the referral waits again."""
    db.short_referrals.update_one({"_id": referral_id, "status": COMPLETING}, {"$set": {"status": TO_COMPLETE}})


def complete(db: Any, referral_id: str, booking_id: str) -> None:
    """Done: the booking holds the household now, so the referral's own copy goes at once."""
    db.short_referrals.update_one(
        {"_id": referral_id, "status": COMPLETING},
        {
            "$set": {"status": COMPLETED, "booking_id": booking_id, "completed_at": clock.now()},
            "$unset": {"sealed": "", "phone_hash": ""},
        },
    )


def erase_closed(db: Any, cutoff: Any) -> int:
    """Retention: a referral closed without a booking keeps its name, phone and memo until `cutoff`."""
    erased = db.short_referrals.update_many(
        {"status": CLOSED, "closed_at": {"$lt": cutoff}, "sealed": {"$exists": True}},
        {"$unset": {"sealed": "", "phone_hash": ""}, "$set": {"erased_at": clock.now()}},
    )
    return erased.modified_count


def close(db: Any, referral_id: str, reason: str) -> dict | None:
    """Closes a waiting referral without a booking, with the event that tells its channel; None when
    no referral with this id waits (completed, closed, or unknown)."""
    waiting = to_complete(db, referral_id)
    if waiting is None:
        return None
    entry = outbox.event_entry(
        events.REFERRAL_CLOSED,
        {"referral_id": referral_id, "channel": waiting["channel"], "reason": reason},
        correlation_id=referral_id,
        municipality_code=municipality.load().code,
    )
    closed = db.short_referrals.find_one_and_update(
        {"_id": referral_id, "status": TO_COMPLETE},
        {
            "$set": {"status": CLOSED, "reason": reason, "closed_at": clock.now()},
            "$push": {"outbox": entry},
        },
    )
    return closed and {**closed, "status": CLOSED, "outbox": [entry]}
