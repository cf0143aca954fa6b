"""The figures behind scheduling's alerts and dashboard panels."""

import datetime as dt

import pytest

from services.scheduling import metrics as m
from services.scheduling.service import SchedulingService
from services.scheduling.stall import stalled_working_days
from shared import municipality, workcalendar
from tests.factories import json_request, response_json, worker, working_day
from tests.unit.test_scheduling_service import fix, new_visit

JST = dt.timezone(dt.timedelta(hours=9))


@pytest.fixture
def city():
    return municipality.load()


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def at_noon(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(12), JST)


def test_working_days_between_skips_weekends_and_the_new_year_closure(city):
    friday, monday = dt.date(2026, 11, 27), dt.date(2026, 11, 30)
    assert workcalendar.working_days_between(friday, monday, city.calendar) == 1
    assert workcalendar.working_days_between(monday, friday, city.calendar) == 0
    # 12/28 (Mon) to 1/5 (Tue): the closure 12/29-1/3 and the weekend count for nothing
    assert workcalendar.working_days_between(dt.date(2026, 12, 28), dt.date(2027, 1, 5), city.calendar) == 2


def test_nothing_waiting_is_never_stalled(db, city):
    assert stalled_working_days(db, city, dt.date(2026, 12, 4)) == 0
    db.visits.insert_one({"_id": "v", "status": "scheduled", "requested_at": at_noon(dt.date(2026, 11, 2))})
    assert stalled_working_days(db, city, dt.date(2026, 12, 4)) == 0


def test_stall_counts_from_the_later_of_the_oldest_wait_and_the_last_fix(db, city):
    db.visits.insert_many(
        [
            {"_id": "w1", "status": "unscheduled", "requested_at": at_noon(dt.date(2026, 11, 24))},
            {"_id": "w2", "status": "unscheduled", "requested_at": at_noon(dt.date(2026, 11, 26))},
        ]
    )
    friday_next_week = dt.date(2026, 12, 4)
    assert stalled_working_days(db, city, friday_next_week) == 8  # 11/25 .. 12/4 without 11/28-29
    db.visits.insert_one(
        {
            "_id": "f",
            "status": "scheduled",
            "requested_at": at_noon(dt.date(2026, 11, 20)),
            "slot": {"fixed_at": at_noon(dt.date(2026, 12, 1)).astimezone(dt.UTC).replace(tzinfo=None)},
        }
    )
    assert stalled_working_days(db, city, friday_next_week) == 3  # 12/2, 12/3, 12/4


def sample(metric, **labels) -> float:
    [family] = metric.collect()
    for s in family.samples:
        if s.name.endswith(("_count", "_total")) and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0.0


def test_fixing_a_first_slot_observes_the_wait_and_a_visit_counts_people_by_channel_and_district(service, db):
    visit = new_visit(service, db, district="takazaki", size=3)
    waited_before = sample(m.request_to_slot_fixed)
    day = working_day(2)
    assert fix(service, visit["_id"], dt.datetime.combine(day, dt.time(10), JST).isoformat())[0] == 200
    assert sample(m.request_to_slot_fixed) == waited_before + 1
    assert fix(service, visit["_id"], dt.datetime.combine(day, dt.time(14), JST).isoformat())[0] == 200  # a reschedule
    assert sample(m.request_to_slot_fixed) == waited_before + 1

    served_before = sample(m.persons_applied, channel="phone", district="takazaki")
    done = service.visit_done(json_request({"outcome": "completed", "persons_applied": 3}), visit["_id"])
    assert done.status_code == 200, response_json(done)
    assert sample(m.persons_applied, channel="phone", district="takazaki") == served_before + 3
