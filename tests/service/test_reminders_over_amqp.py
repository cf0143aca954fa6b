"""The day-before notice through the real services: booking, scheduling and notification as nameko
containers over the local RabbitMQ, the real SMTP sink, the clock moved to the time the notice is
due. One notice per visit, also after notification restarts."""

from __future__ import annotations

import datetime as dt

import pytest
import requests
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import find_free_port

from services.booking.service import BookingService
from services.notification.service import NotificationService
from services.scheduling.service import SchedulingService
from shared import clock, municipality, workcalendar
from tests.bus import wait_until
from tests.factories import booking_body, hold_clock, staff_headers

pytestmark = pytest.mark.service


def notices(mail_sink, to: str) -> list:
    return [m for m in mail_sink.messages() if m["To"] == to and "訪問のお知らせ" in m["Subject"]]


def test_one_day_before_notice_per_visit_across_a_restart(
    start, container_factory, rabbit_config, mail_sink, monkeypatch
):
    smtp = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": mail_sink.port}
    booking, scheduling = start(BookingService), start(SchedulingService)

    def notification():
        container = container_factory(
            NotificationService, {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{find_free_port()}", **smtp}
        )
        container.start()
        return container

    first = notification()
    email = "reminder.amqp@example.jp"
    booked = requests.post(
        f"{booking}/api/v1/bookings", json=booking_body(channel="web", email=email), timeout=10
    ).json()
    visits = f"{scheduling}/api/v1/visits"
    [visit] = wait_until(
        lambda: requests.get(
            visits, params={"booking_id": booked["booking_id"]}, headers=staff_headers(), timeout=5
        ).json()["visits"]
    )
    offers = requests.get(f"{visits}/{visit['visit_id']}/suggestions", headers=staff_headers(), timeout=30).json()
    offer = offers["suggestions"][0]
    fixed = requests.post(
        f"{visits}/{visit['visit_id']}/slot",
        json={"crew_id": offer["crew_id"], "start": offer["start"]},
        headers=staff_headers(),
        timeout=10,
    )
    assert fixed.status_code == 200, fixed.text
    wait_until(lambda: [m for m in mail_sink.messages() if m["To"] == email and "決まりました" in m["Subject"]])

    # The working day before the visit, 15:00 (the demo configuration's time).
    visit_day = dt.datetime.fromisoformat(offer["start"]).date()
    send_day = visit_day - dt.timedelta(days=1)
    while not workcalendar.is_working_day(send_day, municipality.load().calendar):
        send_day -= dt.timedelta(days=1)
    hold_clock(monkeypatch, dt.datetime.combine(send_day, dt.time(15, 0), clock.JST))

    with entrypoint_hook(first, "send_reminders") as send_reminders:
        send_reminders()
        send_reminders()
    [notice] = wait_until(lambda: notices(mail_sink, email))
    assert booked["reference"] in notice["Subject"] and "/my/" in notice.get_content()

    # A restarted notification (the same database) does not send it again.
    first.stop()
    with entrypoint_hook(notification(), "send_reminders") as send_reminders:
        send_reminders()
    assert len(notices(mail_sink, email)) == 1
