"""The waiting list through the real services: a household cancels; scheduling hears its own
slot_released over RabbitMQ and offers the window to the two households waiting; notification
e-mails each the offer with its private link (the real SMTP sink); the first to accept through
booking gets the window, the second is told it is gone."""

from __future__ import annotations

import re

import pytest
import requests

from services.booking.service import BookingService
from services.notification.service import NotificationService
from services.scheduling.service import SchedulingService
from tests.bus import wait_until
from tests.factories import booking_body, staff_headers

pytestmark = pytest.mark.service

LINK = re.compile(r"/my/([A-Za-z0-9._-]+)")


def test_a_cancelled_window_is_offered_taken_once_and_refused_to_the_second(start, mail_sink):
    booking, scheduling = start(BookingService), start(SchedulingService)
    start(NotificationService, SMTP_HOST="127.0.0.1", SMTP_PORT=mail_sink.port)
    office = staff_headers()
    people = {}
    for name in ("first", "older", "newer"):
        body = booking_body(email=f"{name}.wait@example.jp", phone=f"0986-31-{len(people) + 1:04d}")
        answer = requests.post(f"{booking}/api/v1/bookings", json=body, headers=office, timeout=10)
        assert answer.status_code == 201, answer.text
        people[name] = answer.json()

    visits = f"{scheduling}/api/v1/visits"

    def visit_of(name):
        return wait_until(
            lambda: requests.get(
                visits, params={"booking_id": people[name]["booking_id"]}, headers=office, timeout=5
            ).json()["visits"]
        )[0]

    first = visit_of("first")
    visit_of("older"), visit_of("newer")
    offer = requests.get(f"{visits}/{first['visit_id']}/suggestions", headers=office, timeout=30).json()["suggestions"][
        0
    ]
    fixed = requests.post(
        f"{visits}/{first['visit_id']}/slot",
        json={"crew_id": offer["crew_id"], "start": offer["start"]},
        headers=office,
    )
    assert fixed.status_code == 200, fixed.text
    cancelled = requests.post(
        f"{booking}/api/v1/bookings/{people['first']['booking_id']}/cancel",
        json={"reason": "resident_request"},
        headers=office,
        timeout=10,
    )
    assert cancelled.status_code == 200

    def offer_mail(name):
        return [
            m for m in mail_sink.messages() if m["To"] == f"{name}.wait@example.jp" and "空きが出ました" in m["Subject"]
        ]

    links = {}
    for name in ("older", "newer"):
        [mail] = wait_until(lambda n=name: offer_mail(n), timeout=30)
        links[name] = LINK.search(mail.get_content()).group(1)

    def own(name, method="GET", path="", body=None):
        return requests.request(
            method,
            f"{booking}/api/v1/self{path}",
            json=body,
            headers={"Authorization": f"BookingLink {links[name]}"},
            timeout=20,
        )

    choices = {name: own(name, path="/offers").json() for name in ("older", "newer")}
    for name in ("older", "newer"):
        [waiting] = choices[name]["waitlist"]
        assert waiting["start"] == offer["start"]
    taken = own("older", "POST", "/slot", {"offer_id": choices["older"]["waitlist"][0]["offer_id"]})
    assert taken.status_code == 200, taken.text
    assert taken.json()["slot"]["start"] == offer["start"]
    late = own("newer", "POST", "/slot", {"offer_id": choices["newer"]["waitlist"][0]["offer_id"]})
    assert late.status_code == 409 and late.json()["error"] == "window_gone"
    assert own("newer", path="/offers").json()["waitlist"] == []
    # The one who took it hears the date as anyone whose slot is fixed does.
    wait_until(
        lambda: [
            m for m in mail_sink.messages() if m["To"] == "older.wait@example.jp" and "決まりました" in m["Subject"]
        ]
    )
