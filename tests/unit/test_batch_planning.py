"""Batch planning and day routes with the real optimiser (VROOM), on small hand-checked cases."""

from __future__ import annotations

import datetime as dt
import random

import pytest

from services.scheduling import optimiser, planning, routes, solver
from services.scheduling.service import SchedulingService
from services.scheduling.travel import default_model
from shared import clock, municipality
from tests.factories import json_request, response_json, worker
from tests.unit.test_scheduling_service import fix, new_visit

CITY = municipality.load()
DAY = routes.day_of(CITY)
TRAVEL = routes.CachedTravel(default_model(CITY))
FAR = [CITY.district(d) for d in ("takazaki", "yamada", "nishidake")]
NEAR = [CITY.district(d) for d in ("himeki", "komatsubara")]


def request(visit_id, place, duration=45, waited=0, deadline=None, preferred=()):
    return optimiser.Request(visit_id, place, duration, waited, deadline, tuple(preferred))


def fleet_of(days=2, crews=("crew-1",), fixed=None, wait_bound=20, crew_off=frozenset(), **more):
    """Miyakonojo's day and drive times, the real solver unless `solve` is given."""
    return optimiser.Fleet(
        crews=list(crews),
        days=days,
        day=DAY,
        depot=CITY.depot,
        travel=TRAVEL,
        step_minutes=15,
        wait_bound=wait_bound,
        solve=more.pop("solve", solver.solve),
        fixed=fixed or {},
        crew_off=frozenset(crew_off),
        **more,
    )


def plan(requests, **fleet):
    return optimiser.plan_batch(requests, fleet_of(**fleet))


def test_visits_far_away_share_a_day_and_every_request_is_planned():
    requests = [request(f"far{i}", p) for i, p in enumerate(FAR)] + [request(f"near{i}", p) for i, p in enumerate(NEAR)]
    result = plan(requests)
    assert not result.unplanned
    days_of = {p.visit_id: p.day_index for p in result.proposals}
    assert len({days_of[f"far{i}"] for i in range(3)}) == 1  # one trip north, not three
    assert result.drive_minutes < 2 * 53 * 3  # far less than a round trip per far visit


def test_every_proposal_fits_when_fixed_one_after_another():
    """The plan is what reception will fix by phone: each proposal must pass the same check as a
    slot fixed by hand, in any order of the day."""
    rng = random.Random(7)
    places = list(CITY.districts)
    requests = [request(f"r{i}", rng.choice(places), rng.choice((45, 75, 105))) for i in range(30)]
    result = plan(requests, days=5, crews=("crew-1", "crew-2"))
    assert len(result.proposals) + len(result.unplanned) == 30 and len(result.proposals) >= 20
    by_id = {r.visit_id: r for r in requests}
    placed: dict[tuple[str, int], list[routes.RouteStop]] = {}
    for proposal in sorted(result.proposals, key=lambda p: rng.random()):
        stops = placed.setdefault((proposal.crew_id, proposal.day_index), [])
        timeline = routes.Timeline(sorted(stops, key=lambda s: s.window_start), DAY, CITY.depot, TRAVEL)
        wanted = by_id[proposal.visit_id]
        assert timeline.insertion(wanted.place, proposal.window_start, proposal.window_start + 30, wanted.duration)
        assert proposal.window_start <= proposal.estimated_start <= proposal.window_start + 30
        stops.append(
            routes.RouteStop(
                wanted.visit_id, wanted.place, proposal.window_start, proposal.window_start + 30, wanted.duration
            )
        )


def test_a_request_past_its_wait_bound_comes_first_whatever_its_district():
    crowd = [request(f"near{i}", NEAR[i % 2], duration=105, waited=1) for i in range(8)]
    overdue = request("far", FAR[0], duration=105, waited=21)
    result = plan([*crowd, overdue], days=1)
    assert "far" in {p.visit_id for p in result.proposals}
    assert result.unplanned  # the day could not take everyone...
    assert all(reason == "no_room_in_horizon" for reason in result.unplanned.values())  # ... and says why


def test_overdue_far_requests_go_in_the_first_days_even_when_later_days_would_group_them():
    """A rolling plan fixes only its first days: an overdue request put on a later day to share a
    trip north would be pushed back again at the next plan (docs/benchmarks.md, scale instance)."""
    overdue = [request(f"far{i}", FAR[i % 3], duration=75, waited=25) for i in range(2)]
    # Households up north that may only go from day 8 on: a trip the overdue could share.
    later = [optimiser.Request(f"north{i}", FAR[i % 3], 75, 0, None, (), release_index=8) for i in range(3)]
    crowd = [request(f"near{i}", NEAR[i % 2], duration=105, waited=5) for i in range(12)]
    result = plan([*overdue, *later, *crowd], days=10)
    days_of = {p.visit_id: p.day_index for p in result.proposals}
    assert all(days_of[f"north{i}"] >= 8 for i in range(3))
    assert all(days_of[f"far{i}"] < optimiser.COMMIT_DAYS for i in range(2)), days_of
    # Among a crowd, the overdue outweigh two others each: none of them is the one left out.
    squeezed = plan([*overdue, *crowd], days=2)
    assert {f"far{i}" for i in range(2)} <= {p.visit_id for p in squeezed.proposals}


def test_a_request_goes_on_a_day_within_its_wait_bound_or_is_reported():
    result = plan([request("due", FAR[0], deadline=0), request("later", NEAR[0])], days=3)
    days_of = {p.visit_id: p.day_index for p in result.proposals}
    assert days_of["due"] == 0
    full_day = {
        ("crew-1", 0): [
            routes.RouteStop("busy1", NEAR[0], 9 * 60, 9 * 60 + 30, 165),
            routes.RouteStop("busy2", NEAR[1], 13 * 60, 13 * 60 + 30, 225),
        ]
    }
    squeezed = plan([request("due", FAR[0], duration=105, deadline=0)], days=3, fixed=full_day)
    assert squeezed.unplanned == {"due": "no_room_within_wait_bound"}
    assert squeezed.routes[("crew-1", 0)] == ["busy1", "busy2"]  # promises kept, in place


def test_the_residents_preferred_day_and_half_are_honoured():
    result = plan([request("pm", NEAR[0], preferred=[(1, "pm")]), request("am", NEAR[1], preferred=[(0, "am")])])
    found = {p.visit_id: p for p in result.proposals}
    assert found["pm"].day_index == 1 and found["pm"].estimated_start >= DAY.lunch_end
    assert found["am"].day_index == 0 and found["am"].estimated_start + 45 <= DAY.lunch_start


def test_a_day_route_keeps_every_promise_and_reports_its_drive():
    stops = [
        routes.RouteStop("b", FAR[0], 13 * 60, 13 * 60 + 30, 75),
        routes.RouteStop("a", NEAR[0], 9 * 60, 9 * 60 + 30, 45),
    ]
    route = optimiser.route_day(stops, DAY, CITY.depot, TRAVEL, solver.solve)
    assert route.optimised
    assert [r.stop.visit_id for r in route.stops] == ["a", "b"]
    assert [r.start for r in route.stops] == [9 * 60, 13 * 60]
    assert route.drive_minutes == 10 + 53 + 53
    impossible = [*stops, routes.RouteStop("c", FAR[1], 9 * 60, 9 * 60 + 30, 45)]
    fallback = optimiser.route_day(impossible, DAY, CITY.depot, TRAVEL, solver.solve)
    assert not fallback.optimised  # two places 9:00-9:30 at once: said, not hidden
    assert len(fallback.stops) == 3


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def test_a_plan_over_http_proposes_slots_that_reception_can_fix(service, db):
    waiting = [new_visit(service, db, district=d) for d in ("takazaki", "yamada", "himeki")]
    answer = service.create_plan(json_request({"days": 5}))
    assert answer.status_code == 201, response_json(answer)
    made = response_json(answer)
    assert made["requests"] == 3 and not made["unplanned"]
    assert {p["visit_id"] for p in made["proposals"]} == {v["_id"] for v in waiting}
    for proposal in made["proposals"]:
        status, body = fix(service, proposal["visit_id"], proposal["window_start"], crew=proposal["crew_id"])
        assert status == 200, body
    again = service.get_plan(json_request(method="GET"), made["plan_id"])
    assert response_json(again)["proposals"] == made["proposals"]


def test_a_plan_needs_a_future_start_and_a_sensible_length(service):
    past = service.create_plan(json_request({"start": clock.today().isoformat()}))
    assert past.status_code == 422 and response_json(past)["fields"][0]["field"] == "start"
    assert service.create_plan(json_request({"days": 0})).status_code == 422
    assert service.get_plan(json_request(method="GET"), "nope").status_code == 404


def test_fit_and_the_plan_agree_on_what_a_window_is():
    found = planning.fit([], NEAR[0], dt.datetime(2026, 12, 1, 9, 0, tzinfo=CITY.timezone), 45, CITY, TRAVEL)
    assert found is not None and found[0].strftime("%H:%M") == "09:00"


def test_no_visit_is_planned_on_a_crew_day_off():
    requests = [request(f"r{i}", NEAR[i % 2]) for i in range(6)]
    result = plan(requests, crews=("crew-1", "crew-2"), crew_off={("crew-1", 0), ("crew-2", 1)})
    assert len(result.proposals) == 6
    assert {(p.crew_id, p.day_index) for p in result.proposals} <= {("crew-2", 0), ("crew-1", 1)}
