"""Day routes and batch plans, as routing problems for the optimiser (services.scheduling.solver).

- `route_day`: the order of one crew's stops that drives least while keeping every promised window;
  estimated arrival at each. If the optimiser cannot keep every promise (it should always can: each
  was checked when fixed), the stops stay in window order and the route says so.
- `plan_batch`: every waiting request placed on a crew's day within the next working days, grouped
  by area to drive less. A vehicle is one crew on one day; visits already fixed are pinned to theirs.
  No one is left behind (ADR 21): a request may only go on a day within its wait bound, and first
  within its wait target; older requests come first whatever the district, and when requests are
  left out a fairness pass evens the share each district loses; a request past its bound, or whose
  bound falls within the plan's first 2 x COMMIT_DAYS days, goes on the first COMMIT_DAYS days or
  is named at risk. Requests that do not fit are listed with the reason.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Container, Mapping, Sequence
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
    target_index: int | None = None  # the last day index within the wait target (None: no narrower than the bound)
    district: str = ""  # for the fairness pass; "" takes no part in it
    lifted: bool = False  # raised by the fairness pass: its district was left out more than the others

    def overdue(self, wait_bound: int) -> bool:
        """Past its bound even on the plan's first day (a visit on day index i waits `waited_days + i`)."""
        return self.waited_days > wait_bound

    @property
    def narrowed(self) -> bool:
        """Asked for fewer days than its bound allows: a wish, or a wait target short of the bound."""
        return bool(self.preferred) or (self.target_index is not None and self.target_index != self.deadline_index)

    def due_soon(self, wait_bound: int) -> bool:
        """Overdue, or its bound falls before the plan's day 2 x COMMIT_DAYS: the next plan would
        be too late to say it will be missed, so it goes on the first COMMIT_DAYS or is named now."""
        return self.overdue(wait_bound) or (self.deadline_index is not None and self.deadline_index < 2 * COMMIT_DAYS)


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
    at_risk: dict[str, str] = field(default_factory=dict)  # visit id -> why it may be visited past its bound
    drive_minutes: int = 0
    routes: dict[tuple[str, int], list[str]] = field(default_factory=dict)  # (crew, day index) -> visit ids
    # The requests as this plan's solve saw them (wishes relaxed, fairness lifts): what a reference
    # run re-solves to judge the search (tests/bench/scheduling.py).
    solved: list[Request] = field(default_factory=list)


PRIORITY_OVERDUE = 100
# Plans are made every few working days and their first days fixed by phone (the bench's rolling
# use: every 5). A request past its wait bound may only go on those first days: later days are not
# fixed yet, and far visits put there to be grouped were pushed back plan after plan.
COMMIT_DAYS = 5
# A request that will be visited past its bound is said so at least this many working days before.
WARN_DAYS = 5


def last_index_within(waited: int, bound: int, days: int) -> int | None:
    """The last day index of a `days`-day plan on which a request keeps within `bound` working
    days, when a visit on day index i would have waited `waited + i`. None when the whole plan
    does, or when it is already overdue (then it comes first on the plan's first days instead)."""
    last = bound - waited
    return None if last >= days or waited > bound else last


def priority_of(request: Request, wait_bound: int, any_overdue: bool = False) -> int:
    """Older requests first, whatever the district: the optimiser maximises priority before it
    minimises driving, and priority grows with the working days waited (10 + 2 a day, to 50), so
    one request waiting 10 days outweighs two new ones. A request the fairness pass lifts (its
    district was left out more than the others) gets 40 more. Overdue: 95, lifted 100; when the
    batch holds an overdue request the others are halved, so one overdue outweighs two others.
    Crew time no longer counts: it made the near districts give way over capacity (issue 17)."""
    if request.overdue(wait_bound):
        return PRIORITY_OVERDUE if request.lifted else PRIORITY_OVERDUE - 5
    priority = 10 + 2 * min(request.waited_days, 20) + (40 if request.lifted else 0)
    return max(1, round(priority / 2 if any_overdue else priority))


def request_windows(request: Request, days: int, day: Day) -> list[tuple[int, int]]:
    last_index = days - 1
    for limit in (request.deadline_index, request.target_index):
        last_index = last_index if limit is None else min(last_index, limit)
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
    window_minutes: int = 30  # a promised window's length
    # Requests served lately per district (the fairness pass adds them to what each asked).
    served: Mapping[str, int] = field(default_factory=dict)
    exploration: int | None = None  # VROOM's search depth; None: by size (see AUTO_EXPLORATION)
    timeout_seconds: float | None = None


# Measured on the scale instance, 2,000 requests over 60 days with 8 crews, planned 20 days at a
# time: exploration 2 took 472 s in all and exploration 0 took 67 s, with the same drive (+/-1 %)
# and as many people served. On the campaign (150 requests), 2 is as good as 3 at 1 s.
AUTO_EXPLORATION = ((300, 2), (None, 0))  # (up to this many jobs, exploration)


def exploration_for(jobs: int) -> int:
    return next(level for limit, level in AUTO_EXPLORATION if limit is None or jobs <= limit)


def plan_batch(requests: Sequence[Request], fleet: Fleet) -> Plan:
    """Preferred days and the wait target are asked for first; a request that finds no room there
    is planned again without them in a second solve, rather than left out. When requests are left
    out, the fairness pass evens the share left out between districts; then each request that
    will not make its bound is named, with why."""
    plan = plan_once(requests, fleet)
    for _ in range(RELAX_ROUNDS):  # a relaxed request may push out another that had a wish or a target
        missed = {r.visit_id for r in requests if r.visit_id in plan.unplanned and r.narrowed}
        if not missed:
            break
        requests = [_relaxed(r) if r.visit_id in missed else r for r in requests]
        relaxed = plan_once(requests, fleet)
        fewer_left_out = len(relaxed.unplanned) < len(plan.unplanned)
        plan = relaxed
        if not fewer_left_out:  # over capacity: the days are full whatever the wishes
            break
    plan = _fair(requests, fleet, plan)
    _fill_in(plan, fleet)
    plan.at_risk = at_risk(plan, fleet.wait_bound)
    return plan


def _fill_in(plan: Plan, fleet: Fleet) -> None:
    """Requests the solve left out that still fit, as the plan stands, on a day within their bound:
    each placed where it adds least driving, the oldest first. The search can leave a gap (a chain
    of relaxed wishes pushing one request out after another on a full week); the offers' own check
    (Timeline.openings) finds it."""
    by_id = {r.visit_id: r for r in plan.solved}
    room = left_for_room(plan)
    left_out = [by_id[visit_id] for visit_id in plan.unplanned if visit_id in room]
    if not left_out:
        return
    days: dict[tuple[str, int], list[RouteStop]] = {key: list(stops) for key, stops in fleet.fixed.items()}
    for proposal in plan.proposals:
        request = by_id[proposal.visit_id]
        start = proposal.window_start
        days.setdefault((proposal.crew_id, proposal.day_index), []).append(
            RouteStop(request.visit_id, request.place, start, start + fleet.window_minutes, request.duration)
        )
    for request in sorted(left_out, key=lambda r: -r.waited_days):
        best = None
        for day_index in _allowed_days(request, fleet):
            for crew in fleet.crews:
                if (crew, day_index) in fleet.crew_off:
                    continue
                stops = sorted(days.get((crew, day_index), []), key=lambda s: s.window_start)
                timeline = Timeline(stops, fleet.day, fleet.depot, fleet.travel)
                for window_start, start, added in timeline.openings(
                    request.place, request.duration, fleet.window_minutes, fleet.step_minutes, fleet.day.start
                ):
                    if best is None or (added, day_index) < best[0]:
                        best = ((added, day_index), crew, day_index, window_start, start)
        if best is None:
            continue
        (added, _), crew, day_index, window_start, start = best
        days.setdefault((crew, day_index), []).append(
            RouteStop(
                request.visit_id, request.place, window_start, window_start + fleet.window_minutes, request.duration
            )
        )
        plan.proposals.append(Proposal(request.visit_id, crew, day_index, window_start, start))
        plan.drive_minutes += added
        del plan.unplanned[request.visit_id]
        ordered = sorted(days[(crew, day_index)], key=lambda s: s.window_start)
        plan.routes[(crew, day_index)] = [s.visit_id for s in ordered]


def _open_days(request: Request, fleet: Fleet) -> int:
    """How many of the plan's days a request may use: only the first COMMIT_DAYS when due soon."""
    return min(fleet.days, COMMIT_DAYS) if request.due_soon(fleet.wait_bound) else fleet.days


def _allowed_days(request: Request, fleet: Fleet) -> list[int]:
    """The day indices a request may go on, its wishes and target set aside (as relaxed)."""
    windows = request_windows(_relaxed(request), _open_days(request, fleet), fleet.day)
    return sorted({start // MINUTES_PER_DAY for start, _ in windows})


RELAX_ROUNDS = 3
# The fairness pass: no district's share left unplanned may exceed the overall share by more than
# this (the issue allows 10 points; 5 leaves room for the next plan's arrivals).
FAIR_MARGIN = 0.05
FAIR_ROUNDS = 3
ROOM_REASONS = ("no_room_within_wait_bound", "no_room_in_horizon")


def left_for_room(plan: Plan) -> set[str]:
    """The requests left out for lack of room (not for having no working day at all)."""
    return {visit_id for visit_id, reason in plan.unplanned.items() if reason in ROOM_REASONS}


def unfair_shortfall(
    requests: Sequence[Request], unplanned: Container[str], served: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Per district left out more than the overall share + FAIR_MARGIN: how many of its requests
    would bring it back to the overall share. `served`: requests of each district served lately,
    counted as asked and not left out, so that plan after plan the shares add up fairly too."""
    served = served or {}
    asked: dict[str, list[Request]] = {}
    for request in requests:
        if request.district:
            asked.setdefault(request.district, []).append(request)
    out = {d: sum(r.visit_id in unplanned for r in group) for d, group in asked.items()}
    total = sum(len(group) for group in asked.values()) + sum(served.values())
    overall = sum(out.values()) / total if total else 0.0
    shortfall = {}
    for district, group in asked.items():
        count = len(group) + served.get(district, 0)
        if out[district] / count > overall + FAIR_MARGIN:
            shortfall[district] = math.ceil(out[district] - overall * count)
    return shortfall


def _fair(requests: Sequence[Request], fleet: Fleet, plan: Plan) -> Plan:
    """Lift the oldest left-out requests of each district left out more than the others, and plan
    again, lifts adding up over FAIR_ROUNDS rounds; keep the fairest plan (then the one leaving out
    fewest). Over capacity, the optimiser would otherwise leave out whichever district costs more
    crew time per person."""

    def unfairness(candidate: Plan, asked: Sequence[Request]) -> tuple[dict[str, int], tuple[int, int]]:
        shortfall = unfair_shortfall(asked, left_for_room(candidate), fleet.served)
        return shortfall, (sum(shortfall.values()), len(candidate.unplanned))

    shortfall, best_score = unfairness(plan, requests)
    best = plan
    for _ in range(FAIR_ROUNDS):
        if not shortfall:
            break
        left_out = left_for_room(plan)
        lift: set[str] = set()
        for district, count in shortfall.items():
            oldest = sorted(
                (r for r in requests if r.district == district and r.visit_id in left_out and not r.lifted),
                key=lambda r: -r.waited_days,
            )
            lift |= {r.visit_id for r in oldest[:count]}
        if not lift:
            break
        requests = [dataclasses.replace(r, lifted=True) if r.visit_id in lift else r for r in requests]
        plan = plan_once(requests, fleet)
        shortfall, score = unfairness(plan, requests)
        if score < best_score:
            best, best_score = plan, score
    return best


def at_risk(plan: Plan, wait_bound: int) -> dict[str, str]:
    """The requests this plan says will be visited past their bound, with why: left out although
    their bound falls within the plan (no room: over capacity), already past it and still not
    planned, or no working time at all before it. The bound's last day is at least WARN_DAYS away
    for a request first named by a plan made every COMMIT_DAYS (the bench's rolling check)."""
    named = {}
    for request in plan.solved:
        reason = plan.unplanned.get(request.visit_id)
        if reason is None:
            continue
        if request.overdue(wait_bound):
            named[request.visit_id] = "overdue_no_room"
        elif request.deadline_index is not None:
            named[request.visit_id] = "no_working_time" if reason == "no_working_time_in_horizon" else "over_capacity"
    return named


def _relaxed(request: Request) -> Request:
    """The request without its wishes and wait target: any day within its bound."""
    return dataclasses.replace(request, preferred=(), target_index=None)


Jobs = dict[int, tuple[str, "RouteStop | Request"]]  # VROOM job id -> ("fixed" | "request", what it is)


def plan_once(requests: Sequence[Request], fleet: Fleet) -> Plan:
    """One solve: the fleet's crew-days as vehicles, the promises already made and the waiting
    requests as jobs; the solution read back as proposals and what stays unplanned."""
    locations = Locations(fleet.depot)
    vehicles, vehicle_of = _vehicles(fleet)
    jobs, job_of = _fixed_jobs(fleet, vehicle_of, locations)
    plan = Plan(solved=list(requests))
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
        windows = request_windows(request, _open_days(request, fleet), fleet.day)
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
                "priority": priority_of(request, fleet.wait_bound, any_overdue),
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
