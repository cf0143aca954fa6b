"""One drive rule everywhere (issue 17): two households of one district are two places, never 0
minutes apart. Offers, fixing, batch plans and day sheets are checked against an independent route
checker (tests/route_checker.py), on hand-made cases and on random ones (Hypothesis)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.scheduling import daysheet, solver
from services.scheduling.routes import CachedTravel
from services.scheduling.service import SchedulingService
from services.scheduling.travel import default_model
from services.scheduling.visits import ACTIVE
from shared import municipality
from tests.factories import json_request, response_json, worker, working_day
from tests.route_checker import least_drive, problems
from tests.unit.test_scheduling_service import fix, new_visit

CITY = municipality.load()
DISTRICTS = [d.id for d in CITY.districts]


def sheets(db) -> list[dict]:
    """Every crew-day with visits, as the crew's tablet gets it (contacts aside)."""
    days = {(v["slot"]["crew_id"], v["slot"]["date"]) for v in db.visits.find({"status": {"$in": list(ACTIVE)}})}
    travel = CachedTravel(default_model(CITY))
    built = []
    for crew_id, day in sorted(days):
        found = list(db.visits.find({"slot.crew_id": crew_id, "slot.date": day, "status": {"$in": list(ACTIVE)}}))
        built.append(daysheet.build(found, None, crew_id, dt.date.fromisoformat(day), CITY, travel, solver.solve))
    return built


def first_offer(service, visit_id) -> dict | None:
    offers = response_json(service.suggestions(json_request(method="GET"), visit_id))["suggestions"]
    return offers[0] if offers else None


def test_the_checker_finds_a_zero_minute_move_between_two_households():
    sheet = {
        "date": "2026-12-03",
        "return_to_depot": "2026-12-03T12:00:00+09:00",
        "stops": [
            {
                "reference": name,
                "visit_id": name,
                "district": "himeki",
                "venue_name": None,
                "household_size": 1,
                "depart": f"2026-12-03T{depart}:00+09:00",
                "arrive": f"2026-12-03T{arrive}:00+09:00",
                "window_start": f"2026-12-03T{arrive}:00+09:00",
                "window_end": f"2026-12-03T{arrive}:00+09:00",
                "start": f"2026-12-03T{arrive}:00+09:00",
                "end": f"2026-12-03T{end}:00+09:00",
            }
            for name, depart, arrive, end in (("a", "09:00", "09:10", "09:55"), ("b", "09:55", "09:55", "10:40"))
        ],
    }
    assert problems(sheet, CITY) == [f"b: 0 minutes' drive where at least {CITY.travel.minimum_minutes} are needed"]
    depot = ("depot", (CITY.depot.lat, CITY.depot.lon))
    assert least_drive(depot, depot, CITY) == 0


def test_a_second_household_in_the_same_district_is_offered_a_start_after_the_move(service, db):
    first = new_visit(service, db, district="himeki", size=1)
    offer = first_offer(service, first["_id"])
    assert fix(service, first["_id"], offer["start"], crew=offer["crew_id"])[0] == 200
    fixed_end = dt.datetime.fromisoformat(
        response_json(service.get_visit(json_request(method="GET"), first["_id"]))["slot"]["end"]
    )
    second = new_visit(service, db, district="himeki", size=1)
    offers = response_json(service.suggestions(json_request(method="GET"), second["_id"]))["suggestions"]
    same_day = [o for o in offers if o["crew_id"] == offer["crew_id"] and o["start"][:10] == offer["start"][:10]]
    for option in same_day:
        start = dt.datetime.fromisoformat(option["start"])
        if start >= fixed_end:
            assert start - fixed_end >= dt.timedelta(minutes=CITY.travel.minimum_minutes), option
    # And fixed right after it, the day sheet drives the minimum between the two houses.
    after = min(
        (o for o in same_day if dt.datetime.fromisoformat(o["start"]) >= fixed_end),
        key=lambda o: o["start"],
        default=None,
    )
    if after is not None:
        assert fix(service, second["_id"], after["start"], crew=after["crew_id"])[0] == 200
    assert all(problems(sheet, CITY) == [] for sheet in sheets(db))


@settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    households=st.lists(
        st.tuples(st.sampled_from(DISTRICTS), st.integers(min_value=1, max_value=4)), min_size=2, max_size=8
    )
)
def test_random_households_fixed_at_their_first_offer_give_drivable_days(db_factory, households):
    db = db_factory()
    service = worker(SchedulingService, db)
    for district, size in households:
        visit = new_visit(service, db, district=district, size=size)
        offer = first_offer(service, visit["_id"])
        if offer is not None:
            status, body = fix(service, visit["_id"], offer["start"], crew=offer["crew_id"])
            assert status == 200, body
    for sheet in sheets(db):
        assert problems(sheet, CITY) == [], sheet["stops"]


@settings(max_examples=10, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    households=st.lists(
        st.tuples(st.sampled_from(DISTRICTS), st.integers(min_value=1, max_value=4)), min_size=3, max_size=12
    )
)
def test_a_batch_plan_fixed_as_proposed_gives_drivable_days(db_factory, households):
    db = db_factory()
    service = worker(SchedulingService, db)
    for district, size in households:
        new_visit(service, db, district=district, size=size)
    made = response_json(service.create_plan(json_request({"days": 5})))
    for proposal in made["proposals"]:
        status, body = fix(service, proposal["visit_id"], proposal["window_start"], crew=proposal["crew_id"])
        assert status == 200, body
    for sheet in sheets(db):
        assert problems(sheet, CITY) == [], sheet["stops"]


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def test_a_promise_made_under_the_old_rule_is_flagged_for_a_call_not_silently_broken(service, db):
    """Two households of one district fixed back to back with no time to move (as the 0-minute rule
    allowed): the day sheet says the second window cannot be kept, and the fix API refuses it now."""
    from services.scheduling import visits as visit_store
    from services.scheduling.visits import slot_document

    day = working_day(3)
    at = lambda hhmm: dt.datetime.fromisoformat(f"{day}T{hhmm}:00+09:00")  # noqa: E731
    long_one = new_visit(service, db, district="himeki", size=3)  # 15 + 3 x 30 = 105 minutes
    short_one = new_visit(service, db, district="himeki", size=1)
    visit_store.fix(db, long_one, slot_document("crew-1", at("09:00"), at("10:45"), 30))
    assert fix(service, short_one["_id"], at("10:15").isoformat())[0] == 409  # not offered any more
    visit_store.fix(db, short_one, slot_document("crew-1", at("10:15"), at("11:00"), 30))  # as fixed before
    [sheet] = sheets(db)
    late = next(s for s in sheet["stops"] if s["visit_id"] == short_one["_id"])
    assert late["window_kept"] is False and sheet["promises_at_risk"] == [late["reference"]]
    assert problems(sheet, CITY) and all("outside its promised window" in p for p in problems(sheet, CITY))


def test_a_towns_matrix_never_makes_two_households_of_one_district_0_minutes_apart():
    from services.scheduling.travel import MatrixTravel, StraightLineTravel, household_of

    takazaki, yamada = CITY.district("takazaki"), CITY.district("yamada")
    matrix = MatrixTravel({"takazaki": {"takazaki": 0, "yamada": 15}}, StraightLineTravel(CITY.travel), CITY.depot)
    one, other = household_of(takazaki, "a"), household_of(takazaki, "b")
    assert matrix.minutes(one, other) == CITY.travel.minimum_minutes
    assert matrix.minutes(one, one) == 0
    assert matrix.minutes(one, household_of(yamada, "c")) == 15  # the town's own figure between districts
