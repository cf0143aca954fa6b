import datetime as dt
import uuid

import pytest

from services.scheduling.service import SchedulingService
from shared import events
from tests import factories
from tests.factories import json_request, next_new_year_closure_day, response_json, worker, working_day


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def request_received(district="takazaki", size=2, preferred=(), booking_id=None):
    return factories.request_received(booking_id, district=district, household_size=size, preferred=list(preferred))


def new_visit(service, db, **kwargs):
    event = request_received(**kwargs)
    service.on_request_received(event)
    return db.visits.find_one({"booking_id": event["payload"]["booking_id"]})


def get(response):
    return response.status_code, response_json(response)


def test_a_request_becomes_one_unscheduled_visit_however_often_it_arrives(service, db):
    event = request_received()
    service.on_request_received(event)
    service.on_request_received(event)
    service.on_request_received({**event, "event_id": str(uuid.uuid4())})
    [visit] = db.visits.find({})
    assert visit["status"] == "unscheduled"
    assert visit["duration_minutes"] == 15 + 30 * 2


def test_a_broken_event_is_refused_before_any_work(service, db):
    event = request_received()
    event["payload"]["household_size"] = 0
    with pytest.raises(events.InvalidEvent):
        service.on_request_received(event)
    assert db.visits.count_documents({}) == 0


def test_suggestions_honour_the_preferred_day_and_half(service, db):
    day = working_day(3)
    visit = new_visit(service, db, preferred=[{"date": day, "period": "pm"}])
    status, body = get(service.suggestions(json_request(method="GET"), visit["_id"]))
    assert status == 200
    first = body["suggestions"][0]
    start = dt.datetime.fromisoformat(first["start"])
    assert first["matches_preference"] and start.date() == day and start.hour >= 13
    assert first["added_drive_minutes"] == 106


def fix(service, visit_id, start, crew="crew-1"):
    return get(service.fix_slot(json_request({"start": start, "crew_id": crew}), visit_id))


def test_fixing_a_suggested_slot_schedules_the_visit_with_a_promised_window(service, db):
    visit = new_visit(service, db)
    option = response_json(service.suggestions(json_request(method="GET"), visit["_id"]))["suggestions"][0]
    status, body = fix(service, visit["_id"], option["start"])
    assert status == 200 and body["status"] == "scheduled"
    assert body["slot"]["start"] == option["start"]
    window = dt.datetime.fromisoformat(body["slot"]["window_end"]) - dt.datetime.fromisoformat(option["start"])
    assert window == dt.timedelta(minutes=30)
    fixed = [e["event"] for e in db.visits.find_one({"_id": visit["_id"]})["outbox"]]
    assert [e["event_type"] for e in fixed] == ["scheduling.slot_fixed"]
    assert fixed[0]["payload"]["crew_id"] == "crew-1"


def test_a_clashing_slot_gets_409_with_fresh_offers(service, db):
    first, second = new_visit(service, db), new_visit(service, db, district="yamada")
    start = f"{working_day(2).isoformat()}T10:00:00+09:00"
    assert fix(service, first["_id"], start)[0] == 200
    status, body = fix(service, second["_id"], start)
    assert status == 409 and body["error"] == "slot_unavailable"
    assert body["suggestions"] and all(s["start"] != start for s in body["suggestions"])
    assert db.visits.find_one({"_id": second["_id"]})["status"] == "unscheduled"


def test_a_slot_in_the_past_or_on_a_holiday_or_for_an_unknown_crew_is_refused(service, db):
    visit = new_visit(service, db)
    assert fix(service, visit["_id"], "2020-01-06T10:00:00+09:00")[0] == 422
    closed = next_new_year_closure_day()  # in the future whatever the date the suite runs
    status, body = fix(service, visit["_id"], f"{closed}T10:00:00+09:00")
    assert status == 422 and body["error"] == "not_a_working_time"
    assert fix(service, visit["_id"], f"{working_day(2)}T10:00:00+09:00", crew="crew-9")[0] == 422
    assert fix(service, visit["_id"], "tomorrow at ten")[0] == 422
    assert fix(service, "nope", f"{working_day(2)}T10:00:00+09:00")[0] == 404


def test_recording_the_visit_emits_visit_done(service, db):
    visit = new_visit(service, db, size=3)
    fix(service, visit["_id"], f"{working_day(2)}T09:30:00+09:00")
    too_many = service.visit_done(json_request({"outcome": "completed", "persons_applied": 4}), visit["_id"])
    assert too_many.status_code == 422
    absent_with_people = service.visit_done(json_request({"outcome": "absent", "persons_applied": 1}), visit["_id"])
    assert absent_with_people.status_code == 422
    status, body = get(service.visit_done(json_request({"outcome": "partial", "persons_applied": 2}), visit["_id"]))
    assert status == 200 and body["status"] == "done" and body["result"]["persons_applied"] == 2
    done = db.visits.find_one({"_id": visit["_id"]})["outbox"][-1]["event"]
    assert done["event_type"] == "scheduling.visit_done" and done["payload"]["outcome"] == "partial"
    assert get(service.visit_done(json_request({"outcome": "completed", "persons_applied": 1}), visit["_id"]))[0] == 409


def per_applicant(*results, result_id=None):
    body = {"applicants": [{"result": r} for r in results]}
    return json_request({**body, "result_id": result_id} if result_id else body)


@pytest.mark.parametrize(
    ("results", "outcome", "applied", "status"),
    [
        (("applied", "applied", "applied"), "completed", 3, "done"),
        (("applied", "missing_documents", "absent"), "partial", 1, "done"),
        (("absent", "absent", "absent"), "absent", 0, "done"),
        (("missing_documents", "wants_revisit", "absent"), "postponed", 0, "unscheduled"),
    ],
)
def test_results_per_applicant_decide_the_outcome_and_travel_as_counts(service, db, results, outcome, applied, status):
    visit = new_visit(service, db, size=3)
    fix(service, visit["_id"], f"{working_day(2)}T09:30:00+09:00")
    code, body = get(service.visit_done(per_applicant(*results), visit["_id"]))
    assert code == 200 and body["status"] == status
    done = db.visits.find_one({"_id": visit["_id"]})["outbox"][-1]["event"]
    assert done["schema_version"] == 2
    assert done["payload"]["outcome"] == outcome and done["payload"]["persons_applied"] == applied
    assert done["payload"]["applicants"] == {r: results.count(r) for r in events.APPLICANT_RESULTS}


def test_a_result_for_each_applicant_is_needed_and_the_same_result_sent_twice_is_recorded_once(service, db):
    visit = new_visit(service, db, size=2)
    fix(service, visit["_id"], f"{working_day(2)}T09:30:00+09:00")
    assert service.visit_done(per_applicant("applied"), visit["_id"]).status_code == 422
    first = get(service.visit_done(per_applicant("applied", "absent", result_id="tablet-0001"), visit["_id"]))
    again = get(service.visit_done(per_applicant("applied", "absent", result_id="tablet-0001"), visit["_id"]))
    assert first[0] == again[0] == 200 and first[1]["result"] == again[1]["result"]
    outbox = db.visits.find_one({"_id": visit["_id"]})["outbox"]
    assert [e["event"]["event_type"] for e in outbox].count("scheduling.visit_done") == 1
    other = service.visit_done(per_applicant("applied", "applied", result_id="tablet-0002"), visit["_id"])
    assert other.status_code == 409  # another result for a visit already done


def test_a_postponed_visit_waits_for_a_new_slot(service, db):
    visit = new_visit(service, db)
    fix(service, visit["_id"], f"{working_day(2)}T09:30:00+09:00")
    status, body = get(service.visit_done(json_request({"outcome": "postponed", "persons_applied": 0}), visit["_id"]))
    assert status == 200 and body["status"] == "unscheduled" and body["slot"] is None


def test_a_cancelled_booking_releases_its_slot(service, db):
    visit = new_visit(service, db)
    fix(service, visit["_id"], f"{working_day(2)}T09:30:00+09:00")
    service.on_request_cancelled(
        events.build(
            events.REQUEST_CANCELLED,
            {"booking_id": visit["booking_id"], "reason": "resident_request"},
            correlation_id=visit["booking_id"],
            municipality_code="452025",
        )
    )
    stored = db.visits.find_one({"_id": visit["_id"]})
    assert stored["status"] == "cancelled" and stored["slot"] is None
    assert stored["outbox"][-1]["event"]["event_type"] == "scheduling.slot_released"
    other = new_visit(service, db)
    assert fix(service, other["_id"], f"{working_day(2)}T09:30:00+09:00")[0] == 200  # the time is free again


def test_the_crew_day_lists_stops_in_order_with_whom_to_call(service, db):
    day = working_day(2)
    far, near = new_visit(service, db, district="takazaki"), new_visit(service, db, district="himeki", size=1)
    fix(service, far["_id"], f"{day}T13:30:00+09:00")
    fix(service, near["_id"], f"{day}T09:00:00+09:00")
    service.booking.get_contacts.return_value = {
        far["booking_id"]: {"name": "霧島 一郎", "phone": "0986221234"},
        near["booking_id"]: {"name": "大淀 千代", "phone": "09012345678"},
    }
    status, sheet = get(service.crew_day(json_request(method="GET"), "crew-1", day.isoformat()))
    assert status == 200
    assert [s["visit_id"] for s in sheet["stops"]] == [near["_id"], far["_id"]]
    assert [c["name"] for c in sheet["calls"]] == ["大淀 千代", "霧島 一郎"]
    assert sheet["total_drive_minutes"] == 10 + 53 + 53  # depot-Himeki, Himeki-Takazaki, back
    assert sheet["calls"][0]["call_at"] == f"{day}T08:35:00+09:00"  # 9:00 - 10 min drive - 15 min lead
    assert service.crew_day(json_request(method="GET"), "crew-9", day.isoformat()).status_code == 404
    assert service.crew_day(json_request(method="GET"), "crew-1", "someday").status_code == 400


def test_the_day_sheet_shows_who_applies_and_flags_a_child_who_needs_a_guardian_on_that_day(service, db):
    day = working_day(2)
    visit = new_visit(service, db, district="himeki", size=2)
    fix(service, visit["_id"], f"{day}T10:00:00+09:00")
    fifteen_tomorrow = day.replace(year=day.year - 15) + dt.timedelta(days=1)
    fifteen_today = day.replace(year=day.year - 15)
    service.booking.get_contacts.return_value = {
        visit["booking_id"]: {
            "name": "大淀 千代",
            "phone": "09012345678",
            "address": {"postal_code": "885-0011", "district": "himeki", "line": "姫城町 1"},
            "needs": "耳が遠い",
            "applicants": [
                {"name": "大淀 千代", "name_kana": "オオヨド チヨ", "birth_date": fifteen_today.isoformat()},
                {"name": "大淀 健", "name_kana": "オオヨド ケン", "birth_date": fifteen_tomorrow.isoformat()},
            ],
        }
    }
    status, sheet = get(service.crew_day(json_request(method="GET"), "crew-1", day.isoformat()))
    assert status == 200
    [stop] = sheet["stops"]
    assert stop["needs"] == "耳が遠い" and stop["address"]["line"] == "姫城町 1"
    assert [(a["age"], a["guardian_needed"]) for a in stop["applicants"]] == [(15, False), (14, True)]
    assert service.booking.get_contacts.call_args.args[2] is True  # asked for the visit details


def test_the_day_sheet_still_comes_when_booking_is_away(service, db):
    day = working_day(2)
    visit = new_visit(service, db)
    fix(service, visit["_id"], f"{day}T10:00:00+09:00")
    service.booking.get_contacts.side_effect = TimeoutError
    status, sheet = get(service.crew_day(json_request(method="GET"), "crew-1", day.isoformat()))
    assert status == 200 and not sheet["contacts_available"] and sheet["calls"][0]["phone"] is None


def test_a_request_for_a_district_scheduling_does_not_know_fails_to_be_retried_then_parked(service, db):
    from services.scheduling.visits import UnknownDistrict

    with pytest.raises(UnknownDistrict):
        service.on_request_received(request_received(district="atlantis"))
    assert db.visits.count_documents({}) == 0
