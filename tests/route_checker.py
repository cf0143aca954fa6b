"""An independent check of a crew's day sheet: its own arithmetic (haversine, the municipality's road
factor, speed and minimum, the lunch rule, office hours), none of the planner's code, so a planner
bug cannot hide behind a checker that shares it. Returns what is wrong, in words; [] is a sheet a
crew can drive."""

from __future__ import annotations

import datetime as dt
import math

import jpholiday

from shared.municipality import Municipality


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = (math.radians(x) for x in (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * math.asin(math.sqrt(h))


def least_drive(a: tuple[str, tuple[float, float]], b: tuple[str, tuple[float, float]], city: Municipality) -> int:
    """The documented rule (ADR 4): the same place (one key) is 0; any two others take the
    straight-line time at the road factor and average speed, and never less than the minimum."""
    if a[0] == b[0]:
        return 0
    rules = city.travel
    minutes = math.ceil(_km(a[1], b[1]) * rules.road_factor / rules.average_speed_kmh * 60)
    return max(rules.minimum_minutes, minutes)


def _minute(text: str, city: Municipality) -> int:
    moment = dt.datetime.fromisoformat(text).astimezone(city.timezone)
    return moment.hour * 60 + moment.minute


def _place(stop: dict, city: Municipality) -> tuple[str, tuple[float, float]]:
    if stop.get("venue_name"):
        venue = next(v for v in city.venues if v.name == stop["venue_name"])
        return f"venue:{venue.id}", (venue.lat, venue.lon)
    district = next(d for d in city.districts if d.id == stop["district"])
    return f"household:{stop['visit_id']}", (district.lat, district.lon)


def problems(sheet: dict, city: Municipality) -> list[str]:
    assert not city.travel.matrix, "this checker knows straight-line travel only"
    found: list[str] = []
    day = dt.date.fromisoformat(sheet["date"])
    if day.weekday() >= 5 or jpholiday.is_holiday(day):
        found.append(f"{day} is not a working day")
    cal = city.calendar
    opens, closes = cal.day_start.hour * 60 + cal.day_start.minute, cal.day_end.hour * 60 + cal.day_end.minute
    lunch = (cal.lunch_start.hour * 60 + cal.lunch_start.minute, cal.lunch_end.hour * 60 + cal.lunch_end.minute)
    here, free = ("depot", (city.depot.lat, city.depot.lon)), opens
    for stop in sheet["stops"]:
        name = stop["reference"]
        place = _place(stop, city)
        depart, arrive, start, end = (_minute(stop[k], city) for k in ("depart", "arrive", "start", "end"))
        window = (_minute(stop["window_start"], city), _minute(stop["window_end"], city))
        need = least_drive(here, place, city)
        if depart < free:
            found.append(f"{name}: leaves at {depart} before the previous visit ends at {free}")
        if arrive - depart < need:
            found.append(f"{name}: {arrive - depart} minutes' drive where at least {need} are needed")
        if not window[0] <= arrive <= window[1]:
            found.append(f"{name}: arrives at {arrive}, outside its promised window {window}")
        if start < max(arrive, window[0]):
            found.append(f"{name}: starts at {start} before arriving or before its window")
        duration = city.visits.duration_minutes(stop["household_size"])
        if end - start != duration:
            found.append(f"{name}: lasts {end - start} minutes, not {duration}")
        eats_on_site = duration > max(lunch[0] - opens, closes - lunch[1])
        if start < lunch[1] and end > lunch[0] and not eats_on_site:
            found.append(f"{name}: {start}-{end} runs into lunch {lunch}")
        here, free = place, end
    if sheet["stops"]:
        back = _minute(sheet["return_to_depot"], city)
        need = least_drive(here, ("depot", (city.depot.lat, city.depot.lon)), city)
        if back < free + need:
            found.append(f"back at the depot at {back}, less than {need} minutes after the last visit ends at {free}")
        if back > closes:
            found.append(f"back at the depot at {back}, after closing at {closes}")
    return found
