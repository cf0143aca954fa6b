import uuid
from unittest import mock

import pytest
from pymongo.errors import DuplicateKeyError, ServerSelectionTimeoutError

from deploy.local.devauth import DevKeys
from services.booking import references
from services.booking.service import BookingService
from shared import events
from tests.factories import (
    booking_body,
    json_request,
    notification_identity,
    referral_event,
    response_json,
    staff_identity,
    worker,
)


@pytest.fixture
def service(db):
    return worker(BookingService, db)


def post(service, body=None, raw=None):
    return service.create_booking(json_request(body, raw=raw))


def test_a_booking_is_stored_with_its_event_and_answered_201(service, db):
    response = post(service, booking_body())
    assert response.status_code == 201
    answer = response_json(response)
    stored = db.bookings.find_one({"_id": answer["booking_id"]})
    assert stored["status"] == "received" and answer["status"] == "received"
    assert answer["reference"] == stored["reference"] and "受付番号" in answer["message"]["ja"]
    [entry] = stored["outbox"]
    event = events.parse(entry["event"], events.REQUEST_RECEIVED)
    assert (entry["exchange"], entry["routing_key"]) == ("booking.events", "request_received")
    assert event.correlation_id == answer["booking_id"]
    assert event.payload["household_size"] == 2 and event.payload["district"] == "takazaki"
    service.outbox.kick.assert_called()


def test_the_event_carries_no_personal_data(service, db):
    body = booking_body()
    answer = response_json(post(service, body))
    text = str(db.bookings.find_one({"_id": answer["booking_id"]})["outbox"])
    for secret in ("都城", "花子", "ミヤコノジョウ", "0986221234", "hanako@example.jp", "大牟田", "1942-05-10"):
        assert secret not in text


def test_references_count_up_within_a_day(service, midday):
    first = response_json(post(service, booking_body()))["reference"]
    second = response_json(post(service, booking_body()))["reference"]
    assert first.split("-")[0] == second.split("-")[0]
    assert int(second.split("-")[1]) == int(first.split("-")[1]) + 1


def test_bad_fields_get_422_with_messages_in_both_languages_and_nothing_is_stored(service, db):
    body = booking_body(phone="12", consent=False)
    body["applicants"][0]["birth_date"] = "1942-13-40"
    response = post(service, body)
    assert response.status_code == 422
    fields = {f["field"]: f for f in response_json(response)["fields"]}
    assert set(fields) == {"phone", "consent", "applicants.0.birth_date"}
    assert fields["consent"]["ja"] and fields["consent"]["en"] == "Consent is required."
    assert db.bookings.count_documents({}) == 0


def test_an_individual_number_anywhere_is_refused(service, db):
    response = post(service, booking_body(needs="マイナンバーは 1234 5678 9012 です"))
    assert response.status_code == 422
    [field] = response_json(response)["fields"]
    assert field["field"] == "needs" and "マイナンバー" in field["ja"]
    assert db.bookings.count_documents({}) == 0


@pytest.mark.parametrize(
    ("raw", "status"), [(b"{not json", 400), (b"[1, 2]", 400), (b"\xff\xfe", 400), (b"{}" + b" " * 70000, 413)]
)
def test_malformed_bodies_get_4xx(service, db, raw, status):
    assert post(service, raw=raw).status_code == status
    assert db.bookings.count_documents({}) == 0


def test_unknown_bookings_are_404(service):
    assert service.get_booking(json_request(method="GET"), "nope").status_code == 404
    assert service.cancel_booking(json_request(), "nope").status_code == 404


def test_cancelling_twice_emits_one_event(service, db):
    booking_id = response_json(post(service, booking_body()))["booking_id"]
    first = service.cancel_booking(json_request({"reason": "duplicate"}), booking_id)
    second = service.cancel_booking(json_request(), booking_id)
    assert response_json(first)["status"] == response_json(second)["status"] == "cancelled"
    outbox = db.bookings.find_one({"_id": booking_id})["outbox"]
    assert [e["event"]["event_type"] for e in outbox] == ["booking.request_received", "booking.request_cancelled"]
    assert outbox[1]["event"]["payload"]["reason"] == "duplicate"


def test_contact_details_are_given_over_rpc_only(service):
    booking_id = response_json(post(service, booking_body()))["booking_id"]
    contact = service.get_contact(booking_id, notification_identity(booking_id))
    assert contact["name"] == "都城 花子" and contact["phone"] == "0986221234"
    unknown = str(uuid.uuid4())
    assert service.get_contact(unknown, notification_identity(unknown)) is None
    assert set(service.get_contacts([booking_id, unknown], staff_identity("reception"))) == {booking_id}


def test_an_rpc_without_a_valid_identity_gives_nothing_and_is_counted(service, db, auth_keys, tmp_path):
    """The RPC dump of issue 18: a caller that writes who it is, or holds no valid token or key."""
    booking_id = response_json(post(service, booking_body()))["booking_id"]
    other = response_json(post(service, booking_body()))["booking_id"]
    made_up = {"subject": "r.sato", "role": "reception", "purpose": "call list"}  # the old `actor`
    expired = {"token": auth_keys.token("reception", hours=-0.1), "purpose": "call list"}
    stranger = DevKeys(tmp_path / "other").ensure()  # a key booking does not trust
    forged = {"token": stranger.token("reception"), "purpose": "call list"}
    for identity, reason in (
        (made_up, "malformed"),
        (None, "malformed"),
        ({"token": "not-a-jwt", "purpose": "x"}, "invalid_token"),
        (expired, "invalid_token"),
        (forged, "invalid_token"),
        (staff_identity("liaison", liaison_id="hall-1"), "role"),
    ):
        before = refused("get_contacts", reason)
        assert service.get_contacts([booking_id], identity) == {}
        assert refused("get_contacts", reason) == before + 1, reason
    # notification's assertion covers the bookings it names, for a minute, signed with its own key.
    for identity, reason in (
        (notification_identity(other), "other_bookings"),
        ({"assertion": "x.y.z"}, "invalid_assertion"),
    ):
        before = refused("get_contact", reason)
        assert service.get_contact(booking_id, identity) is None
        assert refused("get_contact", reason) == before + 1, reason
    # A service speaks for itself only where it may: not for a staff screen, nor about a staff token's method.
    assert service.get_contacts([booking_id], notification_identity(booking_id)) == {}
    assert service.get_contact(booking_id, staff_identity("reception")) is None
    assert db.audit.count_documents({"action": "read"}) == 0  # nothing was read


@pytest.mark.parametrize(
    ("method", "args"),
    [
        ("get_contact", ({"$ne": None}, None)),
        ("get_contact", ("nope", None)),
        ("get_contacts", ([{"$ne": None}], None)),
        ("get_contacts", ({"$nin": []}, None)),
        ("get_contacts", ([str(uuid.uuid4())] * 501, None)),
        ("get_contacts", ([], None, "yes")),
    ],
)
def test_an_rpc_with_malformed_arguments_finds_nobody_and_is_counted(service, method, args):
    """An operator as an id would match every booking (issue 18); an unbounded list is refused
    before any query, whoever asks."""
    post(service, booking_body())
    before = refused(method, "malformed")
    answer = getattr(service, method)(*args)
    assert not answer  # None or {}: nobody's contact
    assert refused(method, "malformed") == before + 1


def refused(method: str, reason: str) -> float:
    from services.booking import metrics

    return metrics.rpc_refused.labels(method, reason)._value.get()


def test_the_crew_gets_the_address_needs_and_applicants_only_when_it_asks_for_the_visit_details(service):
    booking_id = response_json(post(service, booking_body(needs="車椅子を使用しています")))["booking_id"]
    plain = service.get_contacts([booking_id], staff_identity("reception", "call list"))[booking_id]
    assert not {"address", "needs", "applicants"} & set(plain)  # notification and the call list: no more
    detailed = service.get_contacts([booking_id], staff_identity(), True)[booking_id]
    assert detailed["address"]["district"] == "takazaki" and detailed["needs"] == "車椅子を使用しています"
    sent = booking_body()["applicants"]
    assert [a["name"] for a in detailed["applicants"]] == [f"{a['family_name']} {a['given_name']}" for a in sent]
    assert [a["birth_date"] for a in detailed["applicants"]] == [a["birth_date"] for a in sent]


def referral(household, referral_id=None, channel="liaison"):
    return referral_event(household, referral_id, channel)


def household():
    body = booking_body()
    for key in ("channel", "consent"):
        body.pop(key)
    return body


def test_a_referral_becomes_a_booking_of_that_channel_once(service, db):
    event = referral(household(), channel="newsletter")
    service.on_referral(event)
    service.on_referral(event)  # redelivered
    service.on_referral({**event, "event_id": str(uuid.uuid4())})  # published twice
    [booking] = db.bookings.find({})
    assert booking["channel"] == "newsletter"
    assert booking["referral_id"] == event["payload"]["referral_id"]


def test_a_bad_referral_is_refused_as_a_contract_breach_without_a_booking(service, db):
    bad = household()
    bad["phone"] = "nope"
    with pytest.raises(events.InvalidEvent) as raised:
        service.on_referral(referral(bad))
    assert "phone" in str(raised.value) and "nope" not in str(raised.value)
    with pytest.raises(events.InvalidEvent):
        service.on_referral({"not": "an event"})
    # A sealed household that was tampered with, or sealed for another referral, does not open.
    tampered = referral(household())
    sealed = tampered["payload"]["sealed_household"]
    sealed["data"] = sealed["data"][:-6] + ("AAAAAA" if not sealed["data"].endswith("AAAAAA") else "BBBBBB")
    with pytest.raises(events.InvalidEvent):
        service.on_referral(tampered)
    moved = referral(household())
    moved["payload"]["sealed_household"] = referral(household())["payload"]["sealed_household"]
    with pytest.raises(events.InvalidEvent):
        service.on_referral(moved)
    assert db.bookings.count_documents({}) == 0


def test_a_booking_while_the_database_is_away_is_answered_503_and_can_be_sent_again(service, db):
    with mock.patch.object(type(db.bookings), "insert_one", side_effect=ServerSelectionTimeoutError("no server")):
        response = post(service, booking_body())
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    answer = response_json(response)
    assert answer["error"] == "temporarily_unavailable" and "保存されていません" in answer["message"]["ja"]
    assert db.bookings.count_documents({}) == 0
    assert post(service, booking_body()).status_code == 201  # once it is back, the same request goes through


def test_when_every_reference_is_taken_by_other_replicas_the_answer_is_503_not_500(service, db):
    taken = DuplicateKeyError("E11000 duplicate key: reference", code=11000)
    with mock.patch.object(type(db.bookings), "insert_one", side_effect=taken) as insert:
        response = post(service, booking_body())
    assert response.status_code == 503 and response_json(response)["error"] == "temporarily_unavailable"
    assert insert.call_count == references.MAX_ATTEMPTS
    assert db.bookings.count_documents({}) == 0
