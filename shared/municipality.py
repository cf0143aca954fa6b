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
class Venue(Place):
    """A community hall or care facility where a group (5 or more people) is helped at once."""

    id: str
    district: str


@dataclass(frozen=True)
class Crew:
    id: str
    name: str
    car: str
    staff: tuple[str, ...]
    # Days the crew does not go out: a staff member's day off, training, an event.
    days_off: frozenset[dt.date] = frozenset()


@dataclass(frozen=True)
class Car:
    id: str
    maintenance_days: frozenset[dt.date] = frozenset()


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
    # Batch planning aims to visit within this many working days, and waits longer (up to the bound)
    # only for a request that does not fit sooner. None: the bound itself.
    target_wait_working_days: int | None = None

    @property
    def wait_target(self) -> int:
        return self.max_wait_working_days if self.target_wait_working_days is None else self.target_wait_working_days

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
class Reason:
    """Why someone cannot easily come to the counter: a code stored with the booking, and its words."""

    code: str
    label: str


@dataclass(frozen=True)
class EligibilityRules:
    reasons: tuple[Reason, ...] = ()
    no_move_within_months: int = 2
    guardian_under_age: int = 15

    def reason(self, code: str) -> Reason | None:
        return next((reason for reason in self.reasons if reason.code == code), None)


@dataclass(frozen=True)
class DistrictTarget:
    """A district's plan for one 年度: its target group (the people the car is for) and how many of
    them are to apply through the car that year."""

    fiscal_year: int
    district: str
    group: int
    target: int


@dataclass(frozen=True)
class ReportRules:
    target_group: str = ""  # what `group` counts, in the report's words
    targets: tuple[DistrictTarget, ...] = ()

    def target(self, fiscal_year: int, district: str) -> DistrictTarget | None:
        return next((t for t in self.targets if (t.fiscal_year, t.district) == (fiscal_year, district)), None)


@dataclass(frozen=True)
class PreparationItem:
    """One thing a household has ready for the visit (持ち物). `audience`: everyone, child or proxy."""

    audience: str
    title: str
    text: str
    a: tuple[str, ...] = ()
    b: tuple[str, ...] = ()


PREPARATION_AUDIENCES = ("everyone", "child", "proxy")


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
    cars: tuple[Car, ...] = ()
    venues: tuple[Venue, ...] = ()
    # A crew in another car than its own on a day (its own in maintenance): (date, crew id, car id).
    car_assignments: tuple[tuple[dt.date, str, str], ...] = ()
    eligibility: EligibilityRules = EligibilityRules()
    # When the day-before notices go out, on the working day before each visit (local time).
    reminder_at: dt.time = dt.time(15, 0)
    preparation: tuple[PreparationItem, ...] = ()
    report: ReportRules = ReportRules()

    def lives_here(self, postal_code: str) -> bool:
        """A postal code (digits, e.g. 8850001) of the municipality, by its configured prefixes."""
        digits = postal_code.replace("-", "")
        return not self.postal_code_prefixes or digits.startswith(self.postal_code_prefixes)

    def car_of(self, crew: Crew, day: dt.date) -> str:
        given = (car for date, crew_id, car in self.car_assignments if date == day and crew_id == crew.id)
        return next(given, crew.car)

    def crew_goes_out(self, crew: Crew, day: dt.date) -> bool:
        """The crew works that day and has a car that is not in maintenance."""
        if day in crew.days_off:
            return False
        car = next((c for c in self.cars if c.id == self.car_of(crew, day)), None)
        return car is None or day not in car.maintenance_days

    def district(self, key: str) -> District | None:
        """Finds a district by its id or its Japanese name."""
        for district in self.districts:
            if key in (district.id, district.name):
                return district
        return None

    def venue(self, key: str) -> Venue | None:
        """Finds a venue by its id or its Japanese name."""
        return next((venue for venue in self.venues if key in (venue.id, venue.name)), None)

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


def _dates(values: list) -> list[dt.date]:
    return [dt.date.fromisoformat(str(value)) for value in values]


def _car_assignments(data: dict) -> tuple[tuple[dt.date, str, str], ...]:
    """{date: {crew: car}}; one car cannot go out with two crews on one day."""
    assignments = []
    for date, by_crew in data.items():
        day = dt.date.fromisoformat(str(date))
        if len(set(by_crew.values())) < len(by_crew):
            raise ValueError(f"car_assignments {day}: one car given to two crews")
        assignments += [(day, crew, car) for crew, car in sorted(by_crew.items())]
    return tuple(assignments)


def _eligibility(data: dict) -> EligibilityRules:
    return EligibilityRules(
        reasons=tuple(Reason(code=r["code"], label=r["label"]) for r in data.get("reasons", [])),
        no_move_within_months=int(data.get("no_move_within_months", 2)),
        guardian_under_age=int(data.get("guardian_under_age", 15)),
    )


def _report(data: dict, districts: tuple[District, ...]) -> ReportRules:
    known = {d.id for d in districts}
    targets = []
    for year, by_district in (data.get("fiscal_years") or {}).items():
        for district, plan in by_district.items():
            if district not in known:
                raise ValueError(f"report: fiscal year {year} names an unknown district {district!r}")
            targets.append(DistrictTarget(int(year), district, int(plan["group"]), int(plan["target"])))
    return ReportRules(target_group=str(data.get("target_group", "")), targets=tuple(targets))


def _preparation(items: list) -> tuple[PreparationItem, ...]:
    parsed = []
    for item in items:
        audience = item.get("for", "everyone")
        if audience not in PREPARATION_AUDIENCES:
            raise ValueError(f"preparation: 'for' must be one of {PREPARATION_AUDIENCES}, got {audience!r}")
        parsed.append(
            PreparationItem(
                audience=audience,
                title=item["title"],
                text=item.get("text", ""),
                a=tuple(item.get("a", ())),
                b=tuple(item.get("b", ())),
            )
        )
    return tuple(parsed)


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
        districts=(districts := tuple(District(**d) for d in data["districts"])),
        cars=tuple(
            Car(id=c["id"], maintenance_days=frozenset(_dates(c.get("maintenance_days", []))))
            for c in data.get("cars", [])
        ),
        car_assignments=_car_assignments(data.get("car_assignments") or {}),
        venues=tuple(Venue(**v) for v in data.get("venues", [])),
        eligibility=_eligibility(data.get("eligibility") or {}),
        reminder_at=_time((data.get("reminders") or {}).get("day_before_at", "15:00")),
        preparation=_preparation(data.get("preparation") or []),
        report=_report(data.get("report") or {}, districts),
    )


@lru_cache(maxsize=4)
def load(path: Path | None = None) -> Municipality:
    path = path or settings.municipality_config_path()
    with open(path, encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle))
