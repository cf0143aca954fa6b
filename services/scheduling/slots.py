"""Fixing a visit's slot: the rules a promised window must keep, under the crew-day lease.

The entrypoint translates HTTP to `fix` and its refusals back to answers; the rules live here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from services.scheduling import planning, sessions, visits
from services.scheduling.locks import crew_day_lock
from services.scheduling.travel import default_model
from shared import clock, workcalendar
from shared.municipality import Municipality

OPEN_STATUSES = ("unscheduled", "scheduled")


class NotAWorkingTime(Exception):
    """The start is past, or not on a working day of the office."""


class CrewOff(Exception):
    """The crew does not go out that day (a day off, or its car in maintenance)."""


class DoesNotFit(Exception):
    """The window clashes with the crew's other promises, drive time, hours or lunch."""


class WrongStatus(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Fixed:
    visit: dict  # as stored now
    before: dict  # as it was (its slot, if it had one: a reschedule)
    added_drive_minutes: int


def require_open(visit: dict) -> None:
    if visit["status"] not in OPEN_STATUSES:
        raise WrongStatus(visit["status"])


def require_crew_out(crew_id: str, start: dt.datetime, city: Municipality) -> None:
    """The crew exists (KeyError), `start` is on a future working day (NotAWorkingTime), and the
    crew goes out that day (CrewOff): what any promise of its time needs first."""
    crew = city.crew(crew_id)
    if crew is None:
        raise KeyError(crew_id)
    if start <= clock.now() or not workcalendar.is_working_day(start.date(), city.calendar):
        raise NotAWorkingTime()
    if not city.crew_goes_out(crew, start.date()):
        raise CrewOff()


def fix(db: Any, visit_id: str, crew_id: str, start: dt.datetime, city: Municipality, recovered: bool = False) -> Fixed:
    """Fixes the visit at `start` for the crew, or raises why not. Under the crew-day lease the visit
    is read again and fitted into the day as it stands; the lease is confirmed just before writing
    (Busy, from locks, when another holder has the day)."""
    require_crew_out(crew_id, start, city)
    with crew_day_lock(db, crew_id, start.date()) as lease:
        fresh = db.visits.find_one({"_id": visit_id}, {"outbox": 0})
        if fresh is None:
            raise LookupError(visit_id)
        require_open(fresh)
        if fresh.get("session_id"):  # moved out of its hall session: visited at home instead
            fresh = {**fresh, "venue": None}
        stops = visits.day_stops(db, crew_id, start.date(), city, exclude=visit_id)
        fitted = planning.fit(
            stops, visits.place_of(fresh, city), start, fresh["duration_minutes"], city, default_model(city)
        )
        if fitted is None:
            raise DoesNotFit()
        end = start + dt.timedelta(minutes=fresh["duration_minutes"])
        slot = visits.slot_document(crew_id, start, end, city.visits.window_minutes)
        lease.confirm()
        stored = visits.fix(db, fresh, slot, recovered=recovered)
        return Fixed(visit=stored, before=fresh, added_drive_minutes=fitted[1])


def open_session(
    db: Any, venue_id: str, crew_id: str, start: dt.datetime, end: dt.datetime, capacity: int, city: Municipality
) -> dict:
    """Puts a hall session in its crew's day, or raises why not (the same refusals as a visit's
    fix): the crew must reach the hall SETUP_MINUTES before it opens without breaking a promise."""
    require_crew_out(crew_id, start, city)
    session = sessions.document(venue_id, crew_id, start, end, capacity, city.code)
    stop = sessions.stop_of(session, city)
    with crew_day_lock(db, crew_id, start.date()) as lease:
        stops = visits.day_stops(db, crew_id, start.date(), city)
        arrive = start - dt.timedelta(minutes=sessions.SETUP_MINUTES)
        if planning.fit(stops, stop.place, arrive, stop.duration, city, default_model(city), window_minutes=0) is None:
            raise DoesNotFit()
        lease.confirm()
        db.sessions.insert_one(session)
    return session
