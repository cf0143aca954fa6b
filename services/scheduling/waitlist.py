"""The waiting list (キャンセル待ち): a window freed by a cancellation, an absence or a postponement
is offered to the households still waiting whose visit fits it, longest-waiting first.

Each offer is a document (`offers`) and a `scheduling.slot_offered` event, which notification turns
into an e-mail with the resident's private link or a call for reception. The first to accept gets
the window (fixed through slots.fix, under the crew-day lease like any other fix); the other offers
for it close, and a late acceptance hears that it is gone. A fit respects the crew's day as it
stands (drive, hours, lunch, other promises) and the household's wishes: a household that asked for
particular days is offered only those."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from services.scheduling import planning, visits
from services.scheduling.travel import default_model
from shared import clock, events, outbox
from shared.municipality import Municipality

# Released for these reasons, the window is free for someone else (a window freed on the day itself,
# by an absence or a postponement at the door, is already past and offered to nobody).
FREEING_REASONS = ("cancelled", "rescheduled", "postponed", "absent")
OFFERS_PER_WINDOW = 3
CANDIDATES_LOOKED_AT = 200  # the longest-waiting visits considered per freed window
INDEXES = [([("booking_id", 1), ("status", 1)], {}), ("freed_id", {})]


def freed_id(payload: dict) -> str:
    """One id per freed window, so a redelivered slot_released offers nothing twice."""
    return f"{payload['visit_id']}-{payload['start']:%Y%m%d%H%M}"


def candidates(db: Any, crew_id: str, start: dt.datetime, city: Municipality) -> list[dict]:
    """Waiting visits that fit the freed window as the crew's day now stands, longest-waiting first."""
    day = start.date()
    stops = visits.day_stops(db, crew_id, day, city)
    travel = default_model(city)
    fitting = []
    waiting = db.visits.find({"status": "unscheduled"}, {"outbox": 0}).sort("requested_at", 1)
    for visit in waiting.limit(CANDIDATES_LOOKED_AT):
        wishes = [{"date": dt.date.fromisoformat(p["date"]), "period": p["period"]} for p in visit["preferred"]]
        if wishes and planning.preference_rank(wishes, day, "am" if start.hour < 12 else "pm") is None:
            continue
        if planning.fit(stops, visits.place_of(visit, city), start, visit["duration_minutes"], city, travel):
            fitting.append(visit)
            if len(fitting) == OFFERS_PER_WINDOW:
                break
    return fitting


def offer_freed(db: Any, payload: dict, city: Municipality) -> list[dict]:
    """Offers a freed window (a slot_released payload) to the waiting visits that fit it. Returns
    the offers made, each stored with its slot_offered event in the outbox."""
    if payload["reason"] not in FREEING_REASONS:
        return []
    start = visits.as_local(payload["start"], city)
    if start <= clock.now() or db.offers.find_one({"freed_id": freed_id(payload)}, {"_id": 1}):
        return []
    window_end = start + dt.timedelta(minutes=city.visits.window_minutes)
    # Open until the evening before, so a crew's day sheet is settled when it leaves.
    expires_at = dt.datetime.combine(start.date() - dt.timedelta(days=1), dt.time(20, 0), city.timezone)
    made = []
    for visit in candidates(db, payload["crew_id"], start, city):
        offer = {
            "offer_id": str(uuid.uuid4()),
            "visit_id": visit["_id"],
            "booking_id": visit["booking_id"],
            "crew_id": payload["crew_id"],
            "start": start,
            "window_end": window_end,
            "expires_at": max(expires_at, clock.now() + dt.timedelta(hours=1)),
            "venue": visit.get("venue"),
        }
        entry = outbox.event_entry(
            events.SLOT_OFFERED,
            offer,
            correlation_id=visit["booking_id"],
            municipality_code=visit["municipality_code"],
        )
        stored = {
            "_id": offer.pop("offer_id"),
            **offer,
            "freed_id": freed_id(payload),
            "status": "open",
            "created_at": clock.now(),
            "outbox": [entry],
        }
        db.offers.insert_one(stored)
        made.append(stored)
    return made


def open_offers(db: Any, booking_id: str) -> list[dict]:
    now = clock.now()
    found = db.offers.find({"booking_id": booking_id, "status": "open"}, {"outbox": 0}).sort("start", 1)
    return [o for o in found if clock.aware(o["expires_at"]) > now]


def close(db: Any, offer: dict, taken: bool) -> None:
    """The offer is taken (and every other for the same window is gone), or gone itself."""
    if taken:
        db.offers.update_one({"_id": offer["_id"]}, {"$set": {"status": "taken", "closed_at": clock.now()}})
        db.offers.update_many(
            {"freed_id": offer["freed_id"], "status": "open"}, {"$set": {"status": "gone", "closed_at": clock.now()}}
        )
    else:
        db.offers.update_one({"_id": offer["_id"]}, {"$set": {"status": "gone", "closed_at": clock.now()}})


def view(offer: dict, city: Municipality) -> dict:
    return {
        "offer_id": offer["_id"],
        "crew_id": offer["crew_id"],
        "start": clock.iso(visits.as_local(offer["start"], city)),
        "window_end": clock.iso(visits.as_local(offer["window_end"], city)),
        "expires_at": clock.iso(visits.as_local(offer["expires_at"], city)),
    }
