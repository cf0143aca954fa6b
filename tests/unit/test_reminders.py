"""The day-before notice (前日のお知らせ): when it is due, and that each visit gets it once, a moved
visit again, a released one never; by e-mail, or as a call for reception."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.notification import reminders
from services.notification.service import NotificationService
from shared import clock, events, municipality
from tests.factories import hold_clock, worker
from tests.unit.test_notification_service import CONTACT, build, slot_fixed

JST = clock.JST


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.mark.parametrize(
    ("now", "due"),
    [
        ("2027-01-06T14:59", None),  # Wednesday, before 15:00: Thursday's are not due yet
        ("2027-01-06T15:00", "2027-01-07"),  # Wednesday 15:00: Thursday's
        ("2027-01-08T15:30", "2027-01-12"),  # Friday: Monday 11 January is a holiday (成人の日), so Tuesday's
        ("2027-01-09T10:00", "2027-01-12"),  # Saturday: a process down on Friday afternoon catches up
        ("2027-01-12T09:00", None),  # Tuesday morning: Wednesday's go at 15:00
        ("2026-12-28T16:00", "2027-01-04"),  # the last working day of the year: after the New Year closure
    ],
)
def test_the_notices_for_a_visit_day_are_due_from_the_set_time_on_the_working_day_before(now, due):
    city = municipality.load()
    assert city.reminder_at == dt.time(15, 0)
    expected = dt.date.fromisoformat(due) if due else None
    assert reminders.due_visit_day(at(now), city) == expected


@pytest.fixture
def service(db):
    service = worker(NotificationService, db, config={})
    service.booking.get_contact.return_value = dict(CONTACT)
    return service


def next_visit_day_and_send_time() -> tuple[dt.date, dt.datetime]:
    """A visit day ahead of today and the moment its notices are due (computed from the calendar
    the test reads itself: the previous weekday that is not a closure or holiday)."""
    city = municipality.load()
    day = clock.today() + dt.timedelta(days=10)
    while reminders.workcalendar.is_working_day(day, city.calendar) is False:
        day += dt.timedelta(days=1)
    before = day - dt.timedelta(days=1)
    while not reminders.workcalendar.is_working_day(before, city.calendar):
        before -= dt.timedelta(days=1)
    return day, dt.datetime.combine(before, dt.time(15, 0), JST)


def reminders_sent(service) -> list:
    return [c for c in service.mailer.send.call_args_list if "訪問のお知らせ" in c.args[1].subject]


def test_each_visit_gets_one_notice_however_often_the_timer_runs(service, db, monkeypatch):
    day, send_at = next_visit_day_and_send_time()
    booking_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    start = dt.datetime.combine(day, dt.time(10, 0), JST)
    service.on_slot_fixed(slot_fixed(booking_id, visit_id, start))
    service.mailer.send.reset_mock()

    hold_clock(monkeypatch, send_at - dt.timedelta(minutes=1))
    service.send_reminders()
    assert reminders_sent(service) == []
    hold_clock(monkeypatch, send_at)
    for _ in range(3):
        service.send_reminders()
    [sent] = reminders_sent(service)
    to, message, _ = sent.args
    assert to == CONTACT["email"]
    assert f"{day.month}月{day.day}日の訪問のお知らせ" in message.subject
    assert "午前10時00分〜午前10時30分" in message.body and "【当日ご用意いただくもの】" in message.body
    assert "/my/a-signed-token" in message.body  # the resident's own page, to cancel if need be


def test_a_moved_visit_gets_a_new_notice_and_a_released_one_none(service, db, monkeypatch):
    day, send_at = next_visit_day_and_send_time()
    moved, released = str(uuid.uuid4()), str(uuid.uuid4())
    first = dt.datetime.combine(day, dt.time(9, 0), JST)
    service.on_slot_fixed(slot_fixed(moved, "v-moved", first))
    service.on_slot_fixed(slot_fixed(released, "v-released", first + dt.timedelta(hours=3)))
    hold_clock(monkeypatch, send_at)
    service.send_reminders()
    assert len(reminders_sent(service)) == 2

    # Moved to the afternoon after its notice: the old slot is released, the new one notified.
    later = first + dt.timedelta(hours=5)
    service.on_slot_released(
        build(
            events.SLOT_RELEASED,
            {"visit_id": "v-moved", "booking_id": moved, "crew_id": "crew-1", "start": first, "reason": "moved"},
            moved,
        )
    )
    service.on_slot_fixed(slot_fixed(moved, "v-moved", later))
    service.on_slot_released(
        build(
            events.SLOT_RELEASED,
            {
                "visit_id": "v-released",
                "booking_id": released,
                "crew_id": "crew-1",
                "start": first + dt.timedelta(hours=3),
                "reason": "cancelled",
            },
            released,
        )
    )
    service.mailer.send.reset_mock()
    service.send_reminders()
    [again] = reminders_sent(service)
    assert "午後2時00分" in again.args[1].body
    ids = sorted(m["_id"] for m in db.messages.find({"kind": "reminder"}))
    assert ids == sorted(
        [
            f"reminder-{moved}-{first:%Y%m%d%H%M}",
            f"reminder-{moved}-{later:%Y%m%d%H%M}",
            f"reminder-{released}-{first + dt.timedelta(hours=3):%Y%m%d%H%M}",
        ]
    )


def test_without_an_email_the_notice_is_a_call_for_reception(service, db, monkeypatch):
    service.booking.get_contact.return_value = {**CONTACT, "email": None}
    day, send_at = next_visit_day_and_send_time()
    booking_id = str(uuid.uuid4())
    service.on_slot_fixed(slot_fixed(booking_id, "v-1", dt.datetime.combine(day, dt.time(13, 30), JST)))
    hold_clock(monkeypatch, send_at + dt.timedelta(hours=1))
    service.send_reminders()
    [notice] = db.messages.find({"kind": "reminder"})
    assert (notice["status"], notice["channel"]) == ("to_call", "phone")
    assert notice["details"]["start"].startswith(f"{day.isoformat()}T13:30")
    service.mailer.send.assert_not_called()
