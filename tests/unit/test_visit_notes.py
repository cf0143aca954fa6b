"""The crew's free-text note of a visit: scheduling hands it to booking, which seals it with the
household, records who wrote it, shows it to the next crew and erases it with the rest."""

from __future__ import annotations

import datetime as dt
import json

import eventlet
import pytest

from services.booking.service import BookingService
from services.scheduling.service import SchedulingService
from shared import clock, events
from tests.factories import booking_body, json_request, response_json, staff_identity, staff_token, worker, working_day

NOTE = "2人目は保険証を探しておくとのこと"


class BookingOverRpc:
    """Scheduling's `booking` RpcProxy answered by a real booking worker on the same database."""

    def __init__(self, booking: BookingService) -> None:
        self.keep_visit_note = booking.keep_visit_note
        self.get_contacts = booking.get_contacts


@pytest.fixture
def booking(db):
    return worker(BookingService, db)


@pytest.fixture
def scheduling(db, booking):
    service = worker(SchedulingService, db)
    service.booking = BookingOverRpc(booking)
    return service


def fixed_visit(booking, scheduling, db) -> dict:
    made = response_json(booking.create_booking(json_request(booking_body())))
    [entry] = db.bookings.find_one({"_id": made["booking_id"]})["outbox"]
    scheduling.on_request_received(entry["event"])
    visit = db.visits.find_one({"booking_id": made["booking_id"]})
    start = f"{working_day(3).isoformat()}T10:00:00+09:00"
    assert scheduling.fix_slot(json_request({"start": start, "crew_id": "crew-1"}), visit["_id"]).status_code == 200
    return visit


def record(scheduling, visit_id: str, note: str, result_id: str = "tablet-result-1"):
    body = {"applicants": [{"result": "applied"}, {"result": "missing_documents"}], "note": note}
    crew = staff_token("crew", subject="c.mori", crew_id="crew-1")
    return scheduling.visit_done(json_request({**body, "result_id": result_id}, token=crew), visit_id)


def test_the_note_is_sealed_with_the_household_and_scheduling_keeps_none_of_it(booking, scheduling, db):
    visit = fixed_visit(booking, scheduling, db)
    answer = record(scheduling, visit["_id"], NOTE)
    assert answer.status_code == 200 and response_json(answer)["result"]["has_note"] is True
    assert record(scheduling, visit["_id"], NOTE).status_code == 200  # the tablet sent it again
    assert "保険証" not in json.dumps(list(db.visits.find({})), ensure_ascii=False, default=str)
    stored = db.bookings.find_one({"_id": visit["booking_id"]})
    assert len(stored["visit_notes"]) == 1 and "保険証" not in json.dumps(stored, ensure_ascii=False, default=str)
    shown = response_json(booking.get_booking(json_request(method="GET"), visit["booking_id"]))["visit_notes"]
    assert [(n["visit_id"], n["note"]) for n in shown] == [(visit["_id"], NOTE)]
    [written] = [e for e in db.audit.find({}) if e["action"] == "change"]
    assert (written["subject"], written["purpose"], written["booking_ids"]) == (
        "c.mori",
        "visit note",
        [visit["booking_id"]],
    )
    # The next crew sees it on the day sheet.
    details = booking.get_contacts(
        [visit["booking_id"]], staff_identity("crew", subject="c.ito", crew_id="crew-2"), True
    )
    assert details[visit["booking_id"]]["visit_notes"] == [NOTE]


def test_booking_away_records_nothing_and_the_tablet_can_send_it_again(booking, scheduling, db, monkeypatch):
    visit = fixed_visit(booking, scheduling, db)

    def hangs(*args):
        eventlet.sleep(60)

    monkeypatch.setattr(scheduling.booking, "keep_visit_note", hangs)
    monkeypatch.setattr("services.scheduling.service.NOTE_TIMEOUT_SECONDS", 0.1)
    with eventlet.Timeout(20):
        answer = record(scheduling, visit["_id"], NOTE)
    assert answer.status_code == 503
    assert db.visits.find_one({"_id": visit["_id"]})["status"] == "scheduled"  # nothing half-written
    monkeypatch.setattr(scheduling.booking, "keep_visit_note", booking.keep_visit_note)
    assert record(scheduling, visit["_id"], NOTE).status_code == 200


def test_retention_erases_the_notes_with_the_household(booking, scheduling, db, monkeypatch):
    visit = fixed_visit(booking, scheduling, db)
    record(scheduling, visit["_id"], NOTE)
    [done] = [
        e["event"]
        for e in db.visits.find_one({"_id": visit["_id"]})["outbox"]
        if e["event"]["event_type"] == events.VISIT_DONE.name
    ]
    booking.on_visit_done(done)
    monkeypatch.setattr(clock, "now", lambda: dt.datetime.now(dt.UTC) + dt.timedelta(days=400))
    booking.erase_expired()
    stored = db.bookings.find_one({"_id": visit["booking_id"]})
    assert stored["personal"] is None and "visit_notes" not in stored


@pytest.mark.parametrize(
    "args",
    [
        ("not-an-id", "v", "r", NOTE, "crew"),
        (None, "v", "r", NOTE, "crew"),
        ("00000000-0000-4000-8000-000000000000", "v", "r", "x" * 501, "crew"),
        ("00000000-0000-4000-8000-000000000000", "v", "r", "番号 1234 5678 9012", "crew"),
        ("00000000-0000-4000-8000-000000000000", "v", "r", NOTE, None),
        ("00000000-0000-4000-8000-000000000000", "v", "r", NOTE, "made-up"),
        ("00000000-0000-4000-8000-000000000000", "v", "r", NOTE, "liaison"),
        ("00000000-0000-4000-8000-000000000000", {"$ne": None}, "r", NOTE, "crew"),
    ],
    ids=[
        "bad id",
        "no id",
        "too long",
        "an Individual Number",
        "nobody named",
        "a made-up actor",
        "a role that writes no notes",
        "an operator as visit id",
    ],
)
def test_malformed_note_calls_are_refused_and_store_nothing(booking, db, args):
    *rest, who = args
    identity = {
        None: None,
        "made-up": {"subject": "c.mori", "role": "crew", "purpose": "visit note"},
        "crew": staff_identity("crew", "visit note", crew_id="crew-1"),
        "liaison": staff_identity("liaison", "visit note", liaison_id="hall-1"),
    }[who]
    assert booking.keep_visit_note(*rest, identity) == {"result": "refused"}
    assert db.audit.count_documents({}) == 0


def test_key_rotation_reseals_the_notes_too(booking, scheduling, db, monkeypatch, staff_auth):
    from services.booking import rekey
    from shared import sealing

    visit = fixed_visit(booking, scheduling, db)
    record(scheduling, visit["_id"], NOTE)
    old = json.loads(staff_auth.data_keys_path.read_text())
    new = sealing.Keyring.generate("2027-01")
    both = {"active": "2027-01", "keys": {**old["keys"], **new["keys"]}, "hash_key": old["hash_key"]}
    monkeypatch.setenv("DATA_KEYS", json.dumps(both))
    sealing.reset()
    rekey.rekey(db)
    monkeypatch.setenv("DATA_KEYS", json.dumps({**both, "keys": new["keys"]}))  # the old key gone
    sealing.reset()
    shown = response_json(booking.get_booking(json_request(method="GET"), visit["booking_id"]))
    assert [n["note"] for n in shown["visit_notes"]] == [NOTE]
