"""A crew's day: stops in order with drive times, and whom to phone before each visit (当日連絡)."""

from __future__ import annotations

import datetime as dt

from services.scheduling.planning import day_frame
from services.scheduling.travel import TravelModel
from services.scheduling.visits import as_local
from shared import clock
from shared.municipality import Municipality

CALL_LEAD_MINUTES = 15  # phone the resident this long before setting off to them


def build(
    visits: list[dict],
    contacts: dict[str, dict] | None,
    crew_id: str,
    day: dt.date,
    city: Municipality,
    travel: TravelModel,
) -> dict:
    frame = day_frame(city, day)
    ordered = sorted(visits, key=lambda v: as_local(v["slot"]["start"], city))
    place, free_at, total_drive = city.depot, frame.start, 0
    stops, calls = [], []
    for visit in ordered:
        district = city.district(visit["district"])
        start = as_local(visit["slot"]["start"], city)
        drive = travel.minutes(place, district)
        depart = start - dt.timedelta(minutes=drive)
        call_at = max(frame.start, depart - dt.timedelta(minutes=CALL_LEAD_MINUTES))
        contact = (contacts or {}).get(visit["booking_id"])
        stops.append(
            {
                "visit_id": visit["_id"],
                "booking_id": visit["booking_id"],
                "reference": visit["reference"],
                "status": visit["status"],
                "district": district.id,
                "district_name": district.name,
                "household_size": visit["household_size"],
                "drive_minutes": drive,
                "depart": clock.iso(depart),
                "arrive": clock.iso(start),
                "window_end": clock.iso(as_local(visit["slot"]["window_end"], city)),
                "end": clock.iso(as_local(visit["slot"]["end"], city)),
                "idle_minutes_before": max(0, int((depart - free_at).total_seconds() // 60)),
            }
        )
        calls.append(
            {
                "visit_id": visit["_id"],
                "reference": visit["reference"],
                "call_at": clock.iso(call_at),
                "name": contact["name"] if contact else None,
                "phone": contact["phone"] if contact else None,
            }
        )
        total_drive += drive
        place, free_at = district, as_local(visit["slot"]["end"], city)
    back = travel.minutes(place, city.depot) if ordered else 0
    total_drive += back
    return {
        "crew_id": crew_id,
        "date": day.isoformat(),
        "depot": city.depot.name,
        "day_start": clock.iso(frame.start),
        "return_to_depot": clock.iso(free_at + dt.timedelta(minutes=back)) if ordered else None,
        "total_drive_minutes": total_drive,
        "persons": sum(v["household_size"] for v in ordered),
        "stops": stops,
        "calls": calls,
        "contacts_available": contacts is not None,
    }
