import datetime as dt
import uuid

import pytest

from services.outreach.service import OutreachService
from shared import clock, events
from tests.factories import json_request, referral_event, response_json, slot_fixed_payload, worker


@pytest.fixture
def service(db):
    return worker(OutreachService, db)


def build(event_type, payload, booking_id):
    return events.build(event_type, payload, correlation_id=booking_id, municipality_code="452025")


def story(service, channel, district, size, outcome=None, persons=0, referral=False):
    booking_id, referral_id = str(uuid.uuid4()), str(uuid.uuid4()) if referral else None
    sent = []
    if referral:
        sent.append(("on_referral", referral_event({}, referral_id, channel, "hall-1")))
    sent.append(
        (
            "on_request_received",
            build(
                events.REQUEST_RECEIVED,
                {
                    "booking_id": booking_id,
                    "reference": "r",
                    "channel": channel,
                    "referral_id": referral_id,
                    "district": district,
                    "household_size": size,
                    "preferred": [],
                    "has_needs": False,
                    "contact_by": "phone",
                },
                booking_id,
            ),
        )
    )
    if outcome:
        start = clock.now() + dt.timedelta(days=1)
        sent.append(
            (
                "on_slot_fixed",
                build(
                    events.SLOT_FIXED,
                    {
                        "visit_id": "v",
                        "booking_id": booking_id,
                        "crew_id": "crew-1",
                        "start": start,
                        "end": start,
                        "window_start": start,
                        "window_end": start,
                        "district": district,
                        "household_size": size,
                    },
                    booking_id,
                ),
            )
        )
        sent.append(
            (
                "on_visit_done",
                build(
                    events.VISIT_DONE,
                    {
                        "visit_id": "v",
                        "booking_id": booking_id,
                        "crew_id": "crew-1",
                        "date": start.date(),
                        "district": district,
                        "outcome": outcome,
                        "persons_applied": persons,
                    },
                    booking_id,
                ),
            )
        )
    for handler, event in sent:
        getattr(service, handler)(event)
    return sent


def funnel(service, **query):
    return response_json(service.get_funnel(json_request(method="GET", query=query)))


def test_the_funnel_counts_each_stage_per_channel_and_district(service):
    story(service, "liaison", "takazaki", 3, "completed", 3, referral=True)
    story(service, "liaison", "yamada", 2)
    story(service, "phone", "takazaki", 2, "absent", 0)
    figures = funnel(service)
    channels = {c["channel"]: c for c in figures["channels"]}
    assert channels["liaison"] == {
        "channel": "liaison",
        "referred": 1,
        "booked": 2,
        "slot_fixed": 1,
        "visited": 1,
        "persons_applied": 3,
        "slots_recovered": 0,
    }
    assert channels["phone"]["visited"] == 0 and channels["phone"]["slot_fixed"] == 1
    districts = {d["district"]: d for d in figures["districts"]}
    assert districts["takazaki"]["booked"] == 2 and districts["takazaki"]["persons_applied"] == 3
    assert figures["total"]["booked"] == 3


def test_redelivered_events_change_nothing(service):
    for handler, event in story(service, "web", "himeki", 2, "completed", 2, referral=True):
        getattr(service, handler)(event)
        getattr(service, handler)({**event, "event_id": event["event_id"]})
    assert funnel(service)["total"] == {
        "referred": 1,
        "booked": 1,
        "slot_fixed": 1,
        "visited": 1,
        "persons_applied": 2,
        "slots_recovered": 0,
    }


def test_periods_select_by_booking_date(service):
    story(service, "web", "himeki", 1)
    tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
    assert funnel(service, **{"from": tomorrow, "to": tomorrow})["total"]["booked"] == 0
    assert (
        service.get_funnel(json_request(method="GET", query={"from": tomorrow, "to": "2020-01-01"})).status_code == 422
    )
    assert service.get_funnel(json_request(method="GET", query={"from": "last week"})).status_code == 422


def test_a_slot_from_the_waiting_list_counts_as_recovered_once(service):
    booking_id = "b-recovered"
    service.on_request_received(
        build(
            events.REQUEST_RECEIVED,
            {
                "booking_id": booking_id,
                "reference": "261201-050",
                "channel": "web",
                "district": "himeki",
                "household_size": 1,
                "contact_by": "email",
            },
            booking_id,
        )
    )
    start = dt.datetime.combine(clock.today() + dt.timedelta(days=3), dt.time(10), clock.JST)
    slot = slot_fixed_payload(booking_id, start, recovered=True)
    event = build(events.SLOT_FIXED, slot, booking_id)
    service.on_slot_fixed(event)
    service.on_slot_fixed(event)
    service.on_slot_fixed(build(events.SLOT_FIXED, {**slot, "recovered": False, "rescheduled": True}, booking_id))
    total = funnel(service)["total"]
    assert (total["booked"], total["slot_fixed"], total["slots_recovered"]) == (1, 1, 1)
