"""A crew's day: the route the optimiser found (stops in order, estimated arrivals, drive times),
and whom to phone before each visit (当日連絡)."""

from __future__ import annotations

import datetime as dt

from services.scheduling import sessions
from services.scheduling.optimiser import Solve, route_day
from services.scheduling.routes import CachedTravel, at_minute, day_of
from services.scheduling.visits import stop_of
from shared import clock
from shared.household import age_on
from shared.municipality import Municipality

CALL_LEAD_MINUTES = 15  # phone the resident this long before setting off to them


GUARDIAN_UNDER = 15  # an applicant younger than this on the day needs a guardian present


def _applicant(applicant: dict, day: dt.date) -> dict:
    age = age_on(dt.date.fromisoformat(applicant["birth_date"]), day)
    return {**applicant, "age": age, "guardian_needed": age < GUARDIAN_UNDER}


def build(
    visits: list[dict],
    contacts: dict[str, dict] | None,
    crew_id: str,
    day: dt.date,
    city: Municipality,
    travel: CachedTravel,
    solve: Solve,
    held: list[dict] | None = None,
) -> dict:
    """The day sheet: `visits` are the crew's visits that day (those signed up to a hall session
    included), `held` its hall sessions; each session is one stop listing its households."""
    frame = day_of(city)
    held = held or []
    by_id = {v["_id"]: v for v in visits if not v.get("session_id")}
    by_id.update({sessions.STOP_PREFIX + s["_id"]: s for s in held})
    route_stops = [stop_of(v, city) for v in visits if not v.get("session_id")]
    route = route_day(route_stops + [sessions.stop_of(s, city) for s in held], frame, city.depot, travel, solve)

    def iso(minute: int) -> str:
        return clock.iso(at_minute(day, minute, city))

    def household(visit: dict) -> dict:
        """A visit's household: who they are and what the crew needs at the door or the hall."""
        details = (contacts or {}).get(visit["booking_id"]) or {}
        return {
            "visit_id": visit["_id"],
            "booking_id": visit["booking_id"],
            "reference": visit["reference"],
            "status": visit["status"],
            "household_size": visit["household_size"],
            # What the crew needs; None while booking cannot be asked.
            "name": details.get("name"),
            "address": details.get("address"),
            "needs": details.get("needs"),
            "visit_notes": details.get("visit_notes"),
            "applicants": [_applicant(a, day) for a in details["applicants"]] if "applicants" in details else None,
        }

    stops, calls, free_at = [], [], frame.start
    for routed in route.stops:
        found = by_id[routed.stop.visit_id]
        depart = routed.arrive - routed.drive_minutes
        timing = {
            "drive_minutes": routed.drive_minutes,
            "depart": iso(depart),
            "arrive": iso(routed.arrive),
            "window_start": iso(routed.stop.window_start),
            "window_end": iso(routed.stop.window_end),
            "start": iso(routed.start),
            "end": iso(routed.end),
            # False when the route cannot reach the household within its promised window (a
            # promise made under an older drive rule, or a day changed since): call them first.
            "window_kept": routed.stop.window_start <= routed.arrive <= routed.stop.window_end,
            "idle_minutes_before": max(0, depart - free_at) + (routed.start - routed.arrive),
        }
        free_at = routed.end
        if routed.stop.visit_id.startswith(sessions.STOP_PREFIX):
            members = [household(v) for v in visits if v.get("session_id") == found["_id"]]
            stops.append(_session_stop(found, members, timing, city))
            continue
        visit = found
        district = city.district(visit["district"])
        venue = city.venue(visit["venue"]) if visit.get("venue") else None
        contact = (contacts or {}).get(visit["booking_id"])
        stops.append(
            {
                "kind": "visit",
                **household(visit),
                "district": district.id,
                "district_name": district.name,
                "venue_name": venue.name if venue else None,
                **timing,
            }
        )
        calls.append(
            {
                "visit_id": visit["_id"],
                "reference": visit["reference"],
                "call_at": iso(max(frame.start, depart - CALL_LEAD_MINUTES)),
                "name": contact["name"] if contact else None,
                "phone": contact["phone"] if contact else None,
            }
        )
    return {
        "crew_id": crew_id,
        "date": day.isoformat(),
        "depot": city.depot.name,
        "day_start": iso(frame.start),
        "return_to_depot": iso(route.back_at_depot) if route.back_at_depot is not None else None,
        "total_drive_minutes": route.drive_minutes,
        "route_optimised": route.optimised,
        "promises_at_risk": [s["reference"] for s in stops if not s["window_kept"]],
        "persons": sum(v["household_size"] for v in visits),
        "stops": stops,
        "calls": calls,
        "contacts_available": contacts is not None,
    }


def _session_stop(session: dict, households: list[dict], timing: dict, city: Municipality) -> dict:
    """A hall session on the day sheet: when the crew sets up, when the doors open and close, and
    each household signed up (results are recorded per household, as at a door)."""
    venue = city.venue(session["venue"])
    return {
        "kind": "session",
        "session_id": session["_id"],
        "reference": None,
        "status": session["status"],
        "district": venue.district,
        "district_name": city.district(venue.district).name,
        "venue_name": venue.name,
        "opens": clock.iso(clock.aware(session["start"]).astimezone(city.timezone)),
        "closes": clock.iso(clock.aware(session["end"]).astimezone(city.timezone)),
        "capacity": session["capacity"],
        "household_size": sum(h["household_size"] for h in households),
        "households": sorted(households, key=lambda h: h["reference"]),
        **timing,
    }
