"""Personal data at rest: sealed in the document, found by keyed hash, re-sealed on key rotation."""

import json

import pytest

from services.booking import rekey
from services.booking.service import BookingService
from shared import sealing
from tests.factories import booking_body, json_request, notification_identity, response_json, worker


def personal_values(body: dict) -> tuple[str, ...]:
    """What the household sent that nobody should read in the database: taken from the body itself,
    so the list cannot drift from what was booked."""
    first, address = body["applicants"][0], body["address"]
    names = (first["family_name"], first["given_name"], first["family_name_kana"], first["given_name_kana"])
    phone_digits = "".join(ch for ch in body["phone"] if ch.isdigit())
    return (*names, first["birth_date"], phone_digits, body["email"], address["line"].split()[0])


PERSONAL = personal_values(booking_body())


@pytest.fixture
def service(db):
    return worker(BookingService, db)


def book(service, **overrides) -> str:
    answer = service.create_booking(json_request(booking_body(**overrides)))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return response_json(answer)["booking_id"]


def stored_text(db) -> str:
    return json.dumps(list(db.bookings.find({})), ensure_ascii=False, default=str)


def test_the_stored_booking_holds_no_personal_data_in_clear_and_reads_back_whole(service, db):
    booking_id = book(service)
    text = stored_text(db)
    for secret in PERSONAL:
        assert secret not in text, secret
    [doc] = db.bookings.find({})
    # The eligibility answers are codes and yes/no, kept in clear for reception and the reports.
    assert doc["facts"] == {
        "district": "takazaki",
        "venue": None,
        "household_size": 2,
        "eligibility": {"reasons": ["elderly"], "parking": True, "moving_soon": False, "guardian_present": True},
    }
    household = response_json(service.get_booking(json_request(method="GET"), booking_id))["household"]
    assert household["applicants"][0]["family_name"] == "都城" and household["phone"] == "0986221234"
    assert service.get_contact(booking_id, notification_identity(booking_id))["email"] == "hanako@example.jp"


def test_a_household_is_found_by_phone_however_the_number_is_written(service, db):
    first = book(service)
    second = book(service, needs="足が不自由です")
    book(service, phone="090-1234-5678")
    found = service.find_bookings(json_request(method="GET", query={"phone": "０９８６（２２）１２３４"}))
    assert [b["booking_id"] for b in response_json(found)["bookings"]] == [second, first]
    nobody = service.find_bookings(json_request(method="GET", query={"phone": "0986-99-9999"}))
    assert response_json(nobody)["bookings"] == []
    assert service.find_bookings(json_request(method="GET", query={"phone": "abc"})).status_code == 422
    assert service.find_bookings(json_request(method="GET", query={"phone": {"$ne": None}})).status_code == 422


def test_rotation_reseals_under_the_new_key_so_the_old_one_can_go(service, db, monkeypatch, staff_auth):
    booking_id = book(service)
    old = json.loads(staff_auth.data_keys_path.read_text())
    new = sealing.Keyring.generate("2027-01")
    both = {"active": "2027-01", "keys": {**old["keys"], **new["keys"]}, "hash_key": old["hash_key"]}
    monkeypatch.setenv("DATA_KEYS", json.dumps(both))
    sealing.reset()
    assert rekey.rekey(db) == rekey.Rekeyed(resealed=1)
    assert rekey.rekey(db) == rekey.Rekeyed(current=1)
    only_new = {**both, "keys": new["keys"]}
    monkeypatch.setenv("DATA_KEYS", json.dumps(only_new))
    sealing.reset()
    assert service.get_contact(booking_id, notification_identity(booking_id))["phone"] == "0986221234"
    found = service.find_bookings(json_request(method="GET", query={"phone": "0986-22-1234"}))
    assert len(response_json(found)["bookings"]) == 1


def test_a_record_sealed_for_one_booking_does_not_open_as_another():
    ring = sealing.keyring()
    sealed = ring.seal({"phone": "0986221234"}, "booking-a")
    assert ring.open(sealed, "booking-a") == {"phone": "0986221234"}
    with pytest.raises(sealing.SealError):
        ring.open(sealed, "booking-b")
    with pytest.raises(sealing.SealError):
        ring.open({**sealed, "key": "retired"}, "booking-a")


def test_malformed_or_weak_keys_are_refused():
    with pytest.raises(sealing.SealError):
        sealing.Keyring.from_json("{}")
    short = {"active": "k", "keys": {"k": "c2hvcnQ="}, "hash_key": "c2hvcnQ="}
    with pytest.raises(sealing.SealError):
        sealing.Keyring.from_json(json.dumps(short))


def test_reception_booking_on_the_phone_hears_of_the_households_open_bookings(service, db):
    first = response_json(service.create_booking(json_request(booking_body())))
    assert first["open_bookings"] == []
    again = response_json(service.create_booking(json_request(booking_body(needs="再申込"))))
    assert [b["reference"] for b in again["open_bookings"]] == [first["reference"]]
    # The public form tells nobody what else a phone number has booked.
    anonymous = response_json(service.create_booking(json_request(booking_body(channel="web"), token=None)))
    assert "open_bookings" not in anonymous
    service.cancel_booking(json_request({"reason": "duplicate"}), first["booking_id"])
    later = response_json(service.create_booking(json_request(booking_body())))
    assert {b["reference"] for b in later["open_bookings"]} == {again["reference"], anonymous["reference"]}


def test_rotation_and_a_new_hash_key_reach_short_referrals_chairs_and_names(
    service, db, db_factory, monkeypatch, staff_auth
):
    from services.booking import short_referrals
    from services.liaison import chairs
    from services.liaison import rekey as liaison_rekey
    from tests.unit.test_short_referrals import short_referral

    service.on_referral(short_referral())
    liaison_db = db_factory()
    chairs.register(liaison_db, "庄内 一郎", "ichiro@example.jp", "庄内地区公民館", "shonai")
    liaison_db.referrals.insert_one({"_id": "r-1", "sealed_name": sealing.keyring().seal({"name": "霧島 ハナ"}, "r-1")})
    old = json.loads(staff_auth.data_keys_path.read_text())
    new = sealing.Keyring.generate("2027-01")  # a new data key and a new hash key
    monkeypatch.setenv(
        "DATA_KEYS",
        json.dumps({"active": "2027-01", "keys": {**old["keys"], **new["keys"]}, "hash_key": new["hash_key"]}),
    )
    sealing.reset()
    assert rekey.rekey(db, everything=True).resealed == 1  # the short referral (no bookings here)
    assert liaison_rekey.rekey(liaison_db, everything=True).resealed == 2  # the chair and the name
    monkeypatch.setenv("DATA_KEYS", json.dumps(new))
    sealing.reset()
    [waiting] = short_referrals.waiting(db)
    assert short_referrals.view(waiting)["name"] == "霧島 ハナ"
    assert waiting["phone_hash"] == sealing.keyring().lookup_hash("0986371234")
    assert chairs.issue_link(liaison_db, "ichiro@example.jp") is not None  # found by the new hash
    opened = sealing.keyring().open(liaison_db.referrals.find_one({"_id": "r-1"})["sealed_name"], "r-1")
    assert opened == {"name": "霧島 ハナ"}


def test_a_phone_search_that_finds_nothing_is_still_an_audited_look(service, db):
    service.find_bookings(json_request(method="GET", query={"phone": "0986-99-9999"}))
    [entry] = db.audit.find({"action": "search"})
    assert entry["booking_ids"] == [] and entry["purpose"] == "find bookings by phone"
