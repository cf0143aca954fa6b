"""Issue 17: reception sees the expected wait when it books, and every request a plan (or the queue)
says will be visited past its wait bound is listed: on the visit, in GET /api/v1/visits?at_risk=true
and in the gauge, until a slot is fixed or a later plan places it."""

from __future__ import annotations

import datetime as dt

import pytest

from services.scheduling import metrics, waiting
from services.scheduling.service import SchedulingService
from shared import clock, events, municipality, workcalendar
from tests.factories import event, json_request, response_json, worker
from tests.unit.test_scheduling_service import fix, new_visit

CITY = municipality.load()


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def working_days_ago(count: int) -> dt.datetime:
    day = clock.today()
    for _ in range(count):
        day = workcalendar.previous_working_day(day, CITY.calendar)
    return dt.datetime.combine(day, dt.time(9), CITY.timezone)


def listed(service, **query) -> list[dict]:
    answer = service.list_visits(json_request(method="GET", query={k: str(v).lower() for k, v in query.items()}))
    assert answer.status_code == 200, response_json(answer)
    return response_json(answer)["visits"]


def test_a_new_request_is_told_the_wait_target_when_the_queue_is_short(service, db):
    visit = new_visit(service, db)
    [shown] = listed(service, booking_id=visit["booking_id"])
    expected = shown["expected"]
    assert expected["expected_working_days"] == CITY.visits.wait_target
    by = dt.date.fromisoformat(expected["expected_by"])
    assert workcalendar.working_days_between(clock.today(), by, CITY.calendar) == CITY.visits.wait_target
    bound = dt.date.fromisoformat(expected["bound_by"])
    assert workcalendar.working_days_between(clock.today(), bound, CITY.calendar) == CITY.visits.max_wait_working_days
    assert shown["wait_risk"] is None


def test_a_queue_longer_than_the_bound_marks_the_new_request_at_risk_at_once(service, db):
    per_bound = len(CITY.crews) * waiting.visits_per_crew_day(CITY) * CITY.visits.max_wait_working_days
    for _ in range(per_bound):  # exactly what the crews can do within the bound: the last still fits
        new_visit(service, db, district="himeki")
    assert db.visits.count_documents({"wait_risk": {"$ne": None}}) == 0
    late = new_visit(service, db, district="himeki")
    assert late["expected"]["expected_working_days"] == CITY.visits.max_wait_working_days + 1
    assert late["wait_risk"]["reason"] == "queue_longer_than_bound"
    assert [v["visit_id"] for v in listed(service, at_risk=True)] == [late["_id"]]


def test_a_plan_names_the_requests_it_cannot_place_within_their_bound_until_they_are_fixed(service, db):
    # Ten households near their bound (18 of 20 working days waited), one crew: a 2-day plan has
    # room for some, not all.
    near_bound = [
        new_visit(service, db, district=d) for d in ["takazaki", "yamada", "shonai", "takajo", "nishidake"] * 2
    ]
    db.visits.update_many({}, {"$set": {"requested_at": working_days_ago(18)}})
    answer = service.create_plan(json_request({"days": 2}))
    assert answer.status_code == 201, response_json(answer)
    made = response_json(answer)
    named = {r["visit_id"]: r["reason"] for r in made["at_risk"]}
    unplanned = {u["visit_id"] for u in made["unplanned"]}
    assert named and set(named) == unplanned, (named, unplanned)
    assert set(named.values()) == {"over_capacity"}
    at_risk = listed(service, at_risk=True)
    assert {v["visit_id"] for v in at_risk} == set(named)
    assert all(v["wait_risk"]["plan_id"] == made["plan_id"] for v in at_risk)
    assert {v["visit_id"] for v in listed(service, at_risk=False)} == {v["_id"] for v in near_bound} - set(named)
    service.refresh_gauges()
    assert metrics.visits_at_risk._value.get() == len(named)

    first = next(iter(named))
    suggestion = response_json(service.suggestions(json_request(method="GET"), first))["suggestions"][0]
    status, body = fix(service, first, suggestion["start"], crew=suggestion["crew_id"])
    assert status == 200 and body["wait_risk"] is None
    assert {v["visit_id"] for v in listed(service, at_risk=True)} == set(named) - {first}
    second = sorted(set(named) - {first})[0]
    booking_id = next(v["booking_id"] for v in near_bound if v["_id"] == second)
    service.on_request_cancelled(
        event(events.REQUEST_CANCELLED, {"booking_id": booking_id, "reason": "resident_request"})
    )
    assert {v["visit_id"] for v in listed(service, at_risk=True)} == set(named) - {first, second}


def test_a_later_plan_that_places_a_request_clears_its_mark(service, db):
    visit = new_visit(service, db, district="himeki")
    db.visits.update_one({"_id": visit["_id"]}, {"$set": {"wait_risk": waiting.risk("over_capacity", "old-plan")}})
    made = response_json(service.create_plan(json_request({"days": 3})))
    assert [p["visit_id"] for p in made["proposals"]] == [visit["_id"]] and not made["at_risk"]
    assert listed(service, at_risk=True) == []


def test_the_fairness_pass_counts_the_visits_fixed_within_the_bound(service, db):
    from services.scheduling import campaign

    recent, old = (new_visit(service, db, district=d) for d in ("himeki", "yamada"))
    new_visit(service, db, district="takazaki")  # still waiting: not served
    for visit in (recent, old):
        suggestion = response_json(service.suggestions(json_request(method="GET"), visit["_id"]))["suggestions"][0]
        assert fix(service, visit["_id"], suggestion["start"], crew=suggestion["crew_id"])[0] == 200
    bound = CITY.visits.max_wait_working_days
    db.visits.update_one({"_id": old["_id"]}, {"$set": {"slot.fixed_at": working_days_ago(bound + 1)}})
    assert campaign.served_lately(db, CITY) == {"himeki": 1}


def test_the_resident_sees_the_same_expected_date_on_their_own_page(service, db):
    visit = new_visit(service, db)
    choices = service.offers_for_booking(visit["booking_id"])
    assert choices["expected_by"] == visit["expected"]["expected_by"]
    suggestion = choices["suggestions"][0]
    assert fix(service, visit["_id"], suggestion["start"], crew=suggestion["crew_id"])[0] == 200
    assert service.offers_for_booking(visit["booking_id"])["expected_by"] is None  # the date is set now


def test_a_malformed_at_risk_filter_is_a_field_error_not_a_500(service):
    answer = service.list_visits(json_request(method="GET", query={"at_risk": "maybe"}))
    body = response_json(answer)
    assert answer.status_code == 422 and body["fields"][0]["field"] == "at_risk", body
