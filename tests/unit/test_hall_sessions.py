"""Hall sessions (集団申請): a session at a community hall with a date, a window and a capacity;
reception signs households up to it (booking takes the seat from scheduling); each household's visit
is fixed to the session at once; the crew's day is planned around the session as one stop; results
are recorded per household and per person."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from services.booking.service import BookingService
from services.liaison.service import LiaisonChannelService
from services.scheduling import sessions
from services.scheduling.service import SchedulingService
from shared import clock, events, municipality, public, referral_seal, sealing
from tests.factories import (
    advance_clock,
    applicant,
    booking_body,
    json_request,
    request_received,
    response_json,
    staff_token,
    worker,
    working_day,
)
from tests.unit.test_liaison_chairs import NEIGHBOUR, as_chair, registered, signed_in

CITY = municipality.load()
DAY = working_day(3)


@pytest.fixture
def scheduling(db):
    return worker(SchedulingService, db)


class SchedulingOverRpc:
    """Booking's `scheduling` RpcProxy answered by a real scheduling worker on the same database:
    the RPC methods themselves run, only the transport is left out (the e2e suite has it)."""

    def __init__(self, service: SchedulingService) -> None:
        self.take_session_seat = service.take_session_seat
        self.release_session_seat = service.release_session_seat


@pytest.fixture
def booking(db, scheduling):
    service = worker(BookingService, db)
    service.scheduling = SchedulingOverRpc(scheduling)
    return service


def open_session(scheduling, **overrides) -> tuple[int, dict]:
    body = {
        "venue": "高崎地区公民館",
        "crew_id": "crew-1",
        "date": DAY.isoformat(),
        "opens": "10:00",
        "closes": "12:00",
        "capacity": 5,
        **overrides,
    }
    answer = scheduling.create_session(json_request(body))
    return answer.status_code, response_json(answer)


def sign_up(booking, session_id: str, size: int = 1, **overrides) -> tuple[int, dict]:
    body = booking_body(applicants=[applicant(i) for i in range(size)], session_id=session_id, **overrides)
    answer = booking.create_booking(json_request(body))
    return answer.status_code, response_json(answer)


def fix_at(scheduling, visit: dict, day: dt.date, time: str):
    """Reception fixes the visit for crew-1 at `time` (HH:MM) on `day`."""
    return scheduling.fix_slot(
        json_request({"start": f"{day.isoformat()}T{time}:00+09:00", "crew_id": "crew-1"}), visit["_id"]
    )


def deliver(db, scheduling, booking_id: str) -> dict:
    """The booking's request_received, as the broker would hand it to scheduling."""
    [entry] = db.bookings.find_one({"_id": booking_id})["outbox"]
    scheduling.on_request_received(entry["event"])
    return db.visits.find_one({"booking_id": booking_id})


def test_a_session_takes_its_place_in_the_crew_day_and_a_clashing_visit_is_refused(scheduling, db):
    status, session = open_session(scheduling)
    assert status == 201, session
    assert (session["venue"], session["capacity"], session["seats_left"]) == ("takazaki-hall", 5, 5)
    assert session["start"] == f"{DAY.isoformat()}T10:00:00+09:00" and session["open_for_signups"]
    home = request_received(district="himeki", household_size=1)
    scheduling.on_request_received(home)
    visit = db.visits.find_one({"booking_id": home["payload"]["booking_id"]})
    # 11:00 is inside the session; 9:30 would leave no time to reach the hall for setting up at 9:30.
    for start in ("11:00", "09:30"):
        answer = fix_at(scheduling, visit, DAY, start)
        assert answer.status_code == 409, start
    # Another day is free then, and the afternoon leaves room to drive back from Takazaki.
    for day, start in ((working_day(6), "11:00"), (DAY, "14:00")):
        answer = fix_at(scheduling, visit, day, start)
        assert answer.status_code == 200, (day, start, response_json(answer))


def test_a_longer_session_takes_more_people(scheduling):
    status, body = open_session(scheduling, closes="14:00", capacity=16)  # four hours, lunch on site
    assert status == 201, body


def test_a_session_must_fit_the_crew_day_too(scheduling, db):
    home = request_received(district="himeki", household_size=1)
    scheduling.on_request_received(home)
    visit = db.visits.find_one({"booking_id": home["payload"]["booking_id"]})
    fixed = fix_at(scheduling, visit, DAY, "10:30")
    assert fixed.status_code == 200
    status, body = open_session(scheduling)
    assert status == 409 and body["error"] == "slot_unavailable"
    assert open_session(scheduling, date=working_day(6).isoformat())[0] == 201


@pytest.mark.parametrize(
    ("overrides", "field", "english"),
    [
        ({"capacity": 31}, "capacity", "Must be greater than or equal to 5 and less than or equal to 30."),
        ({"capacity": 4}, "capacity", "Must be greater than or equal to 5 and less than or equal to 30."),
        ({"closes": "10:15"}, "closes", "Must be at least 30 minutes after the opening time."),
        ({"opens": "10時"}, "opens", "Not a valid time (HH:MM)."),
        ({"venue": "どこかの公民館"}, "venue", "Unknown venue."),
        ({"crew_id": "crew-9"}, "crew_id", "Unknown crew."),
        # Two staff, 30 minutes a person: two hours help 8 people, not 9.
        ({"capacity": 9}, "capacity", "More than the crew can help in that time: at most 8."),
    ],
)
def test_a_bad_session_is_a_422_naming_the_field_in_both_languages(scheduling, db, overrides, field, english):
    status, body = open_session(scheduling, **overrides)
    assert status == 422
    [error] = body["fields"]
    assert (error["field"], error["en"]) == (field, english) and error["ja"]
    assert db.sessions.count_documents({}) == 0


def test_seats_are_taken_up_to_the_capacity_and_never_twice_for_one_booking(scheduling, db):
    _, session = open_session(scheduling)
    session_id = session["session_id"]
    first, second, third = (str(uuid.uuid4()) for _ in range(3))
    assert sessions.take_seat(db, session_id, first, 3)["free"] == 2
    assert sessions.take_seat(db, session_id, first, 3)["free"] == 2  # the same sign-up sent again
    with pytest.raises(sessions.SeatRefused) as refused:
        sessions.take_seat(db, session_id, second, 3)
    assert (refused.value.reason, refused.value.free) == ("full", 2)
    assert sessions.take_seat(db, session_id, third, 2)["free"] == 0
    sessions.release_seat(db, session_id, first)
    sessions.release_seat(db, session_id, first)  # given back once only
    assert db.sessions.find_one({"_id": session_id})["free"] == 3
    with pytest.raises(sessions.SeatRefused) as unknown:
        sessions.take_seat(db, "no-such-session", second, 1)
    assert unknown.value.reason == "unknown"


def test_reception_signs_a_household_up_and_its_visit_is_fixed_to_the_session(booking, scheduling, db):
    _, session = open_session(scheduling)
    status, body = sign_up(booking, session["session_id"], size=2)
    assert status == 201, body
    assert "高崎地区公民館へお越しください" in body["message"]["ja"] and "10:00〜12:00" in body["message"]["ja"]
    visit = deliver(db, scheduling, body["booking_id"])
    assert (visit["status"], visit["session_id"], visit["venue"]) == (
        "scheduled",
        session["session_id"],
        "takazaki-hall",
    )
    [entry] = visit["outbox"]
    fixed = events.parse(entry["event"], events.SLOT_FIXED).payload
    opens, closes = (fixed[k].astimezone(CITY.timezone) for k in ("window_start", "window_end"))
    assert fixed["venue"] == "takazaki-hall" and (opens.hour, closes.hour) == (10, 12)
    stored = db.sessions.find_one({"_id": session["session_id"]})
    assert stored["free"] == 3 and stored["seats"][0]["visit_id"] == visit["_id"]
    # Delivered again, it seats nobody twice.
    [entry] = db.bookings.find_one({"_id": body["booking_id"]})["outbox"]
    scheduling.on_request_received(entry["event"])
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 3


def test_a_full_session_is_a_422_in_japanese_and_nothing_is_stored(booking, scheduling, db):
    _, session = open_session(scheduling)
    assert sign_up(booking, session["session_id"], size=4)[0] == 201
    status, body = sign_up(booking, session["session_id"], size=2)
    assert status == 422
    [error] = body["fields"]
    assert error["field"] == "session_id" and "定員" in error["ja"] and "残り1人分" in error["ja"]
    assert db.bookings.count_documents({}) == 1


def test_only_reception_signs_up_and_a_closed_session_takes_no_one(booking, scheduling, db, monkeypatch):
    _, session = open_session(scheduling)
    body = booking_body(session_id=session["session_id"], channel="web")
    answer = booking.create_booking(json_request(body, token=staff_token("crew")))
    assert answer.status_code in (401, 403, 422)
    assert db.bookings.count_documents({}) == 0
    advance_clock(monkeypatch, (DAY - dt.date.today()).days * 86400 + 86400)  # the day after
    status, answer_body = sign_up(booking, session["session_id"])
    assert status == 422 and answer_body["fields"][0]["en"] == "The session no longer takes sign-ups."


def test_a_cancelled_sign_up_gives_its_seat_back(booking, scheduling, db):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"], size=3)
    deliver(db, scheduling, body["booking_id"])
    cancelled = booking.cancel_booking(json_request({"reason": "resident_request"}), body["booking_id"])
    assert cancelled.status_code == 200
    entry = db.bookings.find_one({"_id": body["booking_id"]})["outbox"][-1]
    scheduling.on_request_cancelled(entry["event"])
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 5


def test_a_seat_whose_booking_never_came_is_given_back_after_an_hour(scheduling, db, monkeypatch):
    _, session = open_session(scheduling)
    sessions.take_seat(db, session["session_id"], str(uuid.uuid4()), 2)
    scheduling.release_unclaimed_seats()
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 3  # still held: it may yet come
    advance_clock(monkeypatch, sessions.UNCLAIMED_SEAT_MINUTES * 60 + 1)
    scheduling.release_unclaimed_seats()
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 5


def test_the_day_sheet_shows_the_session_as_one_stop_with_each_household(booking, scheduling, db):
    _, session = open_session(scheduling)
    members = []
    for size in (2, 1):
        _, body = sign_up(booking, session["session_id"], size=size)
        members.append(deliver(db, scheduling, body["booking_id"]))
    home = request_received(district="himeki", household_size=1)
    scheduling.on_request_received(home)
    visit = db.visits.find_one({"booking_id": home["payload"]["booking_id"]})
    fix_at(scheduling, visit, DAY, "14:00")
    scheduling.booking.get_contacts.return_value = {}
    sheet = response_json(scheduling.crew_day(json_request(method="GET"), "crew-1", DAY.isoformat()))
    assert [s["kind"] for s in sheet["stops"]] == ["session", "visit"]
    hall = sheet["stops"][0]
    assert hall["venue_name"] == "高崎地区公民館" and hall["household_size"] == 3 and hall["capacity"] == 5
    assert hall["arrive"] == f"{DAY.isoformat()}T09:30:00+09:00"  # set up before the doors open
    assert hall["opens"] == f"{DAY.isoformat()}T10:00:00+09:00" and hall["end"] == f"{DAY.isoformat()}T12:00:00+09:00"
    assert sorted(h["visit_id"] for h in hall["households"]) == sorted(m["_id"] for m in members)
    assert sheet["persons"] == 4 and [c["visit_id"] for c in sheet["calls"]] == [visit["_id"]]
    detail = response_json(scheduling.get_session(json_request(method="GET"), session["session_id"]))
    assert detail["persons_signed_up"] == 3 and len(detail["signups"]) == 2


def test_results_are_recorded_per_household_and_a_postponed_one_waits_for_a_home_visit(booking, scheduling, db):
    _, session = open_session(scheduling)
    visits = []
    for size in (2, 1):
        _, body = sign_up(booking, session["session_id"], size=size)
        visits.append(deliver(db, scheduling, body["booking_id"]))
    pair, single = visits
    done = scheduling.visit_done(
        json_request({"applicants": [{"result": "applied"}, {"result": "missing_documents"}]}), pair["_id"]
    )
    assert done.status_code == 200 and response_json(done)["result"]["outcome"] == "partial"
    entry = db.visits.find_one({"_id": pair["_id"]})["outbox"][-1]
    counts = events.parse(entry["event"], events.VISIT_DONE).payload["applicants"]
    assert (counts["applied"], counts["missing_documents"]) == (1, 1)
    later = scheduling.visit_done(json_request({"applicants": [{"result": "wants_revisit"}]}), single["_id"])
    assert response_json(later)["status"] == "unscheduled"
    waiting = db.visits.find_one({"_id": single["_id"]})
    assert waiting["session_id"] is None and waiting["venue"] is None


def test_a_household_moved_out_of_the_session_to_a_home_window_frees_its_seat(booking, scheduling, db):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"], size=2)
    visit = deliver(db, scheduling, body["booking_id"])
    moved = fix_at(scheduling, visit, working_day(6), "10:00")
    assert moved.status_code == 200, response_json(moved)
    assert response_json(moved)["session_id"] is None and response_json(moved)["venue"] is None
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 5


# --- a community-hall chair refers a neighbour for a session in their district -----------------------


def test_a_chair_sees_the_sessions_of_their_district_and_refers_a_neighbour_for_one(scheduling, db):
    public.reset()
    liaison = worker(LiaisonChannelService, db)
    liaison.scheduling.open_sessions = scheduling.open_sessions  # the real RPC method, without the transport
    registered(liaison)  # a chair of 庄内 (test_liaison_chairs.CHAIR)
    _, shonai = open_session(scheduling, venue="庄内地区公民館")
    _, yamada = open_session(scheduling, venue="山田地区公民館", date=working_day(6).isoformat())
    token = signed_in(liaison)
    listed = response_json(liaison.hall_sessions(as_chair(token, method="GET")))["sessions"]
    assert [s["session_id"] for s in listed] == [shonai["session_id"]] and listed[0]["venue_name"] == "庄内地区公民館"
    assert set(listed[0]) == {"session_id", "venue_name", "start", "end", "seats_left"}  # nobody's sign-ups
    refused = liaison.create_short_referral(as_chair(token, body={**NEIGHBOUR, "session_id": yamada["session_id"]}))
    assert refused.status_code == 422 and response_json(refused)["fields"][0]["field"] == "session_id"
    assert db.referrals.count_documents({}) == 0
    made = liaison.create_short_referral(as_chair(token, body={**NEIGHBOUR, "session_id": shonai["session_id"]}))
    assert made.status_code == 201
    [entry] = db.referrals.find_one({"_id": response_json(made)["referral_id"]})["outbox"]
    sealed = events.parse(entry["event"], events.REFERRAL_RECEIVED).payload["sealed_household"]
    opened = referral_seal.open_sealed(sealing.keyring(), sealed, response_json(made)["referral_id"])
    assert opened["session_id"] == shonai["session_id"]


# --- a session called off ------------------------------------------------------------------------


def test_a_cancelled_session_frees_the_crew_day_and_each_household_waits_for_a_home_visit(booking, scheduling, db):
    from services.notification.service import NotificationService
    from tests.unit.test_notification_service import CONTACT

    _, session = open_session(scheduling)
    members = []
    for size in (2, 1):
        _, body = sign_up(booking, session["session_id"], size=size)
        members.append(deliver(db, scheduling, body["booking_id"]))
    refused = scheduling.cancel_session(json_request({}, token=staff_token("crew")), session["session_id"])
    assert refused.status_code == 403
    answer = scheduling.cancel_session(json_request({}), session["session_id"])
    body = response_json(answer)
    assert answer.status_code == 200 and (body["status"], body["households_moved"]) == ("cancelled", 2)
    assert not (body["open_for_signups"] or body["can_cancel"])
    released = []
    for member in members:
        visit = db.visits.find_one({"_id": member["_id"]})
        assert (visit["status"], visit["session_id"], visit["slot"]) == ("unscheduled", None, None)
        event = events.parse(visit["outbox"][-1]["event"], events.SLOT_RELEASED)
        assert event.payload["reason"] == "session_cancelled"
        released.append(visit["outbox"][-1]["event"])
    # The crew's day is free again; no one signs up any more.
    home = request_received(district="takazaki", household_size=1)
    scheduling.on_request_received(home)
    visit = db.visits.find_one({"booking_id": home["payload"]["booking_id"]})
    fixed = fix_at(scheduling, visit, DAY, "10:30")
    assert fixed.status_code == 200
    status, late = sign_up(booking, session["session_id"])
    assert status == 422 and late["fields"][0]["en"] == "The session no longer takes sign-ups."
    assert scheduling.cancel_session(json_request({}), "no-such-session").status_code == 404
    # Reception still sees whom the call-off sent back to waiting.
    detail = response_json(scheduling.get_session(json_request(method="GET"), session["session_id"]))
    assert sorted(v["visit_id"] for v in detail["signups"]) == sorted(m["_id"] for m in members)
    assert {v["status"] for v in detail["signups"]} == {"unscheduled"}
    # Each household is told not to come: by e-mail, or on reception's list to phone.
    notification = worker(NotificationService, db, config={})
    notification.booking.get_contact.return_value = dict(CONTACT)
    notification.on_slot_released(released[0])
    notification.on_slot_released(released[0])  # delivered again: told once
    assert notification.mailer.send.call_count == 1
    to, message, _ = notification.mailer.send.call_args.args
    assert to == CONTACT["email"] and "中止になりました" in message.subject
    assert "会場にお越しいただく必要はありません" in message.body and "取り消されていません" in message.body


def test_a_household_seated_before_the_session_was_called_off_is_told_and_waits_for_a_home_visit(
    booking, scheduling, db
):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"])  # its event still on the way...
    scheduling.cancel_session(json_request({}), session["session_id"])
    visit = deliver(db, scheduling, body["booking_id"])  # ...arrives after the session was called off
    assert (visit["status"], visit.get("session_id")) == ("unscheduled", None)
    [entry] = visit["outbox"]  # told not to come, as those already fixed to it were
    assert events.parse(entry["event"], events.SLOT_RELEASED).payload["reason"] == "session_cancelled"


# --- seats kept and given back at the right moments (a review of the above) ----------------------


def test_an_unclaimed_seat_is_kept_while_its_booking_is_stored_and_marked_once_its_visit_exists(
    booking, scheduling, db, monkeypatch
):
    _, session = open_session(scheduling)
    _, stored = sign_up(booking, session["session_id"], size=2)  # its event is late
    never = str(uuid.uuid4())
    sessions.take_seat(db, session["session_id"], never, 1)  # a booking that was never stored
    scheduling.booking.existing_bookings = booking.existing_bookings  # the real RPC method
    advance_clock(monkeypatch, sessions.UNCLAIMED_SEAT_MINUTES * 60 + 1)
    scheduling.release_unclaimed_seats()
    kept = db.sessions.find_one({"_id": session["session_id"]})
    assert [s["booking_id"] for s in kept["seats"]] == [stored["booking_id"]] and kept["free"] == 3
    visit = deliver(db, scheduling, stored["booking_id"])  # the late event: its seat is still there
    assert visit["status"] == "scheduled"
    assert db.sessions.find_one({"_id": session["session_id"]})["seats"][0]["visit_id"] == visit["_id"]


def test_a_redelivered_sign_up_marks_a_seat_its_first_delivery_left_unmarked(booking, scheduling, db):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"])
    visit = deliver(db, scheduling, body["booking_id"])
    db.sessions.update_one({"_id": session["session_id"]}, {"$set": {"seats.0.visit_id": None}})  # a crash
    [entry] = db.bookings.find_one({"_id": body["booking_id"]})["outbox"]
    # Handled again (the first handling stopped before it was marked done, so it is not deduplicated).
    scheduling.on_request_received({**entry["event"], "event_id": str(uuid.uuid4())})
    assert db.sessions.find_one({"_id": session["session_id"]})["seats"][0]["visit_id"] == visit["_id"]


def test_a_session_called_off_while_a_sign_up_was_being_written_sends_it_back_too(booking, scheduling, db, monkeypatch):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"])
    seat = sessions.take_seat

    def seat_then_called_off(*args):
        taken = seat(*args)
        sessions.cancel(db, session["session_id"])  # reception, at that very moment
        return taken

    monkeypatch.setattr(sessions, "take_seat", seat_then_called_off)
    visit = deliver(db, scheduling, body["booking_id"])
    assert (visit["status"], visit["session_id"]) == ("unscheduled", None)
    released = events.parse(visit["outbox"][-1]["event"], events.SLOT_RELEASED).payload
    assert released["reason"] == "session_cancelled"


def test_a_household_postponed_before_the_session_gives_its_seat_back(booking, scheduling, db):
    _, session = open_session(scheduling)
    _, body = sign_up(booking, session["session_id"], size=2)
    visit = deliver(db, scheduling, body["booking_id"])
    postponed = scheduling.visit_done(json_request({"outcome": "postponed", "persons_applied": 0}), visit["_id"])
    assert postponed.status_code == 200
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 5


def test_a_seat_asked_for_after_the_caller_gave_up_or_with_no_deadline_is_not_taken(scheduling, db):
    _, session = open_session(scheduling)
    booking_id = str(uuid.uuid4())
    before = clock.iso(clock.now() - dt.timedelta(seconds=1))
    for deadline in (before, "soon", "2099-01-01T10:00:00"):
        assert scheduling.take_session_seat(session["session_id"], booking_id, 1, deadline) == {"result": "expired"}
    assert db.sessions.find_one({"_id": session["session_id"]})["free"] == 5
