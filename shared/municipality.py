"""The municipality's own facts (districts, depot, crews, hours), loaded from one YAML file."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from shared import settings


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class District(Place):
    id: str


@dataclass(frozen=True)
class Crew:
    id: str
    name: str
    car: str
    staff: tuple[str, ...]
    # Days the crew does not go out: a staff member's day off, the car in maintenance.
    days_off: frozenset[dt.date] = frozenset()

    def works_on(self, day: dt.date) -> bool:
        return day not in self.days_off


@dataclass(frozen=True)
class Calendar:
    day_start: dt.time
    day_end: dt.time
    lunch_start: dt.time
    lunch_end: dt.time
    closure_start: tuple[int, int]  # (month, day), inclusive
    closure_end: tuple[int, int]
    extra_closed_days: frozenset[dt.date]


@dataclass(frozen=True)
class VisitRules:
    setup_minutes: int
    minutes_per_person: int
    window_minutes: int
    slot_step_minutes: int
    booking_horizon_working_days: int
    # No one waits longer than this for a visit, whatever the district: batch planning honours it.
    max_wait_working_days: int = 20

    def duration_minutes(self, persons: int) -> int:
        return self.setup_minutes + self.minutes_per_person * max(persons, 1)


@dataclass(frozen=True)
class TravelRules:
    road_factor: float
    average_speed_kmh: float
    minimum_minutes: int
    # The municipality's own drive minutes between district ids (and "depot"), when it has them;
    # pairs it leaves out fall back on the straight-line model.
    matrix: tuple[tuple[str, tuple[tuple[str, int], ...]], ...] = ()


@dataclass(frozen=True)
class Municipality:
    code: str
    name: str
    timezone: ZoneInfo
    contact_office: str
    contact_phone: str
    postal_code_prefixes: tuple[str, ...]
    depot: Place
    calendar: Calendar
    visits: VisitRules
    travel: TravelRules
    crews: tuple[Crew, ...]
    districts: tuple[District, ...]

    def district(self, key: str) -> District | None:
        """Finds a district by its id or its Japanese name."""
        for district in self.districts:
            if key in (district.id, district.name):
                return district
        return None

    def crew(self, crew_id: str) -> Crew | None:
        return next((crew for crew in self.crews if crew.id == crew_id), None)


def _time(text: str) -> dt.time:
    return dt.time.fromisoformat(text)


def _month_day(text: str) -> tuple[int, int]:
    month, day = text.split("-")
    return int(month), int(day)


def _travel_rules(data: dict) -> TravelRules:
    matrix = data.get("matrix") or {}
    frozen = tuple(sorted((origin, tuple(sorted(row.items()))) for origin, row in matrix.items()))
    return TravelRules(
        road_factor=data["road_factor"],
        average_speed_kmh=data["average_speed_kmh"],
        minimum_minutes=data["minimum_minutes"],
        matrix=frozen,
    )


def parse(data: dict) -> Municipality:
    cal = data["calendar"]
    return Municipality(
        code=str(data["code"]),
        name=data["name"],
        timezone=ZoneInfo(data.get("timezone", "Asia/Tokyo")),
        contact_office=data["contact"]["office"],
        contact_phone=data["contact"]["phone"],
        postal_code_prefixes=tuple(data.get("postal_code_prefixes", ())),
        depot=Place(**data["depot"]),
        calendar=Calendar(
            day_start=_time(cal["office_hours"]["start"]),
            day_end=_time(cal["office_hours"]["end"]),
            lunch_start=_time(cal["lunch"]["start"]),
            lunch_end=_time(cal["lunch"]["end"]),
            closure_start=_month_day(cal["closure"]["start"]),
            closure_end=_month_day(cal["closure"]["end"]),
            extra_closed_days=frozenset(dt.date.fromisoformat(str(day)) for day in cal.get("extra_closed_days", [])),
        ),
        visits=VisitRules(**data["visits"]),
        travel=_travel_rules(data["travel"]),
        crews=tuple(
            Crew(
                id=c["id"],
                name=c["name"],
                car=c["car"],
                staff=tuple(c["staff"]),
                days_off=frozenset(dt.date.fromisoformat(str(day)) for day in c.get("days_off", [])),
            )
            for c in data["crews"]
        ),
        districts=tuple(District(**d) for d in data["districts"]),
    )


@lru_cache(maxsize=4)
def load(path: Path | None = None) -> Municipality:
    path = path or settings.municipality_config_path()
    with open(path, encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))
