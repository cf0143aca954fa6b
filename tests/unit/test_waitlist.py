"""The waiting list (キャンセル待ち) in scheduling: a cancelled window is offered to the waiting
households that fit it, longest-waiting first and within their wishes; the first to accept gets it
(slot_fixed says `recovered`), the others hear it is gone."""

from __future__ import annotations

import datetime as dt

import pytest

from services.scheduling.service import SchedulingService
from shared import clock, events
from tests import factories
from tests.factories import advance_clock, worker, working_day


@pytest.fixture
def service(db):
    return worker(SchedulingService, db)


def waiting(service, db, district="takazaki", preferred=()) -> dict:
    event = factories.request_received(district=district, household_size=1, preferred=list(preferred))
    service.on_request_received(event)
    return db.visits.find_one({"booking_id": event["payload"]["booking_id"]})


def released_event(db, visit_id) -> dict:
    """The slot_released the cancellation left in the visit's outbox, as the bus delivers it."""
    visit = db.visits.find_one({"_id": visit_id})
    [entry] = [e for e in visit["outbox"] if e["routing_key"] == "slot_released"]
    return entry["event"]


def deadline() -> str:
    return clock.iso(clock.now() + dt.timedelta(seconds=8))


def cancelled_window(service, db, monkeypatch) -> tuple[dict, dt.datetime]:
    """A household fixed at 10:00 two working days ahead, then cancelled: (its visit, the start)."""
    first = waiting(service, db)
    start = dt.datetime.combine(working_day(2), dt.time(10, 0), clock.JST)
    answer = service.fix_for_booking(first["booking_id"], "crew-1", clock.iso(start), None, deadline())
    assert answer["result"] == "fixed", answer
    advance_clock(monkeypatch, 1)  # the others requested later than the first
    return first, start


def test_a_cancelled_window_goes_to_the_longest_waiting_households_that_fit(service, db, monkeypatch):
    first, start = cancelled_window(service, db, monkeypatch)
    older = waiting(service, db)
    advance_clock(monkeypatch, 2)
    other_day = waiting(service, db, preferred=[{"date": working_day(5), "period": "any"}])
    advance_clock(monkeypatch, 3)
    newer = waiting(service, db)

    service.on_request_cancelled(
        factories.event(events.REQUEST_CANCELLED, {"booking_id": first["booking_id"], "reason": "resident_request"})
    )
    released = released_event(db, first["_id"])
    service.on_slot_released(released)
    service.on_slot_released(released)  # redelivered: no second round of offers
    offers = list(db.offers.find({}).sort("created_at", 1))
    assert [o["booking_id"] for o in offers] == [older["booking_id"], newer["booking_id"]]
    assert other_day["booking_id"] not in {o["booking_id"] for o in offers}  # asked for another day
    assert all(clock.aware(o["start"]) == start for o in offers)
    [entry] = offers[0]["outbox"]
    assert entry["routing_key"] == "slot_offered" and entry["event"]["payload"]["booking_id"] == older["booking_id"]

    # The older household sees it on its page and takes it; the newer one is too late.
    listed = service.offers_for_booking(older["booking_id"])
    assert [o["offer_id"] for o in listed["waitlist"]] == [offers[0]["_id"]]
    taken = service.fix_for_booking(older["booking_id"], "", "", offers[0]["_id"], deadline())
    assert taken["result"] == "fixed" and taken["visit"]["status"] == "scheduled"
    # Taken: the other household's page no longer shows it, and a late click hears it is gone.
    assert service.offers_for_booking(newer["booking_id"])["waitlist"] == []
    late = service.fix_for_booking(newer["booking_id"], "", "", offers[1]["_id"], deadline())
    assert late == {"result": "gone"}
    fixed_event = db.visits.find_one({"_id": older["_id"]})["outbox"][-1]["event"]
    assert fixed_event["event_type"] == "scheduling.slot_fixed" and fixed_event["payload"]["recovered"] is True
    assert {o["status"] for o in db.offers.find({})} == {"taken", "gone"}


def test_an_offer_is_for_its_own_booking_and_a_late_call_does_nothing(service, db, monkeypatch):
    first, _ = cancelled_window(service, db, monkeypatch)
    one, two = waiting(service, db), waiting(service, db)
    service.on_request_cancelled(
        factories.event(events.REQUEST_CANCELLED, {"booking_id": first["booking_id"], "reason": "resident_request"})
    )
    service.on_slot_released(released_event(db, first["_id"]))
    offer_for_one = db.offers.find_one({"booking_id": one["booking_id"]})
    assert service.fix_for_booking(two["booking_id"], "", "", offer_for_one["_id"], deadline()) == {"result": "gone"}
    assert service.fix_for_booking("no-such-booking", "", "", None, deadline()) == {"result": "unknown"}
    past = clock.iso(clock.now() - dt.timedelta(seconds=1))
    assert service.fix_for_booking(one["booking_id"], "", "", offer_for_one["_id"], past) == {"result": "expired"}
    for nowhen in ("soon", "2099-01-01T10:00:00"):  # malformed, or without a time zone: names no moment
        assert service.fix_for_booking(one["booking_id"], "", "", offer_for_one["_id"], nowhen) == {"result": "gone"}
    assert db.visits.find_one({"_id": one["_id"]})["status"] == "unscheduled"


def test_a_window_moved_within_the_day_or_already_past_is_offered_to_nobody(service, db, monkeypatch):
    first, start = cancelled_window(service, db, monkeypatch)
    waiting(service, db)
    payload = {"visit_id": first["_id"], "booking_id": first["booking_id"], "crew_id": "crew-1", "start": start}
    service.on_slot_released(factories.event(events.SLOT_RELEASED, {**payload, "reason": "moved_by_staff"}))
    past = start - dt.timedelta(days=30)
    service.on_slot_released(factories.event(events.SLOT_RELEASED, {**payload, "start": past, "reason": "cancelled"}))
    assert db.offers.count_documents({}) == 0


def test_other_days_replace_the_wishes_while_unscheduled_only(service, db, monkeypatch):
    first, _ = cancelled_window(service, db, monkeypatch)
    visit = waiting(service, db)
    wishes = [{"date": working_day(4).isoformat(), "period": "pm"}]
    assert service.prefer_dates(visit["booking_id"], wishes) == {"result": "saved"}
    assert db.visits.find_one({"_id": visit["_id"]})["preferred"] == wishes
    assert service.prefer_dates(first["booking_id"], wishes) == {"result": "wrong_status"}  # already fixed
