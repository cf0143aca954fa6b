"""Visits in scheduling's database: one per booking, with the slot fixed for it.

Each change writes the visit and the event it owes in one document write (the outbox)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from typing import Any

from services.scheduling.routes import RouteStop, minute_of
from services.scheduling.travel import household_of
from shared import clock, events, outbox, workcalendar
from shared.db import is_duplicate_key
from shared.municipality import Municipality, Place

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
    try:
        db.visits.insert_one(visit)  # the unique index on booking_id refuses a second visit
    except Exception as error:
        if not is_duplicate_key(error):
            raise
        return None
    return visit


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
    """The crew's visits that day in the order of their windows (the order the route keeps)."""
    found = db.visits.find({"slot.crew_id": crew_id, "slot.date": day.isoformat(), "status": {"$in": list(ACTIVE)}})
    return sorted((stop_of(v, city) for v in found if v["_id"] != exclude), key=lambda s: s.window_start)


def stops_between(db: Any, first: dt.date, last: dt.date, city: Municipality, exclude: str | None = None) -> dict:
    """All occupied stops per (crew, day) in a date range, for suggestions."""
    found = db.visits.find(
        {
            "status": {"$in": list(ACTIVE)},
            "slot.date": {"$gte": first.isoformat(), "$lte": last.isoformat()},
        },
        {"slot": 1, "district": 1, "venue": 1, "duration_minutes": 1},
    )
    by_crew_day: dict[tuple[str, dt.date], list[RouteStop]] = {}
    for visit in found:
        if visit["_id"] == exclude:
            continue
        key = (visit["slot"]["crew_id"], dt.date.fromisoformat(visit["slot"]["date"]))
        by_crew_day.setdefault(key, []).append(stop_of(visit, city))
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
    entries.append(
        _entry(
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
                "rescheduled": bool(previous),
                "recovered": recovered,
            },
            visit,
        )
    )
    update: dict[str, Any] = {
        "$set": {"status": "scheduled", "slot": slot},
        "$push": {"outbox": {"$each": entries}},
    }
    if previous:
        update["$push"]["history"] = {"slot": previous, "ended": "rescheduled", "at": clock.now()}
    db.visits.update_one({"_id": visit["_id"], "status": visit["status"]}, update)
    return db.visits.find_one({"_id": visit["_id"]}, {"outbox": 0})


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
    update: dict[str, Any] = {"$set": {"status": "cancelled", "cancelled_at": clock.now()}}
    if visit.get("slot"):
        update["$set"]["slot"] = None
        update["$push"] = {
            "outbox": _released_entry(visit, visit["slot"], "cancelled"),
            "history": {"slot": visit["slot"], "ended": "cancelled", "at": clock.now()},
        }
    db.visits.update_one({"_id": visit["_id"], "status": visit["status"]}, update)
    return visit


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
    record = {**result, "recorded_at": clock.now(), "slot": slot}
    if result["outcome"] == "postponed":
        update = {
            "$set": {"status": "unscheduled", "slot": None},
            "$push": {
                "outbox": entry,
                "history": {"slot": slot, "ended": "postponed", "at": clock.now(), "result": record},
            },
        }
    else:
        update = {"$set": {"status": "done", "result": record}, "$push": {"outbox": entry}}
    db.visits.update_one({"_id": visit["_id"], "status": "scheduled"}, update)
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
        "household_size": visit["household_size"],
        "duration_minutes": visit["duration_minutes"],
        "preferred": visit["preferred"],
        "requested_at": iso(visit["requested_at"]),
        # Working days since the request, the measure of the wait bound (ADR 8): reception's list
        # of waiting requests is sorted and flagged by it.
        "waited_working_days": workcalendar.working_days_between(
            as_local(visit["requested_at"], city).date(), clock.today(), city.calendar
        ),
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
            for k in ("outcome", "persons_applied", "note", "applicants")
            if visit["result"].get(k)
        }
        if visit.get("result")
        else None,
    }
