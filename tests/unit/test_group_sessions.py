"""Group sessions: five or more people helped at once at a community hall, scheduled like any visit
but with the crew going to the hall."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.booking.service import BookingService
from services.notification.service import NotificationService
from services.scheduling.service import SchedulingService
from shared import events, municipality
from tests.factories import (
    applicant,
    booking_body,
    json_request,
    request_received,
    response_json,
    slot_fixed_payload,
    worker,
    working_day,
)
from tests.unit.test_notification_service import CONTACT, build

CITY = municipality.load()


def group(size: int, venue: str = "高崎地区公民館") -> dict:
    return booking_body(applicants=[applicant(i) for i in range(size)], venue=venue)


@pytest.fixture
def booking(db):
    return worker(BookingService, db)


def test_a_group_of_five_at_a_hall_is_booked_with_the_venue_in_its_event(booking, db):
    answer = booking.create_booking(json_request(group(5)))
    assert answer.status_code == 201, response_json(answer)
    [entry] = db.bookings.find_one({"_id": response_json(answer)["booking_id"]})["outbox"]
    payload = events.parse(entry["event"], events.REQUEST_RECEIVED).payload
    assert payload["venue"] == "takazaki-hall" and payload["household_size"] == 5


@pytest.mark.parametrize(
    ("body", "english", "japanese"),
    [
        (group(4), "A group session needs 5 or more people.", "5人以上"),
        (group(5, "どこかの公民館"), "Unknown venue.", "会場"),
    ],
)
def test_a_venue_needs_a_known_hall_and_a_group(booking, db, body, english, japanese):
    answer = booking.create_booking(json_request(body))
    assert answer.status_code == 422
    [error] = response_json(answer)["fields"]
    assert error["field"] == "venue" and error["en"] == english and japanese in error["ja"]
    assert db.bookings.count_documents({}) == 0


def test_the_crew_goes_to_the_hall_not_the_district_centre(db):
    scheduling = worker(SchedulingService, db)
    event = request_received(district="himeki", household_size=6, venue="yamada-hall")  # organiser lives in town
    scheduling.on_request_received(event)
    visit = db.visits.find_one({"booking_id": event["payload"]["booking_id"]})
    assert visit["venue"] == "yamada-hall" and visit["duration_minutes"] == 15 + 30 * 6
    day = working_day(3)
    fixed = scheduling.fix_slot(
        json_request({"start": f"{day.isoformat()}T13:00:00+09:00", "crew_id": "crew-1"}), visit["_id"]
    )
    body = response_json(fixed)
    assert fixed.status_code == 200, body
    # City hall (31.7196, 131.0617) to the Yamada hall (31.842, 130.962): 16.55 km as the crow flies,
    # x 1.5 for the roads at 28 km/h = 53.2 min, rounded up to 54; there and back. (Himeki: 10.)
    assert body["added_drive_minutes"] == 2 * 54
    assert body["venue"] == "yamada-hall"
    sheet = response_json(scheduling.crew_day(json_request(method="GET"), "crew-1", day.isoformat()))
    assert sheet["stops"][0]["venue_name"] == "山田地区公民館"


def test_the_confirmation_names_the_venue(db):
    notification = worker(NotificationService, db, config={})
    notification.booking.get_contact.return_value = dict(CONTACT)
    booking_id = str(uuid.uuid4())
    start = dt.datetime.combine(working_day(3), dt.time(10), CITY.timezone)
    slot = slot_fixed_payload(
        booking_id,
        start,
        end=start + dt.timedelta(minutes=165),
        district="takazaki",
        venue="takazaki-hall",
        household_size=5,
    )
    notification.on_slot_fixed(build(events.SLOT_FIXED, slot, booking_id))
    _, message, _ = notification.mailer.send.call_args.args
    assert "会場：高崎地区公民館（この時間内に会場へお越しください）" in message.body
    assert "伺う前に担当者からお電話します" not in message.body  # they come to the hall; nobody calls first
