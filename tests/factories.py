"""Test data: fictional households of Miyakonojo, and requests built from them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from shared import clock, municipality, workcalendar

NAMES = [
    ("都城", "花子", "ミヤコノジョウ", "ハナコ"),
    ("霧島", "一郎", "キリシマ", "イチロウ"),
    ("大淀", "千代", "オオヨド", "チヨ"),
    ("関之尾", "正", "セキノオ", "タダシ"),
]


def applicant(index: int = 0, birth_date: str = "1942-05-10") -> dict:
    family, given, family_kana, given_kana = NAMES[index % len(NAMES)]
    return {
        "family_name": family,
        "given_name": given,
        "family_name_kana": family_kana,
        "given_name_kana": given_kana,
        "birth_date": birth_date,
    }


def working_day(after_days: int = 1) -> dt.date:
    """A working day at least `after_days` from today."""
    first = clock.today() + dt.timedelta(days=after_days)
    return next(workcalendar.working_days(first, 1, municipality.load().calendar))


def booking_body(**overrides: Any) -> dict:
    body = {
        "channel": "phone",
        "applicants": [applicant(0), applicant(1, "1939-11-02")],
        "address": {"postal_code": "885-0021", "district": "高崎", "line": "高崎町大牟田 1-2-3"},
        "phone": "0986-22-1234",
        "email": "hanako@example.jp",
        "preferred": [],
        "needs": "",
        "consent": True,
    }
    body.update(overrides)
    return body


def json_request(
    body: Any = None, method: str = "POST", query: dict | None = None, raw: bytes | None = None
) -> Request:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    builder = EnvironBuilder(method=method, data=data, query_string=query, content_type="application/json")
    return Request(builder.get_environ())


def response_json(response: Any) -> Any:
    return json.loads(response.get_data(as_text=True))


def worker(service_cls: type, db: Any, **dependencies: Any) -> Any:
    """A nameko worker_factory instance on a real (in-memory) database with the service's indexes."""
    from nameko.testing.services import worker_factory

    from shared.db import ensure_indexes

    ensure_indexes(db, service_cls.db.indexes)
    return worker_factory(service_cls, db=db, **dependencies)


def event(event_type: Any, payload: dict, correlation_id: str | None = None) -> dict:
    """A valid event envelope as a service would publish it, in Miyakonojo."""
    from shared import events

    correlation_id = correlation_id or payload.get("booking_id") or payload.get("referral_id") or "test"
    return events.build(event_type, payload, correlation_id=correlation_id, municipality_code="452025")


def request_received(booking_id: str | None = None, **payload: Any) -> dict:
    """booking.request_received for a household of two in Takazaki, with any payload field overridden."""
    import uuid

    from shared import events

    booking_id = booking_id or str(uuid.uuid4())
    defaults = {
        "booking_id": booking_id,
        "reference": "261201-001",
        "channel": "phone",
        "referral_id": None,
        "district": "takazaki",
        "household_size": 2,
        "preferred": [],
        "has_needs": False,
        "contact_by": "email",
    }
    return event(events.REQUEST_RECEIVED, {**defaults, **payload})
