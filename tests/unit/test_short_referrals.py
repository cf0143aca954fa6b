"""A chair's short referral waits in booking until reception completes the household on the phone;
the booking is then the channel's and carries the referral's id."""

import uuid

import pytest

from services.booking.service import BookingService
from shared import events, sealing
from tests.factories import booking_body, json_request, response_json, staff_token, worker

SHORT = {
    "name": "霧島 ハナ",
    "phone": "0986-37-1234",
    "district": "shonai",
    "memo": "耳が遠いです",
    "community_hall": "庄内地区公民館",
}


@pytest.fixture
def service(db):
    return worker(BookingService, db)


def short_referral(content=None, referral_id=None, form="short") -> dict:
    referral_id = referral_id or str(uuid.uuid4())
    payload = {
        "referral_id": referral_id,
        "channel": "liaison",
        "referrer_id": "chair-1",
        "sealed_household": sealing.keyring().seal(content or SHORT, referral_id),
        "form": form,
    }
    return events.build(events.REFERRAL_RECEIVED, payload, correlation_id=referral_id, municipality_code="452025")


def waiting(service, role="reception"):
    return service.list_short_referrals(json_request(method="GET", token=staff_token(role)))


def test_a_short_referral_waits_for_reception_instead_of_becoming_a_booking(service, db):
    event = short_referral()
    service.on_referral(event)
    service.on_referral(event)  # redelivered: still one
    assert db.bookings.count_documents({}) == 0
    [shown] = response_json(waiting(service))["referrals"]
    assert (shown["name"], shown["phone"], shown["district"], shown["memo"]) == (
        "霧島 ハナ",
        "0986371234",
        "shonai",
        "耳が遠いです",
    )
    assert shown["community_hall"] == "庄内地区公民館" and shown["status"] == "to_complete"
    assert "霧島" not in str(db.short_referrals.find_one({}))  # sealed at rest
    assert db.audit.count_documents({"action": "read"}) == 1  # who saw the names is recorded
    assert waiting(service, "crew").status_code == 403


def test_reception_completes_it_into_a_booking_of_the_channel(service, db):
    event = short_referral()
    service.on_referral(event)
    referral_id = event["payload"]["referral_id"]
    body = booking_body(channel="phone", referral_id=referral_id, phone="0986-37-1234")
    answer = service.create_booking(json_request(body))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    booking = db.bookings.find_one({"_id": response_json(answer)["booking_id"]})
    assert (booking["channel"], booking["referral_id"]) == ("liaison", referral_id)
    [entry] = booking["outbox"]
    published = events.parse(entry["event"], events.REQUEST_RECEIVED).payload
    assert (published["channel"], published["referral_id"]) == ("liaison", referral_id)  # the chair follows it
    assert response_json(waiting(service))["referrals"] == []
    again = service.create_booking(json_request(body))
    assert again.status_code == 422 and response_json(again)["fields"][0]["field"] == "referral_id"
    assert db.bookings.count_documents({}) == 1


def test_only_reception_completes_a_referral_and_only_one_that_waits(service, db):
    event = short_referral()
    service.on_referral(event)
    body = booking_body(referral_id=event["payload"]["referral_id"])
    public = service.create_booking(json_request(body, token=None))  # the public form cannot claim one
    assert public.status_code == 422 and db.bookings.count_documents({}) == 0
    unknown = service.create_booking(json_request(booking_body(referral_id="no-such-referral")))
    assert unknown.status_code == 422 and db.bookings.count_documents({}) == 0


def test_a_short_referral_with_bad_fields_is_a_dead_letter_not_a_record(service, db):
    with pytest.raises(events.InvalidEvent):
        service.on_referral(short_referral({**SHORT, "district": "東京"}))
    with pytest.raises(events.InvalidEvent):
        service.on_referral(short_referral({**SHORT, "memo": "番号 123456789012"}))
    assert db.short_referrals.count_documents({}) == 0


def test_a_version_1_referral_is_still_a_whole_household(service, db):
    household = booking_body()
    household.pop("channel"), household.pop("consent")
    event = short_referral(household, form="household")
    del event["payload"]["form"]
    event["schema_version"] = 1
    service.on_referral(event)
    assert db.bookings.count_documents({"channel": "liaison"}) == 1


def test_reception_closes_a_referral_the_neighbour_declined_and_the_channel_hears_it(service, db):
    event = short_referral()
    service.on_referral(event)
    referral_id = event["payload"]["referral_id"]
    close = lambda reason: service.close_short_referral(  # noqa: E731
        json_request({"reason": reason}), referral_id=referral_id
    )
    assert close("bored").status_code == 422
    answer = close("declined")
    assert answer.status_code == 200 and response_json(answer)["status"] == "closed"
    [entry] = db.short_referrals.find_one({"_id": referral_id})["outbox"]
    closed = events.parse(entry["event"], events.REFERRAL_CLOSED).payload
    assert closed == {"referral_id": referral_id, "channel": "liaison", "reason": "declined"}
    assert response_json(waiting(service))["referrals"] == []
    assert close("declined").status_code == 404  # once
    completed = service.create_booking(json_request(booking_body(referral_id=referral_id)))
    assert completed.status_code == 422 and db.bookings.count_documents({}) == 0


def test_completing_takes_the_referral_first_so_closing_it_meanwhile_is_refused(service, db, monkeypatch):
    from services.booking import short_referrals as store

    event = short_referral()
    service.on_referral(event)
    referral_id = event["payload"]["referral_id"]
    assert store.claim(db, referral_id) is not None  # one receptionist is completing it
    closing = service.close_short_referral(json_request({"reason": "declined"}), referral_id=referral_id)
    assert closing.status_code == 404 and not db.short_referrals.find_one({"_id": referral_id}).get("outbox")
    store.release(db, referral_id)

    def broken_store(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(service, "_store", broken_store)
    with pytest.raises(RuntimeError):
        service.create_booking(json_request(booking_body(referral_id=referral_id)))
    assert db.short_referrals.find_one({"_id": referral_id})["status"] == "to_complete"  # waits again


def test_a_completed_referral_keeps_no_copy_and_a_closed_one_only_for_the_retention_period(service, db, monkeypatch):
    from shared import settings
    from tests.factories import advance_clock

    completed, closed = short_referral(), short_referral({**SHORT, "phone": "0986-37-9999"})
    service.on_referral(completed)
    service.on_referral(closed)
    answer = service.create_booking(json_request(booking_body(referral_id=completed["payload"]["referral_id"])))
    assert answer.status_code == 201
    assert "sealed" not in db.short_referrals.find_one({"_id": completed["payload"]["referral_id"]})
    service.close_short_referral(json_request({"reason": "unreachable"}), referral_id=closed["payload"]["referral_id"])
    service.erase_expired()
    assert "sealed" in db.short_referrals.find_one({"_id": closed["payload"]["referral_id"]})
    advance_clock(monkeypatch, (settings.retention_days() + 1) * 86400)
    service.erase_expired()
    assert "sealed" not in db.short_referrals.find_one({"_id": closed["payload"]["referral_id"]})


def test_reception_s_phone_search_finds_a_referral_waiting_under_the_number(service, db):
    event = short_referral()
    service.on_referral(event)
    found = response_json(service.find_bookings(json_request(method="GET", query={"phone": "0986 37 1234"})))
    assert found["bookings"] == [] and [r["referral_id"] for r in found["referrals_waiting"]] == [
        event["payload"]["referral_id"]
    ]
    other = response_json(service.find_bookings(json_request(method="GET", query={"phone": "0986-37-0000"})))
    assert other["referrals_waiting"] == []
