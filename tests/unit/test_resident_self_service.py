"""Booking's side of the residents' pages: the questions checked again on the server, the private
link and the phone code, the resident's own view and cancelling, each use in the audit log."""

from __future__ import annotations

import datetime as dt

import pytest

from services.booking import bookings, links
from services.booking.service import BookingService
from shared import clock, events, public
from tests.factories import (
    ELIGIBLE,
    booking_body,
    event,
    hold_clock,
    json_request,
    next_saturday,
    response_json,
    slot_fixed_payload,
    worker,
    working_day,
)


@pytest.fixture
def service(db):
    public.reset()
    return worker(BookingService, db)


def book(service, token="office", **overrides) -> dict:
    response = service.create_booking(json_request(booking_body(**overrides), token=token))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response_json(response)


def fields_of(response) -> dict[str, dict]:
    assert response.status_code == 422, response.get_data(as_text=True)
    return {f["field"]: f for f in response_json(response)["fields"]}


def resident(token: str, method: str = "GET", body: dict | None = None):
    return json_request(body, method=method, token=None, headers={"Authorization": f"BookingLink {token}"})


# --- the questions, again on the server --------------------------------------------------------------


def test_an_anonymous_request_without_the_answers_is_refused_and_nothing_is_stored(service, db):
    body = booking_body(channel="web")
    del body["eligibility"]
    fields = fields_of(service.create_booking(json_request(body, token=None)))
    assert fields["eligibility"]["ja"] == "必須項目です。"
    assert db.bookings.count_documents({}) == 0
    # Reception on the phone judges the questions in conversation: no answers needed.
    assert service.create_booking(json_request(body)).status_code == 201


@pytest.mark.parametrize(
    ("answers", "field", "ja"),
    [
        ({"parking": False}, "eligibility.parking", "訪問の車を止める場所が必要です。"),
        (
            {"moving_soon": True},
            "eligibility.moving_soon",
            "近く引っ越しの予定がある方は、引っ越し先で申請してください。",
        ),
        ({"reasons": []}, "eligibility.reasons", "窓口へお越しになるのが難しい理由を1つ以上選んでください。"),
        ({"reasons": ["bored"]}, "eligibility.reasons", "理由の選択肢が正しくありません。"),
    ],
)
def test_each_no_is_refused_with_its_own_message(service, db, answers, field, ja):
    body = booking_body(channel="web", eligibility={**ELIGIBLE, **answers})
    fields = fields_of(service.create_booking(json_request(body, token=None)))
    assert fields[field]["ja"] == ja
    assert db.bookings.count_documents({}) == 0


def test_a_postal_code_outside_the_city_is_refused_for_every_channel(service):
    body = booking_body(address={"postal_code": "880-0805", "district": "高崎", "line": "橘通東 1-1"})
    fields = fields_of(service.create_booking(json_request(body)))
    assert fields["address.postal_code"]["en"] == "This postal code is not in the municipality."


def test_a_child_needs_a_guardian_counted_from_today(service):
    today = clock.today()
    turns_15_tomorrow = today.replace(year=today.year - 15) + dt.timedelta(days=1)
    applicants = [
        booking_body()["applicants"][0],
        {**booking_body()["applicants"][0], "birth_date": str(turns_15_tomorrow)},
    ]
    no_guardian = {**ELIGIBLE, "guardian_present": False}
    body = booking_body(channel="web", applicants=applicants, eligibility=no_guardian)
    fields = fields_of(service.create_booking(json_request(body, token=None)))
    assert fields["eligibility.guardian_present"]["ja"] == "15歳未満の方の申請には、保護者の方の立ち会いが必要です。"
    # Fifteen today: no guardian needed.
    applicants[1]["birth_date"] = str(turns_15_tomorrow - dt.timedelta(days=1))
    assert service.create_booking(json_request(body, token=None)).status_code == 201


def test_the_answers_are_stored_as_codes_and_carried_in_request_received_since_version_2(service, db):
    answer = book(
        service, token=None, channel="web", eligibility={**ELIGIBLE, "reasons": ["far_no_transport", "elderly"]}
    )
    stored = db.bookings.find_one({"_id": answer["booking_id"]})
    [entry] = stored["outbox"]
    assert entry["event"]["schema_version"] == events.REQUEST_RECEIVED.version >= 2
    payload = events.parse(entry["event"], events.REQUEST_RECEIVED).payload
    assert payload["eligibility"] == {
        "reasons": ["elderly", "far_no_transport"],
        "parking": True,
        "moving_soon": False,
        "guardian_present": True,
    }
    view = response_json(service.get_booking(json_request(method="GET"), answer["booking_id"]))
    assert view["eligibility"] == payload["eligibility"]


# --- the private link and the phone code ---------------------------------------------------------------


def test_the_booker_gets_a_link_that_shows_the_first_name_and_the_district_only(service, db):
    answer = book(service, token=None, channel="web")
    own = service.own_booking(resident(answer["link"]["token"]))
    assert own.status_code == 200
    view = response_json(own)
    assert view["given_name"] == "花子" and view["district"] == "takazaki" and view["status"] == "received"
    assert view["code"] == answer["link"]["code"] and view["window"] is None
    text = own.get_data(as_text=True)
    for personal in ("都城", "0986221234", "hanako@example.jp", "大牟田", "1942"):
        assert personal not in text
    [entry] = list(db.audit.find({"booking_ids": answer["booking_id"], "role": "resident"}))
    assert (entry["action"], entry["subject"]) == ("read", "resident-link")


def test_a_link_is_for_one_booking_and_an_altered_or_expired_one_is_refused(service, monkeypatch):
    first, second = book(service), book(service, phone="0986-22-5555")
    assert links.booking_id_of(first["link"]["token"]) == first["booking_id"]
    assert first["link"]["token"] != second["link"]["token"]
    token = first["link"]["token"]
    # One character of the signed booking id changed (the signature's last character may carry only
    # padding bits, so changing it can leave the signature as it was).
    altered = token[:2] + ("A" if token[2] != "A" else "B") + token[3:]
    refused = service.own_booking(resident(altered))
    assert refused.status_code == 401 and response_json(refused)["error"] == "link_invalid"
    assert refused.headers["WWW-Authenticate"] == 'BookingLink realm="mynacar"'
    # A staff token is not a link, and a link is not a staff token.
    assert service.own_booking(json_request(method="GET")).status_code == 401
    assert service.get_booking(resident(token, "GET"), first["booking_id"]).status_code == 401
    later = dt.datetime.now().timestamp() + (links.link_days() + 1) * 86400
    monkeypatch.setattr("itsdangerous.timed.time.time", lambda: later)
    expired = service.own_booking(resident(token))
    assert expired.status_code == 401 and response_json(expired)["error"] == "link_expired"


def test_the_phone_code_gives_a_link_and_five_wrong_codes_lock_the_reference(service, monkeypatch):
    answer = book(service)
    wrong = f"{(int(answer['link']['code']) + 1) % 10**6:06d}"

    def exchange(code, reference=answer["reference"]):
        return service.exchange_code(json_request({"reference": reference, "code": code}, token=None))

    given = exchange(answer["link"]["code"])
    assert given.status_code == 200
    assert links.booking_id_of(response_json(given)["token"]) == answer["booking_id"]
    assert exchange("123456", reference="991231-999").status_code == 401  # unknown: as a wrong code
    for _ in range(links.MAX_CODE_FAILURES - 1):
        assert exchange(wrong).status_code == 401
    locked = exchange(wrong)
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "一時的に受け付けを止めています" in response_json(locked)["message"]["ja"]
    assert exchange(answer["link"]["code"]).status_code == 429  # even the right code, while locked
    hold_clock(monkeypatch, clock.now() + dt.timedelta(minutes=links.LOCK_MINUTES + 1))
    assert exchange(answer["link"]["code"]).status_code == 200
    assert fields_of(exchange("12345"))["code"]["ja"] == "形式が正しくありません。"


def test_the_resident_cancels_with_a_reason_once_and_the_event_goes_out_once(service, db):
    answer = book(service, token=None, channel="web")
    token = answer["link"]["token"]
    assert fields_of(service.cancel_own_booking(resident(token, "POST", {"reason": "whim"})))["reason"]
    cancelled = service.cancel_own_booking(resident(token, "POST", {"reason": "applied_at_counter"}))
    assert cancelled.status_code == 200 and response_json(cancelled)["status"] == "cancelled"
    again = service.cancel_own_booking(resident(token, "POST", {"reason": "other"}))
    assert again.status_code == 200
    stored = db.bookings.find_one({"_id": answer["booking_id"]})
    assert (stored["cancel_reason"], stored["cancel_detail"]) == ("resident_request", "applied_at_counter")
    kinds = [e["routing_key"] for e in stored["outbox"]]
    assert kinds.count("request_cancelled") == 1
    changes = list(db.audit.find({"booking_ids": answer["booking_id"], "action": "change"}))
    assert [c["purpose"] for c in changes] == ["cancel (applied_at_counter)", "cancel (other)"]


def test_the_window_follows_slot_fixed_and_a_late_release_of_an_older_slot_changes_nothing(service, db):
    answer = book(service)
    booking_id = answer["booking_id"]

    def slot(start_hour: int, day: dt.date) -> dict:
        return slot_fixed_payload(booking_id, dt.datetime.combine(day, dt.time(start_hour), clock.JST), "v-1")

    day = clock.today() + dt.timedelta(days=7)
    first, moved = slot(9, day), slot(14, day)
    service.on_slot_fixed(event(events.SLOT_FIXED, first))
    service.on_slot_fixed(event(events.SLOT_FIXED, moved))
    service.on_slot_released(
        event(
            events.SLOT_RELEASED,
            {**{k: first[k] for k in ("visit_id", "booking_id", "crew_id", "start")}, "reason": "moved"},
        )
    )
    view = response_json(service.own_booking(resident(answer["link"]["token"])))
    assert dt.datetime.fromisoformat(view["window"]["window_start"]).hour == 14
    # Released for real (postponed): the window goes.
    service.on_slot_released(
        event(
            events.SLOT_RELEASED,
            {**{k: moved[k] for k in ("visit_id", "booking_id", "crew_id", "start")}, "reason": "postponed"},
        )
    )
    assert response_json(service.own_booking(resident(answer["link"]["token"])))["window"] is None


def test_an_erased_booking_answers_that_it_is_no_longer_kept(service, db):
    answer = book(service)
    db.bookings.update_one({"_id": answer["booking_id"]}, {"$set": {"personal": None}})
    gone = service.own_booking(resident(answer["link"]["token"]))
    assert gone.status_code == 404 and "保存期間" in response_json(gone)["message"]["ja"]
    assert bookings.resident_view(db.bookings.find_one({"_id": answer["booking_id"]})) is None


# --- the resident's choices of date, asked of scheduling by RPC (choices.py) ----------------------------


def test_picking_a_window_asks_scheduling_and_a_taken_one_is_a_409_in_japanese(service):
    answer = book(service, token=None, channel="web")
    token = answer["link"]["token"]
    service.scheduling.fix_for_booking.return_value = {"result": "gone"}
    gone = service.pick_own_slot(resident(token, "POST", {"offer_id": "o-1"}))
    assert gone.status_code == 409 and "ほかの方に決まった" in response_json(gone)["message"]["ja"]
    booking_id, crew, start, offer_id, deadline = service.scheduling.fix_for_booking.call_args.args
    assert (booking_id, crew, start, offer_id) == (answer["booking_id"], "", "", "o-1")
    assert dt.datetime.fromisoformat(deadline) > clock.now()  # scheduling drops a call that arrives later

    window = {"start": "2027-01-12T10:00:00+09:00", "window_start": "2027-01-12T10:00:00+09:00"}
    visit = {"visit_id": "v", "status": "scheduled", "slot": {**window, "window_end": "2027-01-12T10:30:00+09:00"}}
    service.scheduling.fix_for_booking.return_value = {"result": "fixed", "visit": visit}
    picked = service.pick_own_slot(resident(token, "POST", {"crew_id": "crew-1", "start": "2027-01-12T10:00:00"}))
    assert picked.status_code == 200 and response_json(picked)["status"] == "scheduled"
    # The own page shows the window at once, before slot_fixed arrives.
    own = response_json(service.own_booking(resident(token)))
    assert own["window"]["window_start"] == "2027-01-12T10:00:00+09:00"
    assert service.scheduling.fix_for_booking.call_args.args[2] == "2027-01-12T10:00:00+09:00"  # read in JST
    assert fields_of(service.pick_own_slot(resident(token, "POST", {})))["offer_id"]["ja"] == "日時を選んでください。"
    service.scheduling.fix_for_booking.return_value = {"result": "expired"}
    assert service.pick_own_slot(resident(token, "POST", {"offer_id": "o-1"})).status_code == 503


def test_other_days_must_be_working_days_ahead_and_reach_scheduling_as_dates(service):
    token = book(service, token=None, channel="web")["link"]["token"]
    service.scheduling.prefer_dates.return_value = {"result": "saved"}
    saturday = next_saturday()
    refused = service.prefer_own_dates(resident(token, "POST", {"preferred": [{"date": str(saturday)}]}))
    assert fields_of(refused)["preferred.0.date"]["ja"].startswith("市役所の業務日ではありません")
    day = working_day(3)
    saved = service.prefer_own_dates(resident(token, "POST", {"preferred": [{"date": str(day), "period": "am"}]}))
    assert saved.status_code == 200
    assert service.scheduling.prefer_dates.call_args.args[1] == [{"date": day.isoformat(), "period": "am"}]
    service.scheduling.prefer_dates.return_value = {"result": "wrong_status"}
    late = service.prefer_own_dates(resident(token, "POST", {"preferred": [{"date": str(day)}]}))
    assert late.status_code == 409
