"""A crew's day: the route the optimiser found (stops in order, estimated arrivals, drive times),
and whom to phone before each visit (当日連絡)."""

from __future__ import annotations

import datetime as dt

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
) -> dict:
    frame = day_of(city)
    by_id = {v["_id"]: v for v in visits}
    route = route_day([stop_of(v, city) for v in visits], frame, city.depot, travel, solve)

    def iso(minute: int) -> str:
        return clock.iso(at_minute(day, minute, city))

    stops, calls, free_at = [], [], frame.start
    for routed in route.stops:
        visit = by_id[routed.stop.visit_id]
        district = city.district(visit["district"])
        venue = city.venue(visit["venue"]) if visit.get("venue") else None
        depart = routed.arrive - routed.drive_minutes
        contact = (contacts or {}).get(visit["booking_id"])
        details = contact or {}
        stops.append(
            {
                "visit_id": visit["_id"],
                "booking_id": visit["booking_id"],
                "reference": visit["reference"],
                "status": visit["status"],
                "district": district.id,
                "district_name": district.name,
                "venue_name": venue.name if venue else None,
                "household_size": visit["household_size"],
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
                # What the crew needs at the door; None while booking cannot be asked.
                "address": details.get("address"),
                "needs": details.get("needs"),
                "applicants": [_applicant(a, day) for a in details["applicants"]] if "applicants" in details else None,
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
        free_at = routed.end
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
