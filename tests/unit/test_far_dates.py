"""Dates a caller may give are bounded (shared.validation.Day): one at either end of what Python can
hold (year 1 or 9999) is a 422 with the field named in Japanese and English, never a 500 from date
arithmetic overflowing, and nothing is stored."""

import importlib
import inspect

import pytest
from marshmallow import Schema, fields

from services.booking.service import BookingService
from services.notification.service import NotificationService
from services.outreach.service import OutreachService
from services.scheduling.service import SchedulingService
from shared.validation import LocalDateTime
from tests import factories
from tests.factories import booking_body, json_request, response_json, worker

FAR = ("9999-12-31", "0001-01-01")
REQUEST_SCHEMA_MODULES = (
    "services.booking.schemas",
    "services.scheduling.schemas",
    "services.notification.schemas",
    "services.outreach.schemas",
    "services.liaison.schemas",
    "shared.household",
)


def test_every_date_a_request_schema_takes_is_bounded():
    seen = 0
    for module_name in REQUEST_SCHEMA_MODULES:
        module = importlib.import_module(module_name)
        for _, schema_cls in inspect.getmembers(module, inspect.isclass):
            if not issubclass(schema_cls, Schema) or schema_cls.__module__ != module_name:
                continue
            for name, field in schema_cls().fields.items():
                if isinstance(field, fields.DateTime):
                    assert isinstance(field, LocalDateTime), f"{module_name}.{schema_cls.__name__}.{name}"
                    seen += 1
                elif isinstance(field, fields.Date):
                    assert any(getattr(v, "max", None) for v in field.validators), f"{schema_cls.__name__}.{name}"
                    seen += 1
    assert seen >= 10  # the walk found the schemas' dates


def refused(answer) -> list[dict]:
    assert answer.status_code == 422, answer.get_data(as_text=True)
    body = response_json(answer)
    assert all(f["ja"] and f["en"] for f in body["fields"])
    return [f["field"] for f in body["fields"]]


@pytest.mark.parametrize("far", FAR)
def test_a_far_date_in_any_date_input_is_a_422_naming_the_field(db, far):
    scheduling = worker(SchedulingService, db)
    event = factories.request_received(district="takazaki", household_size=2)
    scheduling.on_request_received(event)
    visit = db.visits.find_one({})
    assert refused(scheduling.create_plan(json_request({"start": far, "days": 5}))) == ["start"]
    assert refused(scheduling.suggestions(json_request(method="GET", query={"start": far}), visit["_id"])) == ["start"]
    fixing = json_request({"start": f"{far}T10:00:00+09:00", "crew_id": "crew-1"})
    assert refused(scheduling.fix_slot(fixing, visit["_id"])) == ["start"]
    assert db.visits.find_one({"_id": visit["_id"]})["status"] == "unscheduled"

    booking = worker(BookingService, db)
    body = booking_body(preferred=[{"date": far, "period": "am"}])
    assert refused(booking.create_booking(json_request(body, token=None))) == ["preferred.0.date"]
    assert db.bookings.count_documents({}) == 0
    assert refused(booking.audit_log(json_request(method="GET", query={"from": far, "to": far}))) == ["from", "to"]
    outreach = worker(OutreachService, db)
    assert refused(outreach.get_funnel(json_request(method="GET", query={"from": far}))) == ["from"]
    notification = worker(NotificationService, db)
    assert refused(notification.list_call_tasks(json_request(method="GET", query={"date": far}))) == ["date"]
