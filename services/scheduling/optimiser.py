"""Day routes and batch plans, as routing problems for the optimiser (services.scheduling.solver).

- `route_day`: the order of one crew's stops that drives least while keeping every promised window;
  estimated arrival at each. If the optimiser cannot keep every promise (it should always can: each
  was checked when fixed), the stops stay in window order and the route says so.
- `plan_batch`: every waiting request placed on a crew's day within the next working days, grouped
  by area to drive less. A vehicle is one crew on one day; visits already fixed are pinned to theirs.
  No one is left behind: a request may only go on a day within its wait bound (N working days after
  it came); its priority grows with the crew time it needs, so a far household is not the first to
  give way when days are full; one that has waited past the bound comes first, whatever its
  district, on one of the plan's first OVERDUE_WITHIN_DAYS days. Requests that do not fit are listed
  with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.scheduling.routes import CachedTravel, Day, RouteStop, Timeline
from shared.municipality import Place

MINUTES_PER_DAY = 24 * 60
Solve = Callable[[dict[str, Any]], dict[str, Any]]


class Locations:
    """Location indices for the optimiser: 0 is the depot."""

    def __init__(self, depot: Place) -> None:
        self.places: list[Place] = [depot]
        self.index: dict[Place, int] = {depot: 0}

    def of(self, place: Place) -> int:
        if place not in self.index:
            self.index[place] = len(self.places)
            self.places.append(place)
        return self.index[place]

    def matrix(self, travel: CachedTravel) -> list[list[int]]:
        return [[travel.minutes(a, b) for b in self.places] for a in self.places]


# --- one crew's day ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoutedStop:
    stop: RouteStop
    drive_minutes: int  # from the previous stop (or the depot)
    arrive: int
    start: int  # the visit begins (after waiting for the window, or lunch)

    @property
    def end(self) -> int:
        return self.start + self.stop.duration


@dataclass(frozen=True)
class DayRoute:
    stops: list[RoutedStop]
    back_at_depot: int | None
    drive_minutes: int
    optimised: bool  # False: the optimiser could not keep every promise; stops in window order


def _timed(ordered: Sequence[RouteStop], day: Day, depot: Place, travel: CachedTravel, optimised: bool) -> DayRoute:
    """Times along a given order: each visit as early as its window allows, the crew setting off
    from the previous place only as late as it can to be there at that moment."""
    timeline = Timeline(ordered, day, depot, travel)
    routed, place, free = [], depot, day.start
    for index, stop in enumerate(ordered):
        drive = travel.minutes(place, stop.place)
        start = timeline.starts[index] if timeline.feasible else max(free + drive, stop.window_start)
        depart = max(free, start - drive)
        routed.append(RoutedStop(stop, drive, depart + drive, start))
        place, free = stop.place, start + stop.duration
    if not routed:
        return DayRoute([], None, 0, optimised)
    back = free + travel.minutes(place, depot)
    return DayRoute(routed, back, timeline.drive_minutes(), optimised and timeline.feasible)


def route_day(stops: Sequence[RouteStop], day: Day, depot: Place, travel: CachedTravel, solve: Solve) -> DayRoute:
    by_window = sorted(stops, key=lambda s: s.window_start)
    if len(stops) < 2:
        return _timed(by_window, day, depot, travel, optimised=True)
    locations = Locations(depot)
    jobs = []
    for number, stop in enumerate(stops, start=1):
        windows = day.allowed_starts(stop.window_start, stop.window_end, stop.duration)
        if not windows:
            return _timed(by_window, day, depot, travel, optimised=False)
        jobs.append(
            {"id": number, "location": locations.of(stop.place), "service": stop.duration, "time_windows": windows}
        )
    problem = {
        "matrix": locations.matrix(travel),
        "vehicles": [{"id": 1, "time_window": [day.start, day.end]}],
        "jobs": jobs,
        "exploration": 5,
    }
    solution = solve(problem)
    if solution.get("unassigned") or not solution.get("routes"):
        return _timed(by_window, day, depot, travel, optimised=False)
    order = [stops[step["id"] - 1] for step in solution["routes"][0]["steps"] if step["type"] == "job"]
    return _timed(order, day, depot, travel, optimised=True)


# --- a campaign: many requests over many days -------------------------------------------------------


@dataclass(frozen=True)
class Request:
    visit_id: str
    place: Place
    duration: int
    waited_days: int  # working days since it came, as of the plan's first day
    deadline_index: int | None  # the last day index of the plan it may go on (None: beyond the plan)
    preferred: tuple[tuple[int, str], ...] = ()  # (day index, "am" | "pm" | "any") within the plan
    release_index: int = 0  # the first day index it may go on (a request not yet made: benchmarks)

    def overdue(self, wait_bound: int) -> bool:
        return self.waited_days >= wait_bound


@dataclass(frozen=True)
class Proposal:
    visit_id: str
    crew_id: str
    day_index: int
    window_start: int
    estimated_start: int


@dataclass
class Plan:
    proposals: list[Proposal] = field(default_factory=list)
    unplanned: dict[str, str] = field(default_factory=dict)  # visit id -> reason code
    drive_minutes: int = 0
    routes: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (crew, day index) -> visit ids


PRIORITY_OVERDUE = 100
# A request past its wait bound may only go on the plan's first days: within a rolling plan, later
# days are not fixed yet, and far visits put there to be grouped were pushed back plan after plan.
OVERDUE_WITHIN_DAYS = 5


def priority_of(
    request: Request, wait_bound: int, travel: CachedTravel, depot: Place, any_overdue: bool = False
) -> int:
    """Priority grows with the crew time the visit takes, its drive from the depot and back
    included. The optimiser maximises priority before it minimises driving. With equal priorities
    it serves two near households instead of one far one whenever the days are full. Priorities in
    full proportion to crew time tip it the other way. The campaign instance (docs/benchmarks.md)
    gave, for the largest share of one district's requests left unplanned: equal 0.44,
    proportional 0.36, half-way (30 + crew/6, this) 0.25, with the most people served.
    When the batch holds a request at or past its wait bound, that one comes before any other:
    overdue 60 + crew/7 (69-99), the others halved (20-38), so one overdue request outweighs
    two others. A flat overdue priority let near ones take the first days and left far ones out
    (scale instance, rolling: 21 % of far requests unplanned against 16 % of near ones)."""
    crew_minutes = request.duration + travel.minutes(depot, request.place) + travel.minutes(request.place, depot)
    if request.overdue(wait_bound):
        return min(PRIORITY_OVERDUE, 60 + round(crew_minutes / 7))
    priority = 30 + crew_minutes / 6
    return max(1, min(PRIORITY_OVERDUE - 1, round(priority / 2 if any_overdue else priority)))


def _request_windows(request: Request, days: int, day: Day) -> list[tuple[int, int]]:
    last_index = days - 1 if request.deadline_index is None else min(days - 1, request.deadline_index)
    first_index = request.release_index
    wanted = [(index, period) for index, period in request.preferred if first_index <= index <= last_index]
    allowed = wanted or [(index, "any") for index in range(first_index, last_index + 1)]
    windows = []
    for index, period in allowed:
        first = day.start if period in ("am", "any") else day.lunch_end
        last = day.end - request.duration if period in ("pm", "any") else day.lunch_start - 1
        base = index * MINUTES_PER_DAY
        windows += [(base + a, base + b) for a, b in day.allowed_starts(first, last, request.duration)]
    return sorted(windows)


# Using a crew-day costs this many drive-minute equivalents per day index: of two plans that
# drive alike, the one that visits sooner wins, without trading real driving for much waiting.
LATER_DAY_COST = 1


@dataclass(frozen=True)
class Fleet:
    """What a batch plan works with: the crews over the plan's working days, what is fixed on them,
    and how to solve."""

    crews: Sequence[str]
    days: int
    day: Day
    depot: Place
    travel: CachedTravel
    step_minutes: int
    wait_bound: int
    solve: Solve
    fixed: dict[tuple[str, int], Sequence[RouteStop]] = field(default_factory=dict)
    crew_off: frozenset[tuple[str, int]] = frozenset()  # (crew, day index): a day off, the car away
    exploration: int | None = None  # VROOM's search depth; None: by size (see AUTO_EXPLORATION)
    timeout_seconds: float | None = None


# Measured on the scale instance, 2,000 requests over 60 days with 8 crews, planned 20 days at a
# time: exploration 2 took 472 s in all and exploration 0 took 67 s, with the same drive (+/-1 %)
# and as many people served. On the campaign (150 requests), 2 is as good as 3 at 1 s.
AUTO_EXPLORATION = ((300, 2), (None, 0))  # (up to this many jobs, exploration)


def exploration_for(jobs: int) -> int:
    return next(level for limit, level in AUTO_EXPLORATION if limit is None or jobs <= limit)


def plan_batch(requests: Sequence[Request], fleet: Fleet) -> Plan:
    """Preferred days are asked for first; a request whose preferred half-days have no room is
    planned again without them in a second solve, rather than left out."""
    plan = _plan_once(requests, fleet)
    missed = set(plan.unplanned)
    if any(r.preferred and r.visit_id in missed for r in requests):
        relaxed = [Request(**{**r.__dict__, "preferred": ()}) if r.visit_id in missed else r for r in requests]
        plan = _plan_once(relaxed, fleet)
    return plan


Jobs = dict[int, tuple[str, "RouteStop | Request"]]  # VROOM job id -> ("fixed" | "request", what it is)


def _plan_once(requests: Sequence[Request], fleet: Fleet) -> Plan:
    """One solve: the fleet's crew-days as vehicles, the promises already made and the waiting
    requests as jobs; the solution read back as proposals and what stays unplanned."""
    locations = Locations(fleet.depot)
    vehicles, vehicle_of = _vehicles(fleet)
    jobs, job_of = _fixed_jobs(fleet, vehicle_of, locations)
    plan = Plan()
    jobs += _request_jobs(requests, fleet, locations, job_of, plan)
    if not jobs:
        return plan
    problem = {
        "matrix": locations.matrix(fleet.travel),
        "vehicles": vehicles,
        "jobs": jobs,
        "exploration": exploration_for(len(jobs)) if fleet.exploration is None else fleet.exploration,
        "timeout_seconds": fleet.timeout_seconds,
        "threads": 2,
    }
    _read_solution(fleet.solve(problem), fleet, vehicle_of, job_of, plan)
    return plan


def _vehicles(fleet: Fleet) -> tuple[list[dict], dict[int, tuple[str, int]]]:
    """One vehicle per crew and working day it goes out, on one long time axis (a day per
    MINUTES_PER_DAY); later days cost a little more, so the work comes forward."""
    vehicles, vehicle_of = [], {}
    for day_index in range(fleet.days):
        base = day_index * MINUTES_PER_DAY
        for crew in fleet.crews:
            if (crew, day_index) in fleet.crew_off:
                continue  # a day off or the car in maintenance: no vehicle that day
            number = len(vehicles) + 1
            vehicle_of[number] = (crew, day_index)
            vehicles.append(
                {
                    "id": number,
                    "time_window": [base + fleet.day.start, base + fleet.day.end],
                    "skills": [number],
                    "fixed_cost": LATER_DAY_COST * day_index,
                }
            )
    return vehicles, vehicle_of


def _fixed_jobs(fleet: Fleet, vehicle_of: dict[int, tuple[str, int]], locations: Locations) -> tuple[list, Jobs]:
    """The promises already made: each stays on its crew's day (a skill only that vehicle has)."""
    jobs, job_of = [], {}
    for number, (crew, day_index) in vehicle_of.items():
        base = day_index * MINUTES_PER_DAY
        for stop in fleet.fixed.get((crew, day_index), ()):
            job_id = len(job_of) + 1
            job_of[job_id] = ("fixed", stop)
            windows = fleet.day.allowed_starts(stop.window_start, stop.window_end, stop.duration)
            jobs.append(
                {
                    "id": job_id,
                    "location": locations.of(stop.place),
                    "service": stop.duration,
                    "time_windows": [(base + a, base + b) for a, b in windows],
                    "skills": [number],
                    "priority": PRIORITY_OVERDUE,
                }
            )
    return jobs, job_of


def _request_jobs(
    requests: Sequence[Request], fleet: Fleet, locations: Locations, job_of: Jobs, plan: Plan
) -> list[dict]:
    """The waiting requests as jobs with their allowed windows and priorities; a request with no
    working time in the horizon is unplanned at once."""
    jobs = []
    any_overdue = any(r.overdue(fleet.wait_bound) for r in requests)
    for request in requests:
        last = min(fleet.days, OVERDUE_WITHIN_DAYS) if request.overdue(fleet.wait_bound) else fleet.days
        windows = _request_windows(request, last, fleet.day)
        if not windows:
            plan.unplanned[request.visit_id] = "no_working_time_in_horizon"
            continue
        job_id = len(job_of) + 1
        job_of[job_id] = ("request", request)
        jobs.append(
            {
                "id": job_id,
                "location": locations.of(request.place),
                "service": request.duration,
                "time_windows": windows,
                "priority": priority_of(request, fleet.wait_bound, fleet.travel, fleet.depot, any_overdue),
            }
        )
    return jobs


def _read_solution(
    solution: dict, fleet: Fleet, vehicle_of: dict[int, tuple[str, int]], job_of: Jobs, plan: Plan
) -> None:
    """Each route as proposals (window starts on the slot grid) and its drive minutes; each job left
    out as unplanned, with why."""
    travel, depot = fleet.travel, fleet.depot
    for route in solution.get("routes", []):
        crew, day_index = vehicle_of[route["vehicle"]]
        visit_ids = []
        place = depot
        for step in route["steps"]:
            if step["type"] != "job":
                continue
            kind, item = job_of[step["id"]]
            plan.drive_minutes += travel.minutes(place, item.place)
            place = item.place
            visit_ids.append(item.visit_id)
            if kind == "request":
                start = step["arrival"] + step["waiting_time"] - day_index * MINUTES_PER_DAY
                window_start = start - (start % fleet.step_minutes)
                plan.proposals.append(Proposal(item.visit_id, crew, day_index, window_start, start))
        if visit_ids:
            plan.drive_minutes += travel.minutes(place, depot)
            plan.routes[(crew, day_index)] = visit_ids
    for missing in solution.get("unassigned", []):
        kind, item = job_of[missing["id"]]
        if kind == "request":
            bounded = item.deadline_index is not None
            plan.unplanned[item.visit_id] = "no_room_within_wait_bound" if bounded else "no_room_in_horizon"
        else:  # a promise the optimiser could not keep: never moved silently, reported instead
            plan.unplanned[item.visit_id] = "fixed_visit_not_routable"
