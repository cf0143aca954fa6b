"""`make bench` (scheduling): how well and how fast scheduling plans, against first-come-first-served.

Instances are generated from the domain facts with fixed seeds (Miyakonojo's 15 districts and
city hall, household sizes around 3, some residents with a preferred day and half, the far north an
hour away):
- month: about 70 requests arriving over 20 working days, 1 crew;
- campaign: 150 requests known at the start, 20 working days, 2 crews (close to full capacity);
- scale: 2,000 requests arriving over 40 of 60 working days, 8 crews.

Methods, each on the same instance in one run:
- fcfs: each request in arrival order takes the earliest feasible window (a paper calendar);
- ours: batch planning (VROOM, exploration 2; 0 on the scale instance) with the wait bound;
- ours, rolling (month and scale): every 5 working days a 20-day plan of the requests made so far,
  the first 5 days of it fixed (how the service is used: POST /api/v1/plans, then phone and fix);
- long run: the same optimiser at its deepest search (exploration 5), up to 60 s;
- OR-tools (month and campaign): the same model in OR-tools' routing solver with guided local search
  for 2 s and for 60 s, to compare the two optimisers.
Every result is checked by one evaluator: each crew-day re-timed with routes.Timeline (every promise
kept), then drive minutes, people served per crew-day, unplanned requests, longest wait per district.

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
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from deploy.local.stack import ROOT
from services.scheduling import optimiser, planning, routes, solver
from services.scheduling.travel import default_model, household_of
from shared import municipality, workcalendar
from shared.municipality import Crew

CITY = municipality.load()


@functools.cache
def household(district: str, visit_id: str):
    """One place object per household, as the service makes them (drive times are cached by identity)."""
    return household_of(CITY.district(district), visit_id)


DAY = routes.day_of(CITY)
TRAVEL = routes.CachedTravel(default_model(CITY))


@functools.cache
def far_districts() -> tuple[str, ...]:
    """The districts at least half as far from the depot as the farthest one, by drive time (for
    Miyakonojo: Shonai, Takajo, Yamanokuchi, Nishidake, Takazaki and Yamada; for another town, its own)."""
    minutes = {d.id: TRAVEL.minutes(CITY.depot, d) for d in CITY.districts}
    return tuple(sorted(d for d, m in minutes.items() if m >= max(minutes.values()) / 2))


WINDOW, STEP = CITY.visits.window_minutes, CITY.visits.slot_step_minutes
WAIT_BOUND = CITY.visits.max_wait_working_days
RESULTS = ROOT / "var" / "bench-scheduling.json"


@dataclass(frozen=True)
class Ask:
    id: str
    district: str
    persons: int
    release: int  # first day index it may be visited (the day after it came)
    waited_before: int  # working days it had waited before day 0
    preferred: tuple[tuple[int, str], ...]

    @property
    def duration(self) -> int:
        return CITY.visits.duration_minutes(self.persons)

    @property
    def place(self):
        """A household of its own at its district's centre (the service's drive rule)."""
        return household(self.district, self.id)


@dataclass
class Instance:
    name: str
    crews: list[str]
    days: int
    asks: list[Ask]


def generate(name: str, count: int, days: int, crews: int, arrive_over: int, seed: int) -> Instance:
    rng = random.Random(seed)
    districts = [d.id for d in CITY.districts]
    asks = []
    for number in range(count):
        arrival = rng.randrange(arrive_over) if arrive_over else -1
        release = arrival + 1
        preferred: tuple[tuple[int, str], ...] = ()
        if rng.random() < 0.3:
            preferred = ((min(days - 1, release + rng.randrange(10)), rng.choice(("am", "pm", "any"))),)
        asks.append(
            Ask(
                id=f"{name}-{number:04d}",
                district=rng.choice(districts),
                persons=rng.choice((1, 2, 2, 3, 3, 3, 3, 4, 4, 5)),
                release=release if arrive_over else 0,
                waited_before=0 if arrive_over else rng.randrange(10),
                preferred=preferred,
            )
        )
    asks.sort(key=lambda a: (a.release, a.id))
    return Instance(name, [f"crew-{i + 1}" for i in range(crews)], days, asks)


# --- methods: each returns {ask id: (crew, day index, window start)} --------------------------------


def fcfs(instance: Instance) -> dict[str, tuple[str, int, int]]:
    stops: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    placed = {}
    for ask in instance.asks:
        found = None
        for day_index in range(ask.release, instance.days):
            for crew in instance.crews:
                timeline = routes.Timeline(stops[(crew, day_index)], DAY, CITY.depot, TRAVEL)
                for window_start in range(DAY.start, DAY.end - ask.duration + 1, STEP):
                    if timeline.insertion(ask.place, window_start, window_start + WINDOW, ask.duration):
                        found = (crew, day_index, window_start)
                        break
                if found:
                    break
            if found:
                break
        if found:
            crew, day_index, window_start = found
            stops[(crew, day_index)].append(
                routes.RouteStop(ask.id, ask.place, window_start, window_start + WINDOW, ask.duration)
            )
            stops[(crew, day_index)].sort(key=lambda s: s.window_start)
            placed[ask.id] = found
    return placed


def requests_of(
    instance: Instance, first: int = 0, days: int | None = None, made_only: bool = False, skip: Container = ()
) -> list[optimiser.Request]:
    """The requests as a plan starting on day `first` sees them, its days counted from there.
    `made_only`: leave out requests not made yet (a rolling plan only knows what has come in)."""
    days = instance.days - first if days is None else days
    made = []
    for ask in instance.asks:
        if ask.id in skip or (made_only and ask.release > first):
            continue
        since_made = first - (ask.release - 1) if ask.release else first  # working days, as of `first`
        waited = ask.waited_before + max(0, since_made)
        deadline = ask.release - 1 + WAIT_BOUND - ask.waited_before - first
        made.append(
            optimiser.Request(
                visit_id=ask.id,
                place=ask.place,
                duration=ask.duration,
                waited_days=waited,
                deadline_index=None if deadline >= days or waited >= WAIT_BOUND else max(0, deadline),
                preferred=tuple((d - first, p) for d, p in ask.preferred if first <= d < first + days),
                release_index=max(0, ask.release - first),
            )
        )
    return made


def fleet_of(instance: Instance, days: int, fixed: dict | None = None, **solving: Any) -> optimiser.Fleet:
    return optimiser.Fleet(
        crews=instance.crews,
        days=days,
        day=DAY,
        depot=CITY.depot,
        travel=TRAVEL,
        step_minutes=STEP,
        wait_bound=WAIT_BOUND,
        solve=solver.solve,
        fixed=fixed or {},
        **solving,
    )


def vroom(instance: Instance, exploration: int, timeout: float | None = None) -> dict[str, tuple[str, int, int]]:
    fleet = fleet_of(instance, instance.days, exploration=exploration, timeout_seconds=timeout)
    plan = optimiser.plan_batch(requests_of(instance), fleet)
    return {p.visit_id: (p.crew_id, p.day_index, p.window_start) for p in plan.proposals}


def rolling(instance: Instance, window: int = 20, commit: int = 5) -> dict[str, tuple[str, int, int]]:
    """The service as a city would use it: every `commit` working days, plan the next `window` days
    for every request made so far and not yet placed (POST /api/v1/plans), and fix what falls in
    the first `commit` days; later plans keep those as fixed visits."""
    placed: dict[str, tuple[str, int, int]] = {}
    fixed: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    for first in range(0, instance.days, commit):
        days = min(window, instance.days - first)
        waiting = requests_of(instance, first, days, made_only=True, skip=placed)
        shifted = {(crew, d - first): stops for (crew, d), stops in fixed.items() if first <= d < first + days}
        fleet = fleet_of(instance, days, shifted)
        asks = {a.id: a for a in instance.asks}
        for proposal in optimiser.plan_batch(waiting, fleet).proposals:
            if proposal.day_index < commit:
                day_index = first + proposal.day_index
                ask = asks[proposal.visit_id]
                placed[ask.id] = (proposal.crew_id, day_index, proposal.window_start)
                fixed[(proposal.crew_id, day_index)].append(
                    routes.RouteStop(
                        ask.id, ask.place, proposal.window_start, proposal.window_start + WINDOW, ask.duration
                    )
                )
    return placed


def ortools(instance: Instance, seconds: int) -> dict[str, tuple[str, int, int]]:
    """The same model for OR-tools' routing solver: a vehicle per crew-day, the allowed windows as
    the time dimension's ranges with the gaps removed, dropping a request penalised by priority."""
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2

    requests = requests_of(instance)
    vehicles = [(crew, d) for d in range(instance.days) for crew in instance.crews]
    places = [CITY.depot] + [r.place for r in requests]
    manager = pywrapcp.RoutingIndexManager(len(places), len(vehicles), 0)
    model = pywrapcp.RoutingModel(manager)
    service = [0] + [r.duration for r in requests]

    def drive(i: int, j: int) -> int:
        return TRAVEL.minutes(places[manager.IndexToNode(i)], places[manager.IndexToNode(j)])

    def busy(i: int, j: int) -> int:
        return drive(i, j) + service[manager.IndexToNode(i)]

    model.SetArcCostEvaluatorOfAllVehicles(model.RegisterTransitCallback(drive))
    horizon = instance.days * optimiser.MINUTES_PER_DAY
    model.AddDimension(model.RegisterTransitCallback(busy), horizon, horizon, False, "time")
    time_dimension = model.GetDimensionOrDie("time")
    for number, (_, d) in enumerate(vehicles):
        base = d * optimiser.MINUTES_PER_DAY
        time_dimension.CumulVar(model.Start(number)).SetRange(base + DAY.start, base + DAY.end)
        time_dimension.CumulVar(model.End(number)).SetRange(base + DAY.start, base + DAY.end)
    for node, request in enumerate(requests, start=1):
        windows = optimiser._request_windows(request, instance.days, DAY)
        index = manager.NodeToIndex(node)
        cumul = time_dimension.CumulVar(index)
        if not windows:
            cumul.SetRange(0, 0)
            continue
        cumul.SetRange(windows[0][0], windows[-1][1])
        for (_, end), (start, _) in pairwise(windows):
            if start > end + 1:
                cumul.RemoveInterval(end + 1, start - 1)
        model.AddDisjunction([index], 100_000 + 1_000 * optimiser.priority_of(request, WAIT_BOUND, TRAVEL, CITY.depot))
    parameters = pywrapcp.DefaultRoutingSearchParameters()
    parameters.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    parameters.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    parameters.time_limit.seconds = seconds
    solution = model.SolveWithParameters(parameters)
    placed: dict[str, tuple[str, int, int]] = {}
    if solution is None:
        return placed
    for number, (crew, d) in enumerate(vehicles):
        index = solution.Value(model.NextVar(model.Start(number)))
        while not model.IsEnd(index):
            node = manager.IndexToNode(index)
            start = solution.Min(time_dimension.CumulVar(index)) - d * optimiser.MINUTES_PER_DAY
            placed[requests[node - 1].visit_id] = (crew, d, start - start % STEP)
            index = solution.Value(model.NextVar(index))
    return placed


# --- one evaluator for every method -----------------------------------------------------------------


@dataclass
class Score:
    drive_minutes: int = 0
    persons_served: int = 0
    crew_days_used: int = 0
    unplanned: int = 0
    broken_promises: int = 0
    longest_wait: dict[str, int] = field(default_factory=dict)  # district -> working days
    unplanned_share: dict[str, float] = field(default_factory=dict)  # district -> share left out
    seconds: float = 0.0

    def as_dict(self) -> dict:
        far = far_districts()
        return {
            "drive_minutes": self.drive_minutes,
            "persons_per_crew_day": round(self.persons_served / max(1, self.crew_days_used), 2),
            "persons_served": self.persons_served,
            "crew_days_used": self.crew_days_used,
            "unplanned": self.unplanned,
            "broken_promises": self.broken_promises,
            "longest_wait_days": max(self.longest_wait.values(), default=0),
            "longest_wait_far_districts": max((self.longest_wait.get(d, 0) for d in far), default=0),
            "longest_wait_by_district": dict(sorted(self.longest_wait.items())),
            "worst_district_share_unplanned": max(self.unplanned_share.values(), default=0.0),
            "seconds": round(self.seconds, 3),
        }


def evaluate(instance: Instance, placed: dict[str, tuple[str, int, int]], seconds: float) -> Score:
    score = Score(seconds=seconds)
    by_day: dict[tuple[str, int], list[routes.RouteStop]] = defaultdict(list)
    asks = {a.id: a for a in instance.asks}
    for ask_id, (crew, d, window_start) in placed.items():
        ask = asks[ask_id]
        by_day[(crew, d)].append(routes.RouteStop(ask_id, ask.place, window_start, window_start + WINDOW, ask.duration))
        wait = ask.waited_before + d - ask.release + 1
        score.longest_wait[ask.district] = max(score.longest_wait.get(ask.district, 0), wait)
        score.persons_served += ask.persons
    for stops in by_day.values():
        timeline = routes.Timeline(sorted(stops, key=lambda s: s.window_start), DAY, CITY.depot, TRAVEL)
        score.broken_promises += 0 if timeline.feasible else 1
        score.drive_minutes += timeline.drive_minutes()
    score.crew_days_used = len(by_day)
    score.unplanned = len(instance.asks) - len(placed)
    demand = defaultdict(int)
    missed = defaultdict(int)
    for ask in instance.asks:
        demand[ask.district] += 1
        missed[ask.district] += ask.id not in placed
    score.unplanned_share = {d: round(missed[d] / demand[d], 2) for d in demand}
    for ask in instance.asks:  # a request never planned waited the whole horizon
        if ask.id not in placed:
            wait = ask.waited_before + instance.days - ask.release
            score.longest_wait[ask.district] = max(score.longest_wait.get(ask.district, 0), wait)
    return score


def timed(method, *args) -> tuple[dict, float]:
    started = time.perf_counter()
    placed = method(*args)
    return placed, time.perf_counter() - started


# --- offers while on the phone ----------------------------------------------------------------------


def offers(seed: int = 11, fixed: int = 1000, crews: int = 5, days: int = 60, asks: int = 300) -> dict:
    rng = random.Random(seed)
    first = dt.date(2027, 4, 1)
    horizon = []
    day = first
    while len(horizon) < days:
        if workcalendar.is_working_day(day, CITY.calendar):
            horizon.append(day)
        day += dt.timedelta(days=1)
    crew_ids = [f"crew-{i + 1}" for i in range(crews)]
    stops: dict[tuple[str, dt.date], list[routes.RouteStop]] = defaultdict(list)
    count, tries = 0, 0
    while count < fixed and tries < fixed * 20:
        tries += 1
        place, persons = household(rng.choice(CITY.districts).id, f"f{tries}"), rng.choice((1, 2, 3, 3, 4))
        duration = CITY.visits.duration_minutes(persons)
        key = (rng.choice(crew_ids), rng.choice(horizon))
        timeline = routes.Timeline(stops[key], DAY, CITY.depot, TRAVEL)
        for window_start in range(DAY.start, DAY.end - duration + 1, STEP):  # as early as it fits
            if timeline.insertion(place, window_start, window_start + WINDOW, duration):
                stops[key].append(routes.RouteStop(f"f{count}", place, window_start, window_start + WINDOW, duration))
                stops[key].sort(key=lambda s: s.window_start)
                count += 1
                break
    city = dataclasses.replace(CITY, crews=tuple(Crew(id=c, name=c, car=c, staff=()) for c in crew_ids))
    not_before = dt.datetime.combine(first - dt.timedelta(days=1), dt.time(12), CITY.timezone)
    latencies, without_offer = [], 0
    for _ in range(asks):
        preferred = []
        if rng.random() < 0.5:
            preferred = [{"date": rng.choice(horizon), "period": rng.choice(("am", "pm", "any"))}]
        started = time.perf_counter()
        found = planning.suggest(
            city=city,
            travel=default_model(CITY),
            place=household(rng.choice(CITY.districts).id, f"ask{len(latencies)}"),
            duration_minutes=CITY.visits.duration_minutes(rng.choice((1, 2, 3, 4, 5))),
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


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.scheduling")
    parser.add_argument("--quick", action="store_true", help="skip the 60 s runs and the scale instance")
    args = parser.parse_args(argv)
    instances = [
        generate("month", 70, 40, 1, arrive_over=20, seed=1),
        generate("campaign", 150, 20, 2, arrive_over=0, seed=2),
    ]
    if not args.quick:
        instances.append(generate("scale", 2000, 60, 8, arrive_over=40, seed=3))
    results: dict = {"machine_cores": os.cpu_count(), "instances": {}}
    for instance in instances:
        # At 2,000 requests x 480 crew-days, exploration 3 ran past 9 minutes: the scale instance
        # shows how cost grows at VROOM's lightest search.
        exploration = 0 if instance.name == "scale" else 2
        methods = {"fcfs": (fcfs, instance), "ours": (vroom, instance, exploration)}
        if instance.name in ("month", "scale"):  # requests arrive over time: plan as the city would
            methods["ours, rolling 20-day plans every 5 days"] = (rolling, instance)
        if instance.name != "scale" and not args.quick:
            methods["long run (VROOM, exploration 5, 60 s cap)"] = (vroom, instance, 5, 60)
            methods["OR-tools GLS 2 s"] = (ortools, instance, 2)
            methods["OR-tools GLS 60 s"] = (ortools, instance, 60)
        elif instance.name != "scale":
            methods["OR-tools GLS 2 s"] = (ortools, instance, 2)
        row = {}
        for label, (method, *method_args) in methods.items():
            placed, seconds = timed(method, *method_args)
            row[label] = evaluate(instance, placed, seconds).as_dict()
            summary = {k: v for k, v in row[label].items() if k != "longest_wait_by_district"}
            print(f"{instance.name:9} {label:45} {json.dumps(summary)}", flush=True)
        base = row["fcfs"]["drive_minutes"]
        row["ours_drive_vs_fcfs"] = round(row["ours"]["drive_minutes"] / base, 3) if base else None
        long_key = "long run (VROOM, exploration 5, 60 s cap)"
        if long_key in row and row[long_key]["drive_minutes"]:
            row["ours_drive_vs_long_run"] = round(row["ours"]["drive_minutes"] / row[long_key]["drive_minutes"], 3)
        results["instances"][instance.name] = {
            "requests": len(instance.asks),
            "crews": len(instance.crews),
            "working_days": instance.days,
            "results": row,
        }
    results["offers"] = offers()
    print("offers", json.dumps(results["offers"]), flush=True)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(f"wrote {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
