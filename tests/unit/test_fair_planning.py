"""Issue 17: when requests outnumber the car, no district gives way for another's efficiency,
older requests come first, and a request that will miss its wait bound is named with why; the wait
target brings visits forward when there is room. Real optimiser (VROOM) on small instances."""

from __future__ import annotations

import dataclasses
import random

from services.scheduling import optimiser, solver
from services.scheduling.travel import household_of
from tests.unit.test_batch_planning import CITY, DAY, TRAVEL, fleet_of, plan

NORTH = [CITY.district(d) for d in ("takazaki", "yamada", "nishidake")]  # about an hour from city hall
CENTRE = [CITY.district(d) for d in ("himeki", "komatsubara", "tsumagaoka")]


def requests_of(count: int, districts, group: str, waited: int = 3, deadline=None, seed: int = 1, **kwargs):
    rng = random.Random(seed)
    made = []
    for number in range(count):
        district = rng.choice(districts)
        made.append(
            optimiser.Request(
                visit_id=f"{group}{number}",
                place=household_of(district, f"{group}{number}"),
                duration=rng.choice((45, 75, 105)),
                waited_days=waited,
                deadline_index=deadline,
                district=group,
                **kwargs,
            )
        )
    return made


def share_left_out(result: optimiser.Plan, group: list[optimiser.Request]) -> float:
    return sum(r.visit_id in result.unplanned for r in group) / len(group)


def test_over_capacity_the_far_district_is_left_out_no_more_than_the_others():
    north = requests_of(24, NORTH, "north")
    centre = requests_of(24, CENTRE, "centre", seed=2)
    result = plan(north + centre, days=3, crews=("crew-1", "crew-2"))
    overall = len(result.unplanned) / 48
    assert 0.2 < overall < 0.8, overall  # the instance is over capacity, and not absurdly so
    for group in (north, centre):
        assert share_left_out(result, group) <= overall + 0.10, (share_left_out(result, group), overall)


def test_without_the_fairness_pass_the_optimiser_would_leave_the_far_district_out():
    """What the pass is for: the same instance with no district named (the pass takes no part)."""
    north = [dataclasses.replace(r, district="") for r in requests_of(24, NORTH, "north")]
    centre = [dataclasses.replace(r, district="") for r in requests_of(24, CENTRE, "centre", seed=2)]
    result = plan(north + centre, days=3, crews=("crew-1", "crew-2"))
    assert share_left_out(result, north) > share_left_out(result, centre) + 0.10


def test_older_requests_come_first_whatever_the_district():
    # One district for all: only age tells them apart.
    older = [dataclasses.replace(r, district="all") for r in requests_of(16, NORTH + CENTRE, "older", waited=12)]
    newer = [dataclasses.replace(r, district="all") for r in requests_of(16, NORTH + CENTRE, "newer", seed=2)]
    result = plan(older + newer, days=2, crews=("crew-1",))
    assert result.unplanned, "the instance must be over capacity"
    assert share_left_out(result, older) < share_left_out(result, newer)


def test_a_request_that_will_miss_its_bound_is_named_with_why():
    due = requests_of(14, CENTRE, "due", waited=18, deadline=1)  # its bound is the plan's 2nd day
    later = requests_of(14, CENTRE, "later", waited=0, seed=2)  # its bound lies beyond the plan
    overdue = requests_of(3, CENTRE, "overdue", waited=25, seed=3)
    result = plan(due + later + overdue, days=2, crews=("crew-1",))
    for request in due:
        if request.visit_id in result.unplanned:
            assert result.at_risk[request.visit_id] == "over_capacity"
        else:
            assert request.visit_id not in result.at_risk
    for request in overdue:
        assert (request.visit_id in result.at_risk) == (request.visit_id in result.unplanned)
        if request.visit_id in result.at_risk:
            assert result.at_risk[request.visit_id] == "overdue_no_room"
    assert not any(r.visit_id in result.at_risk for r in later)  # left out now, still time next plan
    assert any(r.visit_id in result.at_risk for r in due), "the instance must leave some due request out"


def test_the_wait_target_brings_visits_forward_and_never_leaves_one_out():
    requests = requests_of(8, CENTRE, "r", waited=0)
    soon = [dataclasses.replace(r, target_index=0) for r in requests]
    free = plan(requests, days=5)
    targeted = plan(soon, days=5)
    assert not free.unplanned and not targeted.unplanned  # a request the first day cannot take goes later
    days_free = sorted(p.day_index for p in free.proposals)
    days_targeted = sorted(p.day_index for p in targeted.proposals)
    assert sum(days_targeted) <= sum(days_free)
    assert days_targeted.count(0) >= 3  # the first day is filled first


def test_the_last_day_within_a_bound():
    assert optimiser.last_index_within(waited=3, bound=20, days=10) is None  # the whole plan is within
    assert optimiser.last_index_within(waited=15, bound=20, days=10) == 5  # waited 15 + 5 = 20
    assert optimiser.last_index_within(waited=20, bound=20, days=10) == 0  # the plan's first day is the last
    assert optimiser.last_index_within(waited=21, bound=20, days=10) is None  # overdue: first in line instead
    assert optimiser.last_index_within(waited=-2, bound=5, days=10) == 7  # not made yet (a bench's arrival)


def test_requests_a_solve_leaves_out_are_filled_into_the_gaps_within_their_bound():
    """A solver that places nothing: the fill-in alone must give a plan the crews can drive, each
    request within its bound, and leave out only what does not fit."""
    from services.scheduling import routes

    requests = requests_of(10, CENTRE + NORTH, "r", waited=0, deadline=2)

    def places_nothing(problem: dict) -> dict:
        return {"routes": [], "unassigned": [{"id": job["id"]} for job in problem["jobs"]]}

    fleet = fleet_of(days=4, solve=places_nothing)
    result = optimiser.plan_batch(requests, fleet)
    assert len(result.proposals) >= 6 and len(result.proposals) + len(result.unplanned) == 10
    by_id = {r.visit_id: r for r in requests}
    for (crew, day_index), visit_ids in result.routes.items():
        assert day_index <= 2  # within every request's bound
        proposals = {p.visit_id: p for p in result.proposals}
        stops = sorted(
            (
                routes.RouteStop(
                    v, by_id[v].place, proposals[v].window_start, proposals[v].window_start + 30, by_id[v].duration
                )
                for v in visit_ids
            ),
            key=lambda s: s.window_start,
        )
        assert routes.Timeline(stops, DAY, CITY.depot, TRAVEL).feasible, (crew, day_index)
    real = optimiser.plan_batch(requests, dataclasses.replace(fleet, solve=solver.solve))
    assert len(real.proposals) >= len(result.proposals) - 1  # the fill-in is a fallback, not better than the search


def test_a_district_served_lately_gives_way_to_one_that_was_not():
    """Plan after plan the shares add up: the district the last plans served is left out first now."""
    lately = requests_of(16, CENTRE, "lately", seed=3)
    waited = requests_of(16, CENTRE, "waited", seed=4)
    fleet = dict(days=2, crews=("crew-1",))
    alike = plan(lately + waited, **fleet)
    assert alike.unplanned and abs(share_left_out(alike, lately) - share_left_out(alike, waited)) <= 0.2
    fair = plan(lately + waited, **fleet, served={"lately": 30})
    assert share_left_out(fair, waited) + 0.3 < share_left_out(fair, lately)
