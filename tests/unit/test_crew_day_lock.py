"""The crew-day lease: one holder at a time, and a holder whose lease ran out while it was stalled
writes nothing (the receptionist is asked to try again) instead of writing over another's check."""

import datetime as dt

import pytest

from services.scheduling import locks, planning
from services.scheduling.locks import Busy, crew_day_lock
from services.scheduling.service import SchedulingService
from tests import factories
from tests.factories import advance_clock, json_request, response_json, worker, working_day

DAY = dt.date(2030, 4, 1)


def test_a_held_day_makes_the_next_caller_wait_then_answer_busy(db, monkeypatch):
    monkeypatch.setattr(locks, "WAIT_SECONDS", 0.1)
    with crew_day_lock(db, "crew-1", DAY) as lease:
        with pytest.raises(Busy), crew_day_lock(db, "crew-1", DAY):
            pass
        with crew_day_lock(db, "crew-2", DAY):  # another crew's day is free
            pass
        lease.confirm()
    with crew_day_lock(db, "crew-1", DAY):  # released
        pass


def test_a_lease_that_ran_out_or_was_taken_over_is_not_confirmed(db, monkeypatch):
    with crew_day_lock(db, "crew-1", DAY) as lease:
        advance_clock(monkeypatch, locks.LEASE_SECONDS - locks.SPARE_SECONDS + 0.1)  # too little left to write
        with pytest.raises(Busy):
            lease.confirm()
        advance_clock(monkeypatch, locks.LEASE_SECONDS + 0.1)
        with crew_day_lock(db, "crew-1", DAY) as other:  # expired: another receptionist takes the day
            other.confirm()
            with pytest.raises(Busy):
                lease.confirm()


def test_fixing_a_slot_after_the_lease_ran_out_stores_nothing_and_answers_503(db, monkeypatch):
    service = worker(SchedulingService, db)
    event = factories.request_received(district="takazaki", household_size=2)
    service.on_request_received(event)
    visit = db.visits.find_one({"booking_id": event["payload"]["booking_id"]})
    fit = planning.fit

    def stalled_fit(*args, **kwargs):
        found = fit(*args, **kwargs)
        advance_clock(monkeypatch, locks.LEASE_SECONDS + 1)  # the process stalls mid-check
        return found

    monkeypatch.setattr(planning, "fit", stalled_fit)
    start = f"{working_day(2).isoformat()}T10:00:00+09:00"
    answer = service.fix_slot(json_request({"start": start, "crew_id": "crew-1"}), visit["_id"])
    assert answer.status_code == 503 and response_json(answer)["error"] == "busy"
    stored = db.visits.find_one({"_id": visit["_id"]})
    assert stored["status"] == "unscheduled" and not stored.get("slot")
    assert not [e for e in stored.get("outbox", []) if e["event"]["event_type"] == "scheduling.slot_fixed"]

    monkeypatch.setattr(planning, "fit", fit)  # no stall: the same request goes through
    assert service.fix_slot(json_request({"start": start, "crew_id": "crew-1"}), visit["_id"]).status_code == 200
