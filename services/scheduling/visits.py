"""Visits in scheduling's database: one per booking, with the slot fixed for it.

Each change writes the visit and the event it owes in one document write (the outbox)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from typing import Any

from services.scheduling import sessions, waiting
from services.scheduling.routes import RouteStop, minute_of
from services.scheduling.travel import household_of
from shared import clock, events, outbox, workcalendar
from shared.db import is_duplicate_key
from shared.municipality import Municipality, Place

log = logging.getLogger(__name__)

ACTIVE = ("scheduled", "done")  # visits that occupy their crew's time


class UnknownDistrict(LookupError):
    """A request for a district that scheduling's configuration does not have."""


def _entry(event_type: events.EventType, payload: dict, visit: dict) -> dict:
    return outbox.event_entry(
        event_type, payload, correlation_id=visit["booking_id"], municipality_code=visit["municipality_code"]
    )


def create_from_request(db: Any, event: events.Event, city: Municipality) -> dict | None:
    """A new unscheduled visit for a received booking; None when the booking already has one.
    A district this municipality's configuration does not know raises: the event is retried, then
    parked for an operator to replay once the configuration is mended."""
    request = event.payload
    if city.district(request["district"]) is None:
        raise UnknownDistrict(request["district"])
    if request.get("venue") and city.venue(request["venue"]) is None:
        raise UnknownDistrict(request["venue"])  # the same remedy: mend the configuration, replay
    existing = db.visits.find_one({"booking_id": request["booking_id"]}, {"_id": 1, "session_id": 1})
    if existing is not None:  # delivered again: seat nobody twice (a cancelled sign-up gave its seat back)
        if existing.get("session_id"):  # ...but mark its seat, should the first delivery have stopped short
            sessions.claim_seat(db, existing["session_id"], request["booking_id"], existing["_id"])
        return None
    session = _seated(db, request)
    visit = {
        "_id": str(uuid.uuid4()),
        "booking_id": request["booking_id"],
        "reference": request["reference"],
        "channel": request["channel"],
        "status": "unscheduled",
        "district": request["district"],
        "venue": request.get("venue"),
        "household_size": request["household_size"],
        "duration_minutes": city.visits.duration_minutes(request["household_size"]),
        "preferred": [{"date": p["date"].isoformat(), "period": p["period"]} for p in request["preferred"]],
        "has_needs": request["has_needs"],
        "municipality_code": event.municipality_code,
        "requested_at": event.occurred_at,
        "slot": None,
        "history": [],
    }
    if session is not None:
        # A sign-up to a hall session: its window is the session's, fixed at once (one write).
        slot = {**session_slot(session), "fixed_at": clock.now()}
        visit.update(status="scheduled", session_id=session["_id"], venue=session["venue"], slot=slot)
        visit["outbox"] = [_fixed_entry(visit, slot, rescheduled=False, recovered=False)]
    else:
        visit.update(waiting.on_arrival(db, visit, city))
    if session is None and request.get("session_id"):
        called_off = db.sessions.find_one({"_id": request["session_id"], "status": "cancelled"})
        if called_off is not None:
            # Signed up just before the session was called off: told not to come, like the others.
            visit["outbox"] = [_released_entry(visit, session_slot(called_off), "session_cancelled")]
    try:
        db.visits.insert_one(visit)  # the unique index on booking_id refuses a second visit
    except Exception as error:
        if not is_duplicate_key(error):
            raise
        return None
    if session is not None:
        sessions.claim_seat(db, session["_id"], visit["booking_id"], visit["_id"])
        if db.sessions.find_one({"_id": session["_id"], "status": "cancelled"}, {"_id": 1}):
            # Called off between the seat and this write: sent back to waiting and told, like the rest.
            leave_cancelled_session(db, visit)
            return db.visits.find_one({"_id": visit["_id"]})
    return visit


def _seated(db: Any, request: dict) -> dict | None:
    """The session a sign-up has its seat in (booking took it before storing the booking). A seat
    lost on the way (the session closed or filled meanwhile) leaves the request waiting as a home
    visit: reception sees it in the waiting list, and nothing is lost."""
    if not request.get("session_id"):
        return None
    try:
        return sessions.take_seat(db, request["session_id"], request["booking_id"], request["household_size"])
    except sessions.SeatRefused as refused:
        log.warning("booking %s: no seat in session %s (%s)", request["booking_id"], request["session_id"], refused)
        return None


def session_slot(session: dict) -> dict:
    """A session's window as a visit's slot: the household comes any time while it is open."""
    start, end = session["start"], session["end"]
    return {
        "crew_id": session["crew_id"],
        "date": session["date"],
        "start": start,
        "end": end,
        "window_start": start,
        "window_end": end,
    }


def place_of(visit: dict, city: Municipality) -> Place:
    """Where the crew goes: the venue of a group session (one place for all who meet there), else
    the household, at its district's centre but a place of its own (travel.Household)."""
    venue = visit.get("venue") and city.venue(visit["venue"])
    return venue or household_of(city.district(visit["district"]), visit["_id"])


def stop_of(visit: dict, city: Municipality) -> RouteStop:
    """The visit as a stop of its crew's route: the promised window and how long it takes."""
    slot = visit["slot"]
    return RouteStop(
        visit_id=visit["_id"],
        place=place_of(visit, city),
        window_start=minute_of(as_local(slot["window_start"], city)),
        window_end=minute_of(as_local(slot["window_end"], city)),
        duration=visit["duration_minutes"],
    )


def as_local(moment: dt.datetime, city: Municipality) -> dt.datetime:
    return clock.aware(moment).astimezone(city.timezone)


def day_stops(db: Any, crew_id: str, day: dt.date, city: Municipality, exclude: str | None = None) -> list[RouteStop]:
    """The crew's stops that day in the order of their windows (the order the route keeps): its
    visits, and its hall sessions each as one stop (the households signed up to one are not stops)."""
    return stops_between(db, day, day, city, exclude).get((crew_id, day), [])


def stops_between(db: Any, first: dt.date, last: dt.date, city: Municipality, exclude: str | None = None) -> dict:
    """All occupied stops per (crew, day) in a date range, for suggestions and fits."""
    found = db.visits.find(
        {
            "status": {"$in": list(ACTIVE)},
            "slot.date": {"$gte": first.isoformat(), "$lte": last.isoformat()},
            "session_id": None,
        },
        {"slot": 1, "district": 1, "venue": 1, "duration_minutes": 1},
    )
    held = sessions.occupying(db, {"date": {"$gte": first.isoformat(), "$lte": last.isoformat()}})
    by_crew_day: dict[tuple[str, dt.date], list[RouteStop]] = {}
    for visit in found:
        if visit["_id"] != exclude:
            key = (visit["slot"]["crew_id"], dt.date.fromisoformat(visit["slot"]["date"]))
            by_crew_day.setdefault(key, []).append(stop_of(visit, city))
    for session in held:
        key = (session["crew_id"], dt.date.fromisoformat(session["date"]))
        by_crew_day.setdefault(key, []).append(sessions.stop_of(session, city))
    for stops in by_crew_day.values():
        stops.sort(key=lambda s: s.window_start)
    return by_crew_day


def slot_document(crew_id: str, start: dt.datetime, end: dt.datetime, window_minutes: int) -> dict:
    return {
        "crew_id": crew_id,
        "date": start.date().isoformat(),
        "start": start,
        "end": end,
        "window_start": start,
        "window_end": start + dt.timedelta(minutes=window_minutes),
        "fixed_at": clock.now(),
    }


def fix(db: Any, visit: dict, slot: dict, recovered: bool = False) -> dict:
    """Stores the slot with slot_fixed (and slot_released for a slot it replaces). `recovered`: a
    window freed by another household, taken from the waiting list (waitlist.py)."""
    entries = []
    previous = visit.get("slot")
    if previous:
        entries.append(_released_entry(visit, previous, "rescheduled"))
    entries.append(_fixed_entry(visit, slot, rescheduled=bool(previous), recovered=recovered))
    fields: dict[str, Any] = {"status": "scheduled", "slot": slot, "wait_risk": None}
    if visit.get("session_id"):  # out of its hall session, to the household's own window
        fields.update(session_id=None, venue=None)
    update: dict[str, Any] = {"$set": fields, "$push": {"outbox": {"$each": entries}}}
    if previous:
        update["$push"]["history"] = {"slot": previous, "ended": "rescheduled", "at": clock.now()}
    written = db.visits.update_one({"_id": visit["_id"], "status": visit["status"]}, update)
    if written.modified_count and visit.get("session_id"):
        sessions.release_seat(db, visit["session_id"], visit["booking_id"])
    return db.visits.find_one({"_id": visit["_id"]}, {"outbox": 0})


def _fixed_entry(visit: dict, slot: dict, rescheduled: bool, recovered: bool) -> dict:
    return _entry(
        events.SLOT_FIXED,
        {
            "visit_id": visit["_id"],
            "booking_id": visit["booking_id"],
            "crew_id": slot["crew_id"],
            "start": slot["start"],
            "end": slot["end"],
            "window_start": slot["window_start"],
            "window_end": slot["window_end"],
            "district": visit["district"],
            "venue": visit.get("venue"),
            "household_size": visit["household_size"],
            "rescheduled": rescheduled,
            "recovered": recovered,
        },
        visit,
    )


def _released_entry(visit: dict, slot: dict, reason: str) -> dict:
    return _entry(
        events.SLOT_RELEASED,
        {
            "visit_id": visit["_id"],
            "booking_id": visit["booking_id"],
            "crew_id": slot["crew_id"],
            "start": slot["start"],
            "reason": reason,
        },
        visit,
    )


def cancel(db: Any, booking_id: str) -> dict | None:
    """Cancels the booking's visit; a fixed slot is released (with slot_released)."""
    visit = db.visits.find_one({"booking_id": booking_id}, {"outbox": 0})
    if visit is None or visit["status"] in ("cancelled", "done"):
        return None
    update: dict[str, Any] = {"$set": {"status": "cancelled", "cancelled_at": clock.now(), "wait_risk": None}}
    if visit.get("slot"):
        update["$set"]["slot"] = None
        update["$push"] = {
            "outbox": _released_entry(visit, visit["slot"], "cancelled"),
            "history": {"slot": visit["slot"], "ended": "cancelled", "at": clock.now()},
        }
    written = db.visits.update_one({"_id": visit["_id"], "status": visit["status"]}, update)
    if written.modified_count and visit.get("session_id"):
        sessions.release_seat(db, visit["session_id"], booking_id)
    return visit


def leave_cancelled_session(db: Any, visit: dict) -> bool:
    """The visit's hall session was called off: the household waits for a visit at home again,
    and its window is released (reason session_cancelled: notification tells the household)."""
    if visit["status"] != "scheduled" or not visit.get("slot"):
        return False
    update = {
        "$set": {"status": "unscheduled", "slot": None, "session_id": None, "venue": None},
        "$push": {
            "outbox": _released_entry(visit, visit["slot"], "session_cancelled"),
            "history": {"slot": visit["slot"], "ended": "session_cancelled", "at": clock.now()},
        },
    }
    return db.visits.update_one({"_id": visit["_id"], "status": "scheduled"}, update).modified_count == 1


def record_result(db: Any, visit: dict, result: dict, city: Municipality) -> dict:
    """Marks the visit done (a postponed visit goes back to unscheduled) with visit_done."""
    slot = visit["slot"]
    entry = _entry(
        events.VISIT_DONE,
        {
            "visit_id": visit["_id"],
            "booking_id": visit["booking_id"],
            "crew_id": slot["crew_id"],
            "date": dt.date.fromisoformat(slot["date"]),
            "district": visit["district"],
            "outcome": result["outcome"],
            "persons_applied": result["persons_applied"],
            "applicants": _counts(result["applicants"]) if result.get("applicants") else None,
        },
        visit,
    )
    # The crew's free text is never kept here: booking seals it with the household (service._keep_note).
    record = {**{k: v for k, v in result.items() if k != "note"}, "recorded_at": clock.now(), "slot": slot}
    if result["outcome"] == "postponed":
        waiting: dict[str, Any] = {"status": "unscheduled", "slot": None}
        if visit.get("session_id"):  # postponed at a hall session: now waiting for a visit at home
            waiting.update(session_id=None, venue=None)
        update = {
            "$set": waiting,
            "$push": {
                "outbox": entry,
                "history": {"slot": slot, "ended": "postponed", "at": clock.now(), "result": record},
            },
        }
    else:
        update = {"$set": {"status": "done", "result": record}, "$push": {"outbox": entry}}
    written = db.visits.update_one({"_id": visit["_id"], "status": "scheduled"}, update)
    if written.modified_count and result["outcome"] == "postponed" and visit.get("session_id"):
        sessions.release_seat(db, visit["session_id"], visit["booking_id"])  # its seat is someone else's now
    return db.visits.find_one({"_id": visit["_id"]}, {"outbox": 0})


def _counts(applicants: list[dict]) -> dict[str, int]:
    """How many applicants ended each way, every result named (zeros included)."""
    counted = Counter(a["result"] for a in applicants)
    return {result: counted[result] for result in events.APPLICANT_RESULTS}


def recorded_already(visit: dict, result_id: str | None) -> bool:
    """Whether the result with this key is the one the visit holds (done, or postponed back to
    unscheduled with it in its history)."""
    if not result_id:
        return False
    results = [visit.get("result") or {}] + [h.get("result") or {} for h in visit.get("history") or []]
    return any(r.get("result_id") == result_id for r in results)


def view(visit: dict, city: Municipality) -> dict:
    """A visit as the API shows it."""
    slot = visit.get("slot")
    district = city.district(visit["district"])

    def iso(moment: Any) -> str | None:
        return clock.iso(as_local(moment, city)) if moment else None

    return {
        "visit_id": visit["_id"],
        "booking_id": visit["booking_id"],
        "reference": visit["reference"],
        "status": visit["status"],
        "district": visit["district"],
        "district_name": district.name if district else visit["district"],
        "venue": visit.get("venue"),
        "session_id": visit.get("session_id"),
        "household_size": visit["household_size"],
        "duration_minutes": visit["duration_minutes"],
        "preferred": visit["preferred"],
        "requested_at": iso(visit["requested_at"]),
        # Working days since the request, the measure of the wait bound (ADR 8): reception's list
        # of waiting requests is sorted and flagged by it.
        "waited_working_days": workcalendar.working_days_between(
            as_local(visit["requested_at"], city).date(), clock.today(), city.calendar
        ),
        "expected": visit.get("expected"),
        "wait_risk": {**risk, "said_at": iso(risk["said_at"])} if (risk := visit.get("wait_risk")) else None,
        "slot": {
            "crew_id": slot["crew_id"],
            "date": slot["date"],
            "start": iso(slot["start"]),
            "end": iso(slot["end"]),
            "window_start": iso(slot["window_start"]),
            "window_end": iso(slot["window_end"]),
        }
        if slot
        else None,
        "result": {
            k: visit["result"][k]
            for k in ("outcome", "persons_applied", "has_note", "applicants")
            if visit["result"].get(k)
        }
        if visit.get("result")
        else None,
    }
