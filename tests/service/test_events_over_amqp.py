"""Service tests: real nameko containers exchanging events over the local RabbitMQ."""

import uuid

import pytest
import requests

from services.booking.service import BookingService
from services.notification.service import NotificationService
from services.outreach.service import OutreachService
from services.scheduling.service import SchedulingService
from shared import events
from tests.bus import acked, publish, publish_referral, wait_until
from tests.factories import (
    booking_body,
    funnel_period,
    referral_event,
    request_received,
    staff_headers,
    working_day,
)

pytestmark = pytest.mark.service
SCHEDULING_REQUESTS = "evt-booking-request_received--scheduling.on_request_received"


def test_an_accepted_booking_is_published_to_booking_events(start, listener):
    bus = listener("booking.events")
    booking = start(BookingService)
    answer = requests.post(f"{booking}/api/v1/bookings", json=booking_body(channel="web"), timeout=10)
    assert answer.status_code == 201
    booking_id = answer.json()["booking_id"]
    [body] = bus.wait_for(lambda _: bus.of_type("booking.request_received"))
    event = events.parse(body, events.REQUEST_RECEIVED)
    assert event.correlation_id == booking_id and event.municipality_code == "452025"
    assert bus.messages[0]["routing_key"] == "request_received"


def test_scheduling_turns_a_request_into_a_visit_and_publishes_the_fixed_slot(start, listener, rabbit_config):
    bus = listener("scheduling.events")
    scheduling = start(SchedulingService)
    booking_id = str(uuid.uuid4())
    request = request_received(
        booking_id, reference="261201-009", channel="web", district="shonai", household_size=1, contact_by="phone"
    )
    publish(rabbit_config["AMQP_URI"], request, "booking.events", "request_received")
    publish(rabbit_config["AMQP_URI"], request, "booking.events", "request_received")  # delivered twice
    # Both deliveries consumed and acknowledged before counting: one visit, not one yet.
    wait_until(lambda: acked(rabbit_config["AMQP_URI"], SCHEDULING_REQUESTS) >= 2, timeout=30)
    visits = requests.get(
        f"{scheduling}/api/v1/visits", params={"booking_id": booking_id}, headers=staff_headers(), timeout=5
    ).json()["visits"]
    assert len(visits) == 1
    start_at = f"{working_day(2)}T13:00:00+09:00"
    fixed = requests.post(
        f"{scheduling}/api/v1/visits/{visits[0]['visit_id']}/slot",
        json={"start": start_at, "crew_id": "crew-1"},
        headers=staff_headers(),
        timeout=5,
    )
    assert fixed.status_code == 200
    [body] = bus.wait_for(lambda _: bus.of_type("scheduling.slot_fixed"))
    assert body["correlation_id"] == booking_id and body["payload"]["start"] == start_at
    assert (
        len(
            requests.get(
                f"{scheduling}/api/v1/visits", params={"booking_id": booking_id}, headers=staff_headers(), timeout=5
            ).json()["visits"]
        )
        == 1
    )


def test_a_new_outreach_channel_needs_no_change_to_any_service(start, listener, rabbit_config):
    """A channel nobody wrote code for (a newsletter QR form, say) publishes a referral to the
    shared exchange; booking books it and outreach counts it under that channel."""
    bus = listener("booking.events")
    start(BookingService)
    outreach = start(OutreachService)
    referral_id = str(uuid.uuid4())
    household = booking_body()
    household.pop("channel"), household.pop("consent")
    referral = referral_event(household, referral_id, "newsletter", "issue-2026-12")
    publish_referral(rabbit_config["AMQP_URI"], referral, "newsletter")
    [received] = bus.wait_for(lambda _: bus.of_type("booking.request_received"))
    assert received["payload"]["channel"] == "newsletter"
    assert received["payload"]["referral_id"] == referral_id

    def newsletter_row():
        rows = requests.get(
            f"{outreach}/api/v1/funnel", params=funnel_period(), headers=staff_headers("manager"), timeout=5
        ).json()["channels"]
        return next((r for r in rows if r["channel"] == "newsletter" and r["booked"] == 1), None)

    row = wait_until(newsletter_row)
    assert row["referred"] == 1


def test_notification_asks_booking_for_the_address_and_sends_over_smtp(start, mail_sink):
    booking = start(BookingService)
    start(NotificationService, SMTP_HOST="127.0.0.1", SMTP_PORT=mail_sink.port)
    answer = requests.post(
        f"{booking}/api/v1/bookings", json=booking_body(channel="web", email="ichiro@example.jp"), timeout=10
    )
    reference = answer.json()["reference"]
    [mail] = wait_until(mail_sink.messages)
    assert mail["To"] == "ichiro@example.jp"
    assert "受け付けました" in mail["Subject"]
    assert reference in mail.get_content() and "都城 花子 様" in mail.get_content()
