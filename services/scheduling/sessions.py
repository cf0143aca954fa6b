"""Hall sessions (集団申請): the car's crew at a community hall for a window, helping everyone who
signed up, household by household.

A session is one document (`sessions`): the venue, the crew, the day and window, the capacity in
persons and the seats taken. It occupies its crew's day as one stop (routes.RouteStop): the crew
arrives SETUP_MINUTES before it opens and leaves when it closes. Each household that signs up is a
booking like any other, whose visit is fixed to the session at once (visits.create_from_request);
the crew records results per household and per person on the day sheet, as at a door.

Seats are taken by one conditional update of the session document (`free` never goes below zero),
so two receptionists and a chair filling the last seats at the same moment cannot overfill it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

from services.scheduling.routes import RouteStop, minute_of
from shared import clock
from shared.municipality import Crew, Municipality

SETUP_MINUTES = 30  # the crew arrives this long before the doors open, to set up the equipment
UNCLAIMED_SEAT_MINUTES = 60  # a seat whose booking never arrived is given back after this
MAX_CAPACITY = 30
MIN_CAPACITY = 5  # fewer people than this are visited at home
STOP_PREFIX = "session:"
INDEXES = [([("crew_id", 1), ("date", 1)], {}), ([("venue", 1), ("date", 1)], {})]


def most_persons(crew: Crew, start: dt.datetime, end: dt.datetime, city: Municipality) -> int:
    """How many people the crew can help while the session is open: each staff member helps one
    person at a time, for the usual minutes per person."""
    minutes = int((end - start).total_seconds() // 60)
    return (minutes // city.visits.minutes_per_person) * max(1, len(crew.staff))


class SeatRefused(Exception):
    """No seat for the household: `reason` is full, closed or unknown."""

    def __init__(self, reason: str, free: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.free = reason, free


def document(
    venue_id: str, crew_id: str, start: dt.datetime, end: dt.datetime, capacity: int, municipality_code: str
) -> dict:
    return {
        "_id": str(uuid.uuid4()),
        "venue": venue_id,
        "crew_id": crew_id,
        "date": start.date().isoformat(),
        "start": start,
        "end": end,
        "capacity": capacity,
        "free": capacity,
        "seats": [],
        "status": "open",
        "municipality_code": municipality_code,
        "created_at": clock.now(),
    }


def stop_of(session: dict, city: Municipality) -> RouteStop:
    """The session as a stop of its crew's route: there when setting up starts, until it closes."""
    start = clock.aware(session["start"]).astimezone(city.timezone)
    end = clock.aware(session["end"]).astimezone(city.timezone)
    arrive = minute_of(start) - SETUP_MINUTES
    return RouteStop(
        visit_id=STOP_PREFIX + session["_id"],
        place=city.venue(session["venue"]),
        window_start=arrive,
        window_end=arrive,
        duration=minute_of(end) - arrive,
    )


def occupying(db: Any, match: dict) -> list[dict]:
    """Sessions that occupy their crew's time (not cancelled), matching `match`."""
    return list(db.sessions.find({**match, "status": "open"}))


def take_seat(db: Any, session_id: str, booking_id: str, persons: int) -> dict:
    """Seats the household (idempotent for the same booking), or raises SeatRefused. A session
    takes sign-ups until it starts."""
    seat = {"booking_id": booking_id, "persons": persons, "taken_at": clock.now(), "visit_id": None}
    taken = db.sessions.find_one_and_update(
        {
            "_id": session_id,
            "status": "open",
            "start": {"$gt": clock.now()},
            "free": {"$gte": persons},
            "seats.booking_id": {"$ne": booking_id},
        },
        {"$inc": {"free": -persons}, "$push": {"seats": seat}},
        return_document=True,
    )
    if taken is not None:
        return taken
    session = db.sessions.find_one({"_id": session_id})
    if session is None:
        raise SeatRefused("unknown")
    if session["status"] != "open":
        raise SeatRefused("closed")  # called off, even for a household seated before
    if any(s["booking_id"] == booking_id for s in session["seats"]):
        return session  # seated already (the same sign-up sent again)
    if clock.aware(session["start"]) <= clock.now():
        raise SeatRefused("closed")
    raise SeatRefused("full", session["free"])


def release_seat(db: Any, session_id: str, booking_id: str, unclaimed_only: bool = False) -> None:
    """Gives the household's seat back (a cancelled booking, or a sign-up that was not stored);
    `unclaimed_only`: only while no visit holds it."""
    session = db.sessions.find_one({"_id": session_id, "seats.booking_id": booking_id}, {"seats": 1})
    if session is None:
        return
    persons = next(s["persons"] for s in session["seats"] if s["booking_id"] == booking_id)
    seat: dict[str, Any] = {"booking_id": booking_id, "persons": persons}
    if unclaimed_only:
        seat["visit_id"] = None
    db.sessions.update_one(
        {"_id": session_id, "seats": {"$elemMatch": seat}},
        {"$pull": {"seats": {"booking_id": booking_id}}, "$inc": {"free": seat["persons"]}},
    )


def release_unclaimed(db: Any, stored: Callable[[list[str]], set[str]]) -> int:
    """Gives back seats taken for a booking that never was (booking took the seat, then could not
    store the booking, nor give the seat back). A seat older than UNCLAIMED_SEAT_MINUTES is kept
    when its visit exists (the seat is marked now) or its booking is stored (`stored` asks booking;
    the event is on its way). Returns how many were given back."""
    cutoff = clock.now() - dt.timedelta(minutes=UNCLAIMED_SEAT_MINUTES)
    released = 0
    for session in db.sessions.find({"seats": {"$elemMatch": {"visit_id": None, "taken_at": {"$lt": cutoff}}}}):
        old = [s for s in session["seats"] if s["visit_id"] is None and clock.aware(s["taken_at"]) < cutoff]
        waiting = []
        for seat in old:
            visit = db.visits.find_one({"booking_id": seat["booking_id"], "session_id": session["_id"]}, {"_id": 1})
            if visit is not None:
                claim_seat(db, session["_id"], seat["booking_id"], visit["_id"])
            else:
                waiting.append(seat["booking_id"])
        if not waiting:
            continue
        booked = stored(waiting)
        for booking_id in waiting:
            if booking_id not in booked:
                release_seat(db, session["_id"], booking_id, unclaimed_only=True)
                released += 1
    return released


def claim_seat(db: Any, session_id: str, booking_id: str, visit_id: str) -> bool:
    """Marks the household's seat as held by its visit; False when the seat is not there."""
    claimed = db.sessions.update_one(
        {"_id": session_id, "seats.booking_id": booking_id}, {"$set": {"seats.$.visit_id": visit_id}}
    )
    return claimed.matched_count == 1


def cancel(db: Any, session_id: str) -> dict | None:
    """Calls the session off (weather, illness): it no longer occupies the crew's day and takes no
    sign-ups. Returns the session as it is now; None when there is no such session. The households
    signed up are moved by the caller (visits.leave_cancelled_session)."""
    db.sessions.update_one(
        {"_id": session_id, "status": "open"}, {"$set": {"status": "cancelled", "cancelled_at": clock.now()}}
    )
    return db.sessions.find_one({"_id": session_id})


def in_range(db: Any, first: dt.date, last: dt.date, venue: str | None = None) -> list[dict]:
    match: dict[str, Any] = {"date": {"$gte": first.isoformat(), "$lte": last.isoformat()}}
    if venue:
        match["venue"] = venue
    return sorted(db.sessions.find(match), key=lambda s: (s["date"], clock.aware(s["start"])))


def view(session: dict, city: Municipality) -> dict:
    """A session as the API shows it (without who signed up: that is `signups`)."""
    venue = city.venue(session["venue"])
    crew = city.crew(session["crew_id"])
    zone = city.timezone
    return {
        "session_id": session["_id"],
        "venue": session["venue"],
        "venue_name": venue.name if venue else session["venue"],
        "district": venue.district if venue else None,
        "crew_id": session["crew_id"],
        "crew_name": crew.name if crew else session["crew_id"],
        "date": session["date"],
        "start": clock.iso(clock.aware(session["start"]).astimezone(zone)),
        "end": clock.iso(clock.aware(session["end"]).astimezone(zone)),
        "capacity": session["capacity"],
        "persons_signed_up": session["capacity"] - session["free"],
        "households_signed_up": len(session["seats"]),
        "seats_left": session["free"],
        "status": session["status"],
        "open_for_signups": session["status"] == "open" and clock.aware(session["start"]) > clock.now(),
        "can_cancel": session["status"] == "open" and clock.aware(session["end"]) > clock.now(),
    }
