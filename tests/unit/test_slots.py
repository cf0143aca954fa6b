"""Fixing a slot as a plain domain function (services/scheduling/slots.py), without HTTP."""

import datetime as dt

import pytest

from services.scheduling import slots
from services.scheduling.service import SchedulingService
from shared import clock, municipality, workcalendar
from tests import factories
from tests.factories import next_saturday, worker, working_day


@pytest.fixture
def visit(db):
    service = worker(SchedulingService, db)
    event = factories.request_received(None, district="himeki", household_size=1)
    service.on_request_received(event)
    return db.visits.find_one({"booking_id": event["payload"]["booking_id"]})


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=municipality.load().timezone)


def test_a_slot_is_fixed_with_its_window_and_the_drive_it_adds(db, visit):
    fixed = slots.fix(db, visit["_id"], "crew-1", at(working_day(2), 10), municipality.load())
    assert fixed.visit["status"] == "scheduled" and fixed.before["status"] == "unscheduled"
    assert fixed.visit["slot"]["crew_id"] == "crew-1" and fixed.added_drive_minutes == 10 + 10  # depot, back


def test_a_slot_is_refused_for_the_reason_that_applies(db, visit):
    city = municipality.load()
    saturday = next_saturday()
    assert not workcalendar.is_working_day(saturday, city.calendar)
    with pytest.raises(slots.NotAWorkingTime):
        slots.fix(db, visit["_id"], "crew-1", at(saturday, 10), city)
    with pytest.raises(slots.NotAWorkingTime):
        slots.fix(db, visit["_id"], "crew-1", clock.now() - dt.timedelta(hours=1), city)
    with pytest.raises(slots.DoesNotFit):
        slots.fix(db, visit["_id"], "crew-1", at(working_day(2), 12, 15), city)  # into lunch
    slots.fix(db, visit["_id"], "crew-1", at(working_day(2), 10), city)
    db.visits.update_one({"_id": visit["_id"]}, {"$set": {"status": "done"}})
    with pytest.raises(slots.WrongStatus) as refused:
        slots.fix(db, visit["_id"], "crew-1", at(working_day(3), 10), city)
    assert refused.value.status == "done"
