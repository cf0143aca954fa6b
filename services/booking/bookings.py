"""Accepting and cancelling bookings: the state change and its event in one document write."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.booking import links
from services.booking.references import REFERENCES
from shared import clock, eligibility, events, outbox, sealing
from shared.household import household_json, needs_guardian


def _event(event_type: events.EventType, payload: dict, booking_id: str, municipality_code: str) -> dict:
    return outbox.event_entry(event_type, payload, correlation_id=booking_id, municipality_code=municipality_code)


def new_id() -> str:
    return str(uuid.uuid4())


def create(
    db: Any,
    household: dict,
    channel: str,
    municipality_code: str,
    referral_id: str | None = None,
    session_id: str | None = None,
    booking_id: str | None = None,
) -> dict:
    """Stores a new booking with its request_received event. Returns the stored document.
    `session_id`: a hall session whose seat the household already holds (seats.py), under
    `booking_id`."""
    now = clock.now()
    booking_id = booking_id or new_id()
    answers = eligibility.stored(household.get("eligibility"))
    personal = sealed_household(booking_id, household_json({k: v for k, v in household.items() if k != "eligibility"}))
    personal["facts"]["eligibility"] = answers

    def build(reference: str) -> dict:
        payload = {
            "booking_id": booking_id,
            "reference": reference,
            "channel": channel,
            "referral_id": referral_id,
            "district": household["address"]["district"],
            "venue": household.get("venue"),
            "household_size": len(household["applicants"]),
            "preferred": household["preferred"],
            "has_needs": bool(household["needs"]),
            "contact_by": "email" if household["email"] else "phone",
            "eligibility": answers,
            "session_id": session_id,
        }
        doc = {
            "_id": booking_id,
            "reference": reference,
            "status": "received",
            "channel": channel,
            **personal,
            "municipality_code": municipality_code,
            "created_at": now,
            "updated_at": now,
            "outbox": [_event(events.REQUEST_RECEIVED, payload, booking_id, municipality_code)],
        }
        if referral_id:
            doc["referral_id"] = referral_id
        if session_id:
            doc["session_id"] = session_id
        return doc

    def is_repeat() -> bool:  # the same referral delivered again, not a reference taken meanwhile
        return bool(referral_id) and db.bookings.find_one({"referral_id": referral_id}, {"_id": 1}) is not None

    return REFERENCES.insert(db, now.date(), build, is_repeat)


def received_message(reference: str, session: dict | None) -> dict:
    """What the booker is told: staff will call to arrange the date, or the hall session's date."""
    received = {"ja": f"お申し込みを受け付けました。受付番号は {reference} です。", "en": f"Reference {reference}. "}
    if session is None:
        return {
            "ja": received["ja"] + "日時の調整のため、担当者からご連絡します。",
            "en": "Your request is received. "
            + received["en"]
            + "Staff will contact you to arrange the date and time.",
        }
    start, end = (dt.datetime.fromisoformat(session[k]) for k in ("start", "end"))
    return {
        "ja": received["ja"]
        + f"{start.month}月{start.day}日 {start:%H:%M}〜{end:%H:%M}に{session['venue_name']}へお越しください。",
        "en": "Your sign-up is received. " + received["en"] + f"Please come to {session['venue']} on "
        f"{start:%Y-%m-%d} between {start:%H:%M} and {end:%H:%M}.",
    }


def cancel(db: Any, booking_id: str, reason: str, detail: str | None = None) -> tuple[dict | None, bool]:
    """Cancels a booking once. Returns the booking as it is now (None if unknown) and whether
    this call cancelled it. `detail`: the resident's own reason code, kept with the booking."""
    booking = db.bookings.find_one({"_id": booking_id}, {"outbox": 0})
    if booking is None or booking["status"] == "cancelled":
        return booking, False
    now = clock.now()
    entry = _event(
        events.REQUEST_CANCELLED,
        {"booking_id": booking_id, "reason": reason},
        booking_id,
        booking["municipality_code"],
    )
    result = db.bookings.update_one(
        {"_id": booking_id, "status": {"$ne": "cancelled"}},
        {
            "$set": {
                "status": "cancelled",
                "cancel_reason": reason,
                "cancel_detail": detail,
                "cancelled_at": now,
                "updated_at": now,
            },
            "$push": {"outbox": entry},
        },
    )
    return db.bookings.find_one({"_id": booking_id}, {"outbox": 0}), result.modified_count == 1


def note_slot(db: Any, payload: dict, fixed_at: dt.datetime) -> None:
    """Keeps the visit's window with the booking (from scheduling.slot_fixed), so the resident's
    own page shows it without asking scheduling. A late redelivery of an older slot changes nothing."""
    visit = {
        "visit_id": payload["visit_id"],
        "start": payload["start"],
        "window_start": payload["window_start"],
        "window_end": payload["window_end"],
        "venue": payload.get("venue"),
        "fixed_at": fixed_at,
    }
    db.bookings.update_one(
        {"_id": payload["booking_id"], "$or": [{"visit": None}, {"visit.fixed_at": {"$lte": fixed_at}}]},
        {"$set": {"visit": visit}},
    )


def forget_slot(db: Any, payload: dict) -> None:
    """The slot is released (postponed, absent, moved): the window goes unless a newer one replaced it."""
    db.bookings.update_one({"_id": payload["booking_id"], "visit.start": payload["start"]}, {"$set": {"visit": None}})


def mark_visited(db: Any, booking_id: str, at: dt.datetime) -> None:
    """The visit is done: the retention period starts (once; a redelivery changes nothing)."""
    db.bookings.update_one({"_id": booking_id, "visited_at": None}, {"$set": {"visited_at": at}})


def erase_expired(db: Any, cutoff: dt.datetime, now: dt.datetime) -> int:
    """Erases the personal data of bookings visited or cancelled before `cutoff`, keeping the
    anonymous facts (district, household size, channel, dates) for the reports. Returns how many."""
    result = db.bookings.update_many(
        {
            "personal": {"$ne": None},
            "$or": [{"visited_at": {"$lt": cutoff}}, {"cancelled_at": {"$lt": cutoff}}],
        },
        {"$set": {"personal": None, "erased_at": now}, "$unset": {"phone_hash": "", "visit_notes": ""}},
    )
    return result.modified_count


def keep_visit_note(db: Any, booking_id: str, visit_id: str, result_id: str, note: str) -> str:
    """Keeps the crew's note of a visit with the household, sealed like it and erased with it.
    Returns "kept", "already" (this result's note is here: the tablet sent it again), or "gone"
    (no such booking, or its personal data erased)."""
    if db.bookings.find_one({"_id": booking_id, "personal": {"$ne": None}}, {"_id": 1}) is None:
        return "gone"
    entry = {
        "visit_id": visit_id,
        "result_id": result_id,
        "at": clock.now(),
        "sealed": sealing.keyring().seal({"note": note}, booking_id),
    }
    kept = db.bookings.update_one(
        {"_id": booking_id, "personal": {"$ne": None}, "visit_notes.result_id": {"$ne": result_id}},
        {"$push": {"visit_notes": entry}},
    )
    return "kept" if kept.modified_count else "already"


def visit_notes(booking: dict) -> list[dict]:
    """The crew's notes of earlier visits, oldest first, opened. A note that does not open (its key
    rotated away before re-sealing) is left out rather than failing the whole booking."""
    ring = sealing.keyring()
    opened = []
    for note in booking.get("visit_notes") or []:
        try:
            text = ring.open(note["sealed"], booking["_id"])["note"]
        except sealing.SealError:
            continue
        opened.append({"visit_id": note["visit_id"], "at": clock.iso(note["at"]), "note": text})
    return opened


def sealed_household(booking_id: str, household: dict) -> dict:
    """The document fields for a household: what reports need in clear, the rest sealed, and the
    keyed hash of the phone number for finding a household's bookings."""
    ring = sealing.keyring()
    return {
        "facts": {
            "district": household["address"]["district"],
            "venue": household.get("venue"),
            "household_size": len(household["applicants"]),
        },
        "personal": ring.seal(household, booking_id),
        "phone_hash": ring.lookup_hash(household["phone"]),
    }


def household_of(booking: dict) -> dict | None:
    """The household's personal data, opened; None once erased (retention)."""
    if not booking.get("personal"):
        return None
    return sealing.keyring().open(booking["personal"], booking["_id"])


def public_view(booking: dict) -> dict:
    """The booking as the API shows it."""
    return {
        "booking_id": booking["_id"],
        "reference": booking["reference"],
        "status": booking["status"],
        "channel": booking["channel"],
        "referral_id": booking.get("referral_id"),
        "session_id": booking.get("session_id"),
        "household": household_of(booking),
        "created_at": clock.iso(booking["created_at"]),
        "cancelled_at": clock.iso(booking["cancelled_at"]) if booking.get("cancelled_at") else None,
        "cancel_reason": booking.get("cancel_reason"),
        "cancel_detail": booking.get("cancel_detail"),
        "link_code": links.phone_code(booking["_id"]),
        "eligibility": (booking.get("facts") or {}).get("eligibility"),
        "window": window_of(booking),
        "visit_notes": visit_notes(booking),
        "erased_at": clock.iso(booking["erased_at"]) if booking.get("erased_at") else None,
    }


def window_of(booking: dict) -> dict | None:
    visit = booking.get("visit")
    if not visit:
        return None
    return {
        "window_start": clock.iso(visit["window_start"]),
        "window_end": clock.iso(visit["window_end"]),
        "venue": visit.get("venue"),
    }


def resident_view(booking: dict) -> dict | None:
    """What the resident's own page shows: no more personal data than the first applicant's given
    name and the district. None once erased."""
    household = household_of(booking)
    if household is None:
        return None
    return {
        "reference": booking["reference"],
        "status": "visited" if booking.get("visited_at") else booking["status"],
        "given_name": household["applicants"][0]["given_name"],
        "district": booking["facts"]["district"],
        "household_size": booking["facts"]["household_size"],
        "has_child": has_child(household),
        "window": window_of(booking) if booking["status"] != "cancelled" else None,
        "created_at": clock.iso(booking["created_at"]),
        "cancelled_at": clock.iso(booking["cancelled_at"]) if booking.get("cancelled_at") else None,
        "code": links.phone_code(booking["_id"]),  # to write down beside the reference, for the phone
    }


def visit_details(booking: dict) -> dict | None:
    """What the crew needs at the door, on top of the contact: the address, what to allow for, and
    who applies (names and birth dates: an applicant under 15 needs a guardian present). Only for
    the crew's day sheet; None once the personal data is erased."""
    household = household_of(booking)
    if household is None:
        return None
    address = household["address"]
    return {
        **_reach(booking, household),
        "address": {"postal_code": address["postal_code"], "district": address["district"], "line": address["line"]},
        "needs": household.get("needs") or "",
        "visit_notes": [n["note"] for n in visit_notes(booking)],  # what the last crew noted for the next
        "applicants": [
            {
                "name": f"{a['family_name']} {a['given_name']}",
                "name_kana": f"{a['family_name_kana']} {a['given_name_kana']}",
                "birth_date": a["birth_date"],
            }
            for a in household["applicants"]
        ],
    }


def has_child(household: dict) -> bool:
    """An applicant needs a guardian present (the 持ち物 list then has the child items)."""
    return needs_guardian([dt.date.fromisoformat(a["birth_date"]) for a in household["applicants"]])


def message_contact(booking: dict) -> dict | None:
    """What notification needs for a message: the contact, the resident's own link (every message
    carries it, links.py) and whether the 持ち物 list has the child items; None once erased. The
    household is opened once."""
    household = household_of(booking)
    if household is None:
        return None
    return {
        **_reach(booking, household),
        "link": {"token": links.token_for(booking["_id"]), "code": links.phone_code(booking["_id"])},
        "has_child": has_child(household),
    }


def contact(booking: dict) -> dict | None:
    """What notification and the crew's call list need to reach the household, and no more; None
    once the personal data is erased."""
    household = household_of(booking)
    return _reach(booking, household) if household is not None else None


def _reach(booking: dict, household: dict) -> dict:
    first = household["applicants"][0]
    return {
        "booking_id": booking["_id"],
        "reference": booking["reference"],
        "status": booking["status"],
        "name": f"{first['family_name']} {first['given_name']}",
        "name_kana": f"{first['family_name_kana']} {first['given_name_kana']}",
        "phone": household["phone"],
        "email": household["email"],
        "district": booking["facts"]["district"],
        "household_size": booking["facts"]["household_size"],
    }
