"""Test data: fictional households of Miyakonojo, and requests built from them."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
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


def next_saturday() -> dt.date:
    today = clock.today()
    return today + dt.timedelta(days=(5 - today.weekday()) % 7 or 7)


def next_new_year_closure_day() -> dt.date:
    """The next 31 December from tomorrow on: inside the New Year closure (12/29-1/3) every year."""
    tomorrow = clock.today() + dt.timedelta(days=1)
    candidate = dt.date(tomorrow.year, 12, 31)
    return candidate if candidate >= tomorrow else dt.date(tomorrow.year + 1, 12, 31)


def hold_clock(monkeypatch: Any, moment: dt.datetime) -> None:
    """Every clock.now() reader sees `moment` until the test ends."""
    monkeypatch.setattr(clock, "now", lambda: moment)


def advance_clock(monkeypatch: Any, seconds: float) -> None:
    """Holds the clock `seconds` ahead of now: time passing, or a stall that long."""
    hold_clock(monkeypatch, clock.now() + dt.timedelta(seconds=seconds))


def funnel_period() -> dict[str, str]:
    """A funnel query from yesterday on. The funnel's default period is this month so far, which on
    the 1st would drop what a test booked a few seconds before midnight (JST)."""
    return {"from": (clock.today() - dt.timedelta(days=1)).isoformat()}


# The public form's questions answered so that the car can come (shared.eligibility).
ELIGIBLE = {"reasons": ["elderly"], "parking": True, "moving_soon": False, "guardian_present": True}


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
        "eligibility": dict(ELIGIBLE),
    }
    body.update(overrides)
    return body


# The office roles with no object-level scope: what most handler tests act as.
OFFICE = ("reception", "manager", "operator")


def staff_token(roles: str | tuple[str, ...] = OFFICE, **claims: Any) -> str:
    """A token signed with this test run's key (the `staff_auth` fixture in tests/conftest.py)."""
    from deploy.local.devauth import DevKeys

    keys = DevKeys(Path(os.environ["AUTH_JWKS_FILE"]).parent)
    return keys.token(list(roles) if isinstance(roles, tuple) else roles, **claims)


def staff_headers(roles: str | tuple[str, ...] = OFFICE, **claims: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {staff_token(roles, **claims)}"}


_sessions: dict[tuple, Any] = {}


def signed_in(stack: Any, roles: str | tuple[str, ...] = OFFICE, **claims: Any) -> Any:
    """A shared session carrying a token from the stack's signing key (deploy.local.devauth)."""
    key = (str(stack.var_dir), roles, tuple(sorted(claims.items())))
    if key not in _sessions:
        _sessions[key] = staff_session(stack, roles, **claims)
    return _sessions[key]


def staff_session(stack: Any, roles: str | tuple[str, ...] = OFFICE, **claims: Any) -> Any:
    """A new signed-in requests session (one per thread: sessions are not thread-safe)."""
    import requests

    session = requests.Session()
    token = stack.auth.token(list(roles) if isinstance(roles, tuple) else roles, **claims)
    session.headers["Authorization"] = f"Bearer {token}"
    return session


def json_request(
    body: Any = None,
    method: str = "POST",
    query: dict | None = None,
    raw: bytes | None = None,
    token: str | None = "office",
    headers: dict[str, str] | None = None,
    remote_addr: str = "127.0.0.1",
) -> Request:
    """A request as the HTTP entrypoint hands it over; signed in with the office roles unless
    `token` is another token, or None for none."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {staff_token() if token == 'office' else token}"
    builder = EnvironBuilder(
        method=method,
        data=data,
        query_string=query,
        content_type="application/json",
        headers=headers,
        environ_base={"REMOTE_ADDR": remote_addr},
    )
    return Request(builder.get_environ())


def response_json(response: Any) -> Any:
    return json.loads(response.get_data(as_text=True))


CHANGING = frozenset(
    {
        "update_one",
        "update_many",
        "replace_one",
        "delete_one",
        "delete_many",
        "find_one_and_update",
        "find_one_and_replace",
        "find_one_and_delete",
        "bulk_write",
        "drop",
    }
)


class GrantedCollection:
    """A collection as a service's database user sees it (deploy/database_access.py): changes only
    where the grant allows them, as a real MongoDB would refuse them."""

    def __init__(self, collection: Any, changeable: tuple[str, ...]) -> None:
        self._collection, self._changeable = collection, changeable

    def __getattr__(self, name: str) -> Any:
        if name in CHANGING and self._collection.name not in self._changeable:
            raise PermissionError(f"not authorized to {name} on {self._collection.name}")
        return getattr(self._collection, name)


class GrantedDatabase:
    def __init__(self, db: Any, changeable: tuple[str, ...]) -> None:
        self._db, self._changeable = db, changeable

    def __getitem__(self, name: str) -> GrantedCollection:
        return GrantedCollection(self._db[name], self._changeable)

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._db, name)
        return GrantedCollection(found, self._changeable) if hasattr(found, "find_one") else found


def worker(service_cls: type, db: Any, **dependencies: Any) -> Any:
    """A nameko worker_factory instance on a real (in-memory) database with the service's indexes,
    seen through the service's database grant (deploy/database_access.py)."""
    from nameko.testing.services import worker_factory

    from deploy.database_access import CHANGEABLE
    from shared.db import ensure_indexes

    ensure_indexes(db, service_cls.db.indexes)
    changeable = CHANGEABLE.get(service_cls.name)
    granted = db if changeable is None else GrantedDatabase(db, changeable)
    return worker_factory(service_cls, db=granted, **dependencies)


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


def slot_fixed_payload(booking_id: str, start: dt.datetime, visit_id: str = "v", **overrides: Any) -> dict:
    """scheduling.slot_fixed's payload: crew-1, a 30-minute window from `start`, one person in Himeki."""
    return {
        "visit_id": visit_id,
        "booking_id": booking_id,
        "crew_id": "crew-1",
        "start": start,
        "end": start + dt.timedelta(minutes=45),
        "window_start": start,
        "window_end": start + dt.timedelta(minutes=30),
        "district": "himeki",
        "household_size": 1,
        **overrides,
    }


def referral_event(
    household: dict, referral_id: str | None = None, channel: str = "liaison", referrer_id: str = "hall-7"
) -> dict:
    """An outreach.referral_received event as a channel publishes it: the household sealed with
    the data key (the `staff_auth` fixture's) and bound to the referral id."""
    import uuid

    from shared import events, sealing

    referral_id = referral_id or str(uuid.uuid4())
    payload = {
        "referral_id": referral_id,
        "channel": channel,
        "referrer_id": referrer_id,
        "sealed_household": sealing.keyring().seal(household, referral_id),
    }
    return events.build(events.REFERRAL_RECEIVED, payload, correlation_id=referral_id, municipality_code="452025")


def staff_identity(roles: str | tuple[str, ...] = "crew", purpose: str = "crew day sheet", **claims: Any) -> dict:
    """Who asks on a booking RPC for a staff screen: the staff member's token (shared.rpc_identity)."""
    return {"token": staff_token(roles, **claims), "purpose": purpose}


def notification_identity(*booking_ids: str, purpose: str = "message slot_fixed") -> dict:
    """notification speaking for itself about these bookings, signed with its key (shared.rpc_identity)."""
    from shared import rpc_identity

    return rpc_identity.for_service("notification", "booking", purpose, list(booking_ids))
