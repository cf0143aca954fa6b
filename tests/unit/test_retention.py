"""Retention: a booking's personal data is erased RETENTION_DAYS after its visit or cancellation,
leaving the anonymous facts the reports need."""

import datetime as dt
import uuid

import pytest

from services.booking import bookings
from services.booking import metrics as m
from services.booking.service import BookingService
from shared import clock, events
from tests.factories import (
    advance_clock,
    booking_body,
    event,
    json_request,
    notification_identity,
    response_json,
    worker,
)


@pytest.fixture
def service(db):
    return worker(BookingService, db)


def book(service) -> str:
    return response_json(service.create_booking(json_request(booking_body())))["booking_id"]


def visit_done(booking_id: str, outcome: str) -> dict:
    payload = {
        "visit_id": "v-" + booking_id,
        "booking_id": booking_id,
        "crew_id": "crew-1",
        "date": clock.today(),
        "district": "takazaki",
        "outcome": outcome,
        "persons_applied": 2 if outcome != "absent" else 0,
    }
    return event(events.VISIT_DONE, payload, correlation_id=booking_id)


def test_the_timer_erases_what_is_past_the_period_and_keeps_the_rest(service, db, monkeypatch):
    visited, absent, cancelled, waiting = (book(service) for _ in range(4))
    service.on_visit_done(visit_done(visited, "completed"))
    service.on_visit_done(visit_done(absent, "absent"))  # another visit will be needed: kept
    service.cancel_booking(json_request({"reason": "resident_request"}), cancelled)
    before = m.personal_data_erased._value.get()

    service.erase_expired()  # the default 90 days have not passed
    assert db.bookings.count_documents({"personal": None}) == 0

    monkeypatch.setenv("RETENTION_DAYS", "0")
    advance_clock(monkeypatch, 1)  # strictly after the visits and the cancellation
    service.erase_expired()
    assert m.personal_data_erased._value.get() == before + 2
    for booking_id in (visited, cancelled):
        doc = db.bookings.find_one({"_id": booking_id})
        assert doc["personal"] is None and "phone_hash" not in doc
        assert doc["facts"]["district"] == "takazaki" and doc["facts"]["household_size"] == 2
        view = response_json(service.get_booking(json_request(method="GET"), booking_id))
        assert view["household"] is None and view["erased_at"]
        assert service.get_contact(booking_id, notification_identity(booking_id)) is None
    for booking_id in (absent, waiting):
        assert service.get_contact(booking_id, notification_identity(booking_id))["phone"] == "0986221234"
    # The erased no longer turn up when the household calls again.
    found = service.find_bookings(json_request(method="GET", query={"phone": "0986-22-1234"}))
    assert {b["booking_id"] for b in response_json(found)["bookings"]} == {absent, waiting}


def test_the_period_counts_from_the_visit_and_a_redelivered_event_does_not_restart_it(service, db):
    booking_id = book(service)
    done = visit_done(booking_id, "partial")
    service.on_visit_done(done)
    first = db.bookings.find_one({"_id": booking_id})["visited_at"]
    service.on_visit_done({**done, "event_id": str(uuid.uuid4()), "occurred_at": clock.iso(clock.now())})
    assert db.bookings.find_one({"_id": booking_id})["visited_at"] == first
    now = clock.now()
    assert bookings.erase_expired(db, first - dt.timedelta(seconds=1), now) == 0
    assert bookings.erase_expired(db, first + dt.timedelta(seconds=1), now) == 1
