"""`make bench` (scheduling): how well and how fast scheduling plans, against first-come-first-served.

Instances are generated with fixed seeds from a town's own municipality file (its districts, depot,
hours, lunch, drive times and wait bound), household sizes around 3, some residents with a
preferred day and half:
- month: Miyakonojo, about 70 requests arriving over 20 working days, 1 crew;
- campaign: Miyakonojo, 150 requests known at the start, 20 working days, 2 crews (near capacity);
- valley: another town from its own file (tests/bench/towns/valley.yaml: a long mountain valley,
  the office at its mouth, 09:00-16:30 with lunch at 11:45, a partial drive-time matrix, a wait
  bound of 15), 60 requests arriving over 20 working days, 1 crew;
- far-heavy: Miyakonojo with three requests in four from the far districts, 120 known at the start,
  20 days, 2 crews;
- over capacity: Miyakonojo, 250 requests known at the start, 20 working days, 2 crews;
- scale: 2,000 requests arriving over 40 of 60 working days, 8 crews.
The far districts are those at least half as far from the depot as the farthest, by drive time.

Methods, each on the same instance in one run:
- fcfs: each request in arrival order takes the earliest feasible window (a paper calendar);
- ours: one batch plan over the whole horizon with the town's wait target and bound (not on scale);
- ours, rolling: every 5 (and, where requests arrive over time, every 2) working days a 20-day
  plan of the requests made so far, its first 5 (2) days fixed (how the service is used: POST
  /api/v1/plans, then phone and fix); each plan's list of requests at risk of their bound is
  kept, to check that a request served late was said so at least 5 working days before;
- reference: the very model ours solved last (wishes relaxed, fairness lifts) solved again at
  VROOM's deepest search (exploration 5) for up to 60 s: ours should drive within 5 % of it;
- OR-tools (not on scale): the same model in OR-tools' routing solver with guided local search.
Every result is checked by one evaluator: each crew-day re-timed with routes.Timeline (every promise
kept), then drive minutes, people served per crew-day, unplanned requests in all and per district,
waits (median, 90th percentile, longest), requests served past the bound.

The wait curve: for the month and the campaign, ours at wait targets of 5, 10, 15 and 20 working
days (the month also planned every 2 and every 5 days), drive against the median and
90th-percentile wait; the default target is chosen from it.

Offers: 1,000 visits fixed over 60 working days across 5 crews, then `planning.suggest` timed for
300 new requests (p50, p99).

    python -m tests.bench.scheduling [--quick]    # --quick: no 60 s runs, no scale instance
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import json
import math
import os
import random
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from deploy.local.stack import ROOT
from services.scheduling import optimiser, planning, routes, solver
from services.scheduling.travel import default_model, household_of
from shared import municipality, workcalendar
from shared.municipality import Crew, Municipality

TOWNS = Path(__file__).with_name("towns")
RESULTS = ROOT / "var" / "bench-scheduling.json"


class Town:
    """One municipality's file, as the service reads it: its day, its drive times, its households."""

    def __init__(self, city: Municipality) -> None:
        self.city = city
        self.day = routes.day_of(city)
        self.travel = routes.CachedTravel(default_model(city))
        self.window, self.step = city.visits.window_minutes, city.visits.slot_step_minutes
        self.wait_bound = city.visits.max_wait_working_days
        self.wait_target = city.visits.wait_target
        self._households: dict[tuple[str, str], Any] = {}

    def household(self, district: str, visit_id: str):
        """One place object per household, as the service makes them (drive times are cached by identity)."""
        key = (district, visit_id)
        if key not in self._households:
            self._households[key] = household_of(self.city.district(district), visit_id)
        return self._households[key]

    @functools.cached_property
    def far_districts(self) -> tuple[str, ...]:
        """The districts at least half as far from the depot as the farthest one, by drive time (for
        Miyakonojo: Shonai, Takajo, Yamanokuchi, Nishidake, Takazaki and Yamada; for another town, its own)."""
        minutes = {d.id: self.travel.minutes(self.city.depot, d) for d in self.city.districts}
        return tuple(sorted(d for d, m in minutes.items() if m >= max(minutes.values()) / 2))


@functools.cache
def town(name: str = "miyakonojo") -> Town:
    path = None if name == "miyakonojo" else TOWNS / f"{name}.yaml"
    return Town(municipality.load(path))


@dataclass(frozen=True)
class Ask:
    id: str
    district: str
    persons: int
    release: int  # first day index it may be visited (the day after it came)
    waited_before: int  # working days it had waited before day 0
    preferred: tuple[tuple[int, str], ...]
    town: Town = field(compare=False, repr=False)

    @property
    def duration(self) -> int:
        return self.town.city.visits.duration_minutes(self.persons)

    @property
    def place(self):
        """A household of its own at its district's centre (the service's drive rule)."""
        return self.town.household(self.district, self.id)

    def wait_on(self, day_index: int) -> int:
        """Working days from its arrival to a visit on that day."""
        return self.waited_before + day_index - self.release + 1


@dataclass
class Instance:
    name: str
    town: Town
    crews: list[str]
    days: int
    asks: list[Ask]


def generate(
    name: str,
    count: int,
    days: int,
    crews: int,
    arrive_over: int,
    seed: int,
    where: Town | None = None,
    far_share: float | None = None,
) -> Instance:
    """`far_share`: the share of requests from the far districts (None: every district alike)."""
    where = where or town()
    rng = random.Random(seed)
    districts = [d.id for d in where.city.districts]
    far = list(where.far_districts)
    near = [d for d in districts if d not in far]
    asks = []
    for number in range(count):
        arrival = rng.randrange(arrive_over) if arrive_over else -1
        release = arrival + 1
        preferred: tuple[tuple[int, str], ...] = ()
        if rng.random() < 0.3:
            preferred = ((min(days - 1, release + rng.randrange(10)), rng.choice(("am", "pm", "any"))),)
        district = rng.choice(districts) if far_share is None else rng.choice(far if rng.random() < far_share else near)
        asks.append(
            Ask(
                id=f"{name}-{number:04d}",
                district=district,
                persons=rng.choice((1, 2, 2, 3, 3, 3, 3, 4, 4, 5)),
                release=release if arrive_over else 0,
                waited_before=0 if arrive_over else rng.randrange(10),
                preferred=preferred,
                town=where,
            )
        )
    asks.sort(key=lambda a: (a.release, a.id))
    return Instance(name, where, [f"crew-{i + 1}" for i in range(crews)], days, asks)


# --- methods: each returns {ask id: (crew, day index, window start)} --------------------------------

Placed = dict[str, tuple[str, int, int]]


def fcfs(instance: Instance) -> Placed:
    where = instance.town
    stops: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    placed = {}
    for ask in instance.asks:
        found = None
        for day_index in range(ask.release, instance.days):
            for crew in instance.crews:
                timeline = routes.Timeline(stops[(crew, day_index)], where.day, where.city.depot, where.travel)
                for window_start in range(where.day.start, where.day.end - ask.duration + 1, where.step):
                    if timeline.insertion(ask.place, window_start, window_start + where.window, ask.duration):
                        found = (crew, day_index, window_start)
                        break
                if found:
                    break
            if found:
                break
        if found:
            crew, day_index, window_start = found
            stops[(crew, day_index)].append(
                routes.RouteStop(ask.id, ask.place, window_start, window_start + where.window, ask.duration)
            )
            stops[(crew, day_index)].sort(key=lambda s: s.window_start)
            placed[ask.id] = found
    return placed


def requests_of(
    instance: Instance,
    first: int = 0,
    days: int | None = None,
    made_only: bool = False,
    skip: Container = (),
    wait_target: int | None = None,
) -> list[optimiser.Request]:
    """The requests as a plan starting on day `first` sees them, its days counted from there, as
    campaign.requests_waiting makes them in the service. `made_only`: leave out requests not made
    yet (a rolling plan only knows what has come in)."""
    where = instance.town
    days = instance.days - first if days is None else days
    target = where.wait_target if wait_target is None else wait_target
    made = []
    for ask in instance.asks:
        if ask.id in skip or (made_only and ask.release > first):
            continue
        waited = ask.wait_on(first)  # a visit on the plan's day index i would have waited `waited + i`
        made.append(
            optimiser.Request(
                visit_id=ask.id,
                place=ask.place,
                duration=ask.duration,
                waited_days=max(0, waited),
                deadline_index=optimiser.last_index_within(waited, where.wait_bound, days),
                target_index=optimiser.last_index_within(waited, target, days),
                preferred=tuple((d - first, p) for d, p in ask.preferred if first <= d < first + days),
                release_index=max(0, ask.release - first),
                district=ask.district,
            )
        )
    return made


def fleet_of(instance: Instance, days: int, fixed: dict | None = None, **solving: Any) -> optimiser.Fleet:
    where = instance.town
    return optimiser.Fleet(
        crews=instance.crews,
        days=days,
        day=where.day,
        depot=where.city.depot,
        travel=where.travel,
        step_minutes=where.step,
        window_minutes=where.window,
        wait_bound=where.wait_bound,
        solve=solver.solve,
        fixed=fixed or {},
        **solving,
    )


def ours(
    instance: Instance, exploration: int | None = None, timeout: float | None = None, wait_target: int | None = None
) -> Placed:
    fleet = fleet_of(instance, instance.days, exploration=exploration, timeout_seconds=timeout)
    plan = optimiser.plan_batch(requests_of(instance, wait_target=wait_target), fleet)
    return {p.visit_id: (p.crew_id, p.day_index, p.window_start) for p in plan.proposals}


def reference(instance: Instance, seconds: float = 60) -> Placed:
    """The reference: the very model ours solved last (its wishes relaxed, its fairness lifts),
    solved again at VROOM's deepest search (exploration 5) for up to `seconds`."""
    solved = optimiser.plan_batch(requests_of(instance), fleet_of(instance, instance.days)).solved
    fleet = fleet_of(instance, instance.days, exploration=5, timeout_seconds=seconds)
    plan = optimiser.plan_once(solved, fleet)
    return {p.visit_id: (p.crew_id, p.day_index, p.window_start) for p in plan.proposals}


@dataclass
class Rolling:
    """What rolling planning placed, and the first day each request was said to be at risk of its bound."""

    placed: Placed = field(default_factory=dict)
    said_at_risk: dict[str, int] = field(default_factory=dict)  # ask id -> day index of the first plan saying so
    plans: int = 0


def rolling(
    instance: Instance, window: int = 20, commit: int = optimiser.COMMIT_DAYS, wait_target: int | None = None
) -> Rolling:
    """The service as a city would use it: every `commit` working days, plan the next `window` days
    for every request made so far and not yet placed (POST /api/v1/plans), and fix what falls in
    the first `commit` days; later plans keep those as fixed visits."""
    where = instance.town
    result = Rolling()
    fixed: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    asks = {a.id: a for a in instance.asks}
    for first in range(0, instance.days, commit):
        days = min(window, instance.days - first)
        waiting = requests_of(instance, first, days, made_only=True, skip=result.placed, wait_target=wait_target)
        shifted = {(crew, d - first): stops for (crew, d), stops in fixed.items() if first <= d < first + days}
        # Served lately (within the bound), as the service counts the visits it fixed.
        lately = first - where.wait_bound
        served = Counter(asks[v].district for v, (_, day, _) in result.placed.items() if day >= lately)
        plan = optimiser.plan_batch(waiting, fleet_of(instance, days, shifted, served=served))
        result.plans += 1
        for visit_id in plan.at_risk:
            result.said_at_risk.setdefault(visit_id, first)
        for proposal in plan.proposals:
            if proposal.day_index < commit:
                day_index = first + proposal.day_index
                ask = asks[proposal.visit_id]
                result.placed[ask.id] = (proposal.crew_id, day_index, proposal.window_start)
                fixed[(proposal.crew_id, day_index)].append(
                    routes.RouteStop(
                        ask.id, ask.place, proposal.window_start, proposal.window_start + where.window, ask.duration
                    )
                )
    return result


def ortools(instance: Instance, seconds: int) -> Placed:
    """The same model for OR-tools' routing solver: a vehicle per crew-day, the allowed windows as
    the time dimension's ranges with the gaps removed, dropping a request penalised by priority."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    where = instance.town
    requests = requests_of(instance)
    vehicles = [(crew, d) for d in range(instance.days) for crew in instance.crews]
    places = [where.city.depot] + [r.place for r in requests]
    manager = pywrapcp.RoutingIndexManager(len(places), len(vehicles), 0)
    model = pywrapcp.RoutingModel(manager)
    service = [0] + [r.duration for r in requests]

    def drive(i: int, j: int) -> int:
        return where.travel.minutes(places[manager.IndexToNode(i)], places[manager.IndexToNode(j)])

    def busy(i: int, j: int) -> int:
        return drive(i, j) + service[manager.IndexToNode(i)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(drive))
    horizon = instance.days * optimiser.MINUTES_PER_DAY
    model.AddDimension(model.RegisterTransitCallback(busy), horizon, horizon, False, "time")
    time_dimension = model.GetDimensionOrDie("time")
    for number, (_, d) in enumerate(vehicles):
        base = d * optimiser.MINUTES_PER_DAY
        time_dimension.CumulVar(model.Start(number)).SetRange(base + where.day.start, base + where.day.end)
        time_dimension.CumulVar(model.End(number)).SetRange(base + where.day.start, base + where.day.end)
    for node, request in enumerate(requests, start=1):
        windows = optimiser.request_windows(request, instance.days, where.day)
        index = manager.NodeToIndex(node)
        cumul = time_dimension.CumulVar(index)
        if not windows:
            cumul.SetRange(0, 0)
            continue
        cumul.SetRange(windows[0][0], windows[-1][1])
        for (_, end), (start, _) in pairwise(windows):
            if start > end + 1:
                cumul.RemoveInterval(end + 1, start - 1)
        model.AddDisjunction([index], 100_000 + 1_000 * optimiser.priority_of(request, where.wait_bound))
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.seconds = seconds
    solution = model.SolveWithParameters(parameters)
    placed: Placed = {}
    if solution is None:
        return placed
    for number, (crew, d) in enumerate(vehicles):
        index = solution.Value(model.NextVar(model.Start(number)))
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            start = solution.Min(time_dimension.CumulVar(index)) - d * optimiser.MINUTES_PER_DAY
            placed[requests[node - 1].visit_id] = (crew, d, start - start % where.step)
            index = solution.Value(model.NextVar(index))
    return placed


# --- one evaluator for every method -----------------------------------------------------------------


def percentile(values: list[int], share: float) -> int:
    """The nearest-rank percentile (0 for no values)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)] if ordered else 0


@dataclass
class Score:
    drive_minutes: int = 0
    persons_served: int = 0
    crew_days_used: int = 0
    unplanned: int = 0
    broken_promises: int = 0
    waits: list[int] = field(default_factory=list)  # working days, an unplanned request to the horizon's end
    longest_wait: dict[str, int] = field(default_factory=dict)  # district -> working days
    unplanned_by_district: dict[str, tuple[int, int]] = field(default_factory=dict)  # district -> (left out, asked)
    past_bound: int = 0  # visited after the bound, or still waiting past it at the horizon's end
    past_bound_said_late: int = 0  # of those, not said to be at risk 5 working days before the bound
    unplanned_older_half: float = 0.0  # share left out of the half of requests that came first
    unplanned_younger_half: float = 0.0  # and of the half that came later
    far: tuple[str, ...] = ()
    seconds: float = 0.0

    def as_dict(self) -> dict:
        asked = sum(n for _, n in self.unplanned_by_district.values())
        overall = self.unplanned / asked if asked else 0.0
        shares = {d: round(out / n, 2) for d, (out, n) in sorted(self.unplanned_by_district.items())}
        far_out = sum(out for d, (out, _) in self.unplanned_by_district.items() if d in self.far)
        far_asked = sum(n for d, (_, n) in self.unplanned_by_district.items() if d in self.far)
        near_asked = asked - far_asked
        return {
            "drive_minutes": self.drive_minutes,
            "persons_per_crew_day": round(self.persons_served / max(1, self.crew_days_used), 2),
            "persons_served": self.persons_served,
            "crew_days_used": self.crew_days_used,
            "unplanned": self.unplanned,
            "unplanned_share": round(overall, 3),
            "unplanned_share_far": round(far_out / far_asked, 3) if far_asked else 0.0,
            "unplanned_share_near": round((self.unplanned - far_out) / near_asked, 3) if near_asked else 0.0,
            "fairness_gap": round(max((s - overall for s in shares.values()), default=0.0), 3),
            "unplanned_share_older_half": self.unplanned_older_half,
            "unplanned_share_younger_half": self.unplanned_younger_half,
            "broken_promises": self.broken_promises,
            "median_wait_days": statistics.median(self.waits) if self.waits else 0,
            "p90_wait_days": percentile(self.waits, 0.9),
            "longest_wait_days": max(self.longest_wait.values(), default=0),
            "longest_wait_far_districts": max((self.longest_wait.get(d, 0) for d in self.far), default=0),
            "past_bound": self.past_bound,
            "past_bound_said_late": self.past_bound_said_late,
            "unplanned_share_by_district": shares,
            "seconds": round(self.seconds, 3),
        }


def evaluate(instance: Instance, placed: Placed, seconds: float, said_at_risk: dict[str, int] | None = None) -> Score:
    """`said_at_risk`: rolling planning's first warning day per request; a request served past its
    bound must have one at least WARN_DAYS working days before the bound ran out."""
    where = instance.town
    score = Score(seconds=seconds, far=where.far_districts)
    by_day: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    asks = {a.id: a for a in instance.asks}
    for ask_id, (crew, d, window_start) in placed.items():
        ask = asks[ask_id]
        by_day[(crew, d)].append(
            routes.RouteStop(ask_id, ask.place, window_start, window_start + where.window, ask.duration)
        )
        score.persons_served += ask.persons
    for stops in by_day.values():
        timeline = routes.Timeline(
            sorted(stops, key=lambda s: s.window_start), where.day, where.city.depot, where.travel
        )
        score.broken_promises += 0 if timeline.feasible else 1
        score.drive_minutes += timeline.drive_minutes()
    score.crew_days_used = len(by_day)
    score.unplanned = len(instance.asks) - len(placed)
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for ask in instance.asks:
        day = placed[ask.id][1] if ask.id in placed else instance.days  # never placed: waits to the end
        wait = ask.wait_on(day)
        score.waits.append(wait)
        score.longest_wait[ask.district] = max(score.longest_wait.get(ask.district, 0), wait)
        counts[ask.district][0] += ask.id not in placed
        counts[ask.district][1] += 1
        if wait > where.wait_bound:
            score.past_bound += 1
            last_day = ask.release - 1 + where.wait_bound - ask.waited_before  # its bound's last day index
            said = (said_at_risk or {}).get(ask.id)
            score.past_bound_said_late += said is None or said > last_day - optimiser.WARN_DAYS
    score.unplanned_by_district = {d: (out, n) for d, (out, n) in counts.items()}
    by_arrival = sorted(instance.asks, key=lambda a: (a.release - a.waited_before, a.id))
    half = len(by_arrival) // 2
    for name, group in (("unplanned_older_half", by_arrival[:half]), ("unplanned_younger_half", by_arrival[half:])):
        setattr(score, name, round(sum(a.id not in placed for a in group) / max(1, len(group)), 3))
    return score


def timed(method, *args) -> tuple[Any, float]:
    started = time.perf_counter()
    result = method(*args)
    return result, time.perf_counter() - started


# --- offers while on the phone ----------------------------------------------------------------------


def offers(seed: int = 11, fixed: int = 1000, crews: int = 5, days: int = 60, asks: int = 300) -> dict:
    rng = random.Random(seed)
    where = town()
    city, day_rules, travel = where.city, where.day, where.travel
    first = dt.date(2027, 4, 1)
    horizon = []
    day = first
    while len(horizon) < days:
        if workcalendar.is_working_day(day, city.calendar):
            horizon.append(day)
        day += dt.timedelta(days=1)
    crew_ids = [f"crew-{i + 1}" for i in range(crews)]
    stops: dict[tuple[str, dt.date], list[routes.RouteStop]] = defaultdict(list)
    count, tries = 0, 0
    while count < fixed and tries < fixed * 20:
        tries += 1
        place, persons = where.household(rng.choice(city.districts).id, f"f{tries}"), rng.choice((1, 2, 3, 3, 4))
        duration = city.visits.duration_minutes(persons)
        key = (rng.choice(crew_ids), rng.choice(horizon))
        timeline = routes.Timeline(stops[key], day_rules, city.depot, travel)
        for window_start in range(day_rules.start, day_rules.end - duration + 1, where.step):  # as early as it fits
            if timeline.insertion(place, window_start, window_start + where.window, duration):
                stops[key].append(
                    routes.RouteStop(f"f{count}", place, window_start, window_start + where.window, duration)
                )
                stops[key].sort(key=lambda s: s.window_start)
                count += 1
                break
    city = dataclasses.replace(city, crews=tuple(Crew(id=c, name=c, car=c, staff=()) for c in crew_ids))
    not_before = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(12), city.timezone)
    latencies, without_offer = [], 0
    for _ in range(asks):
        preferred = []
        if rng.random() < 0.5:
            preferred = [{"date": rng.choice(horizon), "period": rng.choice(("am", "pm", "any"))}]
        started = time.perf_counter()
        found = planning.suggest(
            city=city,
            travel=default_model(city),
            place=where.household(rng.choice(city.districts).id, f"ask{len(latencies)}"),
            duration_minutes=city.visits.duration_minutes(rng.choice((1, 2, 3, 4, 5))),
            preferred=preferred,
            days=horizon,
            stops_by_crew_day=dict(stops),
            not_before=not_before,
            limit=10,
        )
        latencies.append((time.perf_counter() - started) * 1000)
        without_offer += not found
    latencies.sort()
    return {
        "visits_fixed": count,
        "crews": crews,
        "working_days": days,
        "asks": asks,
        "asks_without_offer": without_offer,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(latencies[int(0.99 * len(latencies)) - 1], 2),
        "max_ms": round(latencies[-1], 2),
    }


def instances(quick: bool) -> list[Instance]:
    valley = town("valley")
    made = [
        generate("month", 70, 40, 1, arrive_over=20, seed=1),
        generate("campaign", 150, 20, 2, arrive_over=0, seed=2),
        generate("valley", 60, 30, 1, arrive_over=20, seed=4, where=valley),
        generate("far-heavy", 120, 20, 2, arrive_over=0, seed=5, far_share=0.75),
        generate("over capacity", 250, 20, 2, arrive_over=0, seed=6),
    ]
    if not quick:
        made.append(generate("scale", 2000, 60, 8, arrive_over=40, seed=3))
    return made


LONG_RUN = "reference (ours' last model, exploration 5, 60 s)"
WAIT_TARGETS = (5, 10, 15, 20)


def run_instance(instance: Instance, quick: bool) -> dict:
    methods: dict[str, tuple] = {"fcfs": (fcfs, instance)}
    if instance.name != "scale":  # one plan of 60 days is not how the service is used (see docs)
        methods["ours"] = (ours, instance)
    methods["ours, rolling: plan every 5 days"] = (rolling, instance)
    if instance.asks[-1].release and instance.name != "scale":  # requests arrive over time
        methods["ours, rolling: plan every 2 days"] = (rolling, instance, 20, 2)
    if instance.name != "scale":
        if not quick:
            methods[LONG_RUN] = (reference, instance)
            methods["OR-tools GLS 60 s"] = (ortools, instance, 60)
        methods["OR-tools GLS 2 s"] = (ortools, instance, 2)
    row: dict[str, Any] = {}
    for label, (method, *method_args) in methods.items():
        result, seconds = timed(method, *method_args)
        if isinstance(result, Rolling):
            row[label] = evaluate(instance, result.placed, seconds, result.said_at_risk).as_dict()
            row[label]["plans"] = result.plans
        else:
            row[label] = evaluate(instance, result, seconds).as_dict()
        summary = {k: v for k, v in row[label].items() if k != "unplanned_share_by_district"}
        print(f"{instance.name:13} {label:42} {json.dumps(summary)}", flush=True)
    base = row["fcfs"]["drive_minutes"]
    ours_label = "ours" if "ours" in row else "ours, rolling: plan every 5 days"
    row["ours_drive_vs_fcfs"] = round(row[ours_label]["drive_minutes"] / base, 3) if base else None
    if LONG_RUN in row and row[LONG_RUN]["drive_minutes"]:
        row["ours_drive_vs_long_run"] = round(row["ours"]["drive_minutes"] / row[LONG_RUN]["drive_minutes"], 3)
    return row


def wait_curve(instance: Instance) -> dict:
    """Drive against waiting, one plan per wait target, next to first-come-first-served."""
    curve = {"fcfs": evaluate(instance, fcfs(instance), 0).as_dict()}
    for target in WAIT_TARGETS:
        placed, seconds = timed(ours, instance, None, None, target)
        curve[f"target {target}"] = evaluate(instance, placed, seconds).as_dict()
        if instance.asks[-1].release:  # requests arrive over time: also as the city would plan them
            for every in (2, 5):
                done, seconds = timed(rolling, instance, 20, every, target)
                figures = evaluate(instance, done.placed, seconds, done.said_at_risk).as_dict()
                curve[f"target {target}, plan every {every} days"] = figures
    base = curve["fcfs"]["drive_minutes"]
    for label, figures in curve.items():
        keep = ("drive_minutes", "median_wait_days", "p90_wait_days", "longest_wait_days", "unplanned")
        shown = {k: figures[k] for k in keep}
        print(f"{instance.name:13} wait curve {label:30} drive/fcfs {figures['drive_minutes'] / base:.3f} {shown}")
    return {
        label: {**figures, "drive_vs_fcfs": round(figures["drive_minutes"] / base, 3)}
        for label, figures in curve.items()
    }


def table(results: dict) -> str:
    """The results as the markdown table in docs/benchmarks.md."""
    lines = [
        "| instance | method | drive min | people / crew-day | unplanned (far / near share) | fairness gap"
        " | median / p90 / longest wait | past bound (said late) | seconds |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, instance in results["instances"].items():
        for label, r in instance["results"].items():
            if not isinstance(r, dict):
                continue
            lines.append(
                f"| {name} | {label} | {r['drive_minutes']:,} | {r['persons_per_crew_day']} | {r['unplanned']}"
                f" ({r['unplanned_share_far']:.2f} / {r['unplanned_share_near']:.2f}) | {r['fairness_gap']:.2f}"
                f" | {r['median_wait_days']:g} / {r['p90_wait_days']} / {r['longest_wait_days']}"
                f" | {r['past_bound']} ({r['past_bound_said_late']}) | {r['seconds']:.2f} |"
            )
    for name, curve in results.get("wait_curve", {}).items():
        lines += [
            "",
            f"Wait curve, {name}:",
            "",
            "| setting | drive / fcfs | median / p90 / longest wait | unplanned |",
        ]
        lines.append("|---|---|---|---|")
        for label, r in curve.items():
            lines.append(
                f"| {label} | {r['drive_vs_fcfs']:.3f} | {r['median_wait_days']:g} / {r['p90_wait_days']}"
                f" / {r['longest_wait_days']} | {r['unplanned']} |"
            )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scheduling")
    parser.add_argument("--quick", action="store_true", help="skip the 60 s runs and the scale instance")
    parser.add_argument("--no-scale", action="store_true", help="skip the scale instance")
    parser.add_argument("--table", type=Path, help="print this results file as markdown and stop")
    parser.add_argument("--only", help="run only the instance of this name (and no curve, no offers)")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.table.read_text())))
        return
    results: dict = {"machine_cores": os.cpu_count(), "instances": {}, "wait_curve": {}}
    for instance in instances(args.quick or args.no_scale):
        if args.only and instance.name != args.only:
            continue
        results["instances"][instance.name] = {
            "town": instance.town.city.name,
            "requests": len(instance.asks),
            "crews": len(instance.crews),
            "working_days": instance.days,
            "far_districts": list(instance.town.far_districts),
            "results": run_instance(instance, args.quick),
        }
        if instance.name in ("month", "campaign") and not args.only:
            results["wait_curve"][instance.name] = wait_curve(instance)
    if not args.only:
        results["offers"] = offers()
        print("offers", json.dumps(results["offers"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
