import datetime as dt
import json
import uuid

import pytest

from services.liaison.service import LiaisonChannelService
from shared import events, outbox, referral_seal, sealing
from tests.factories import booking_body, json_request, request_received, response_json, staff_token, worker


@pytest.fixture
def service(db):
    return worker(LiaisonChannelService, db)


def referral_body(**overrides):
    body = booking_body(**overrides)
    body.pop("channel")
    body.update(community_hall="高崎地区公民館")
    return body


def as_liaison(liaison_id="hall-7", **kwargs):
    return json_request(token=staff_token("liaison", liaison_id=liaison_id), **kwargs)


def test_a_referral_is_published_to_the_channel_exchange_with_the_household(service, db):
    response = service.create_referral(as_liaison(body=referral_body()))
    assert response.status_code == 201
    referral = db.referrals.find_one({"_id": response_json(response)["referral_id"]})
    [entry] = referral["outbox"]
    assert (entry["exchange"], entry["routing_key"]) == ("outreach.channels", "referral.liaison")
    event = events.parse(entry["event"], events.REFERRAL_RECEIVED)
    assert event.payload["channel"] == "liaison" and event.payload["referrer_id"] == "hall-7"
    # The household travels sealed to booking's key, bound to this referral's id.
    assert "都城" not in json.dumps(entry, ensure_ascii=False, default=str)
    household = referral_seal.open_sealed(
        sealing.keyring(), event.payload["sealed_household"], event.payload["referral_id"]
    )
    assert household["applicants"][0]["family_name"] == "都城"
    # Once the relay has published, the household is gone from this service's database: the relay's
    # own acknowledgement of the entry (shared.outbox), not a $pull written here.
    assert "sealed_household" in str(db.referrals.find_one({"_id": referral["_id"]}))  # until then, sealed
    outbox.mark_published(db, "referrals", {referral["_id"]}, [event.event_id])
    kept = db.referrals.find_one({"_id": referral["_id"]})
    assert kept["outbox"] == [] and "sealed_household" not in str(kept) and "都城" not in str(kept)


def test_a_referral_without_consent_or_with_an_individual_number_is_refused(service, db):
    assert service.create_referral(as_liaison(body=referral_body(consent=False))).status_code == 422
    assert service.create_referral(as_liaison(body=referral_body(needs="123456789012"))).status_code == 422
    # Referring on another liaison's behalf is not a field one can set.
    assert service.create_referral(as_liaison(body={**referral_body(), "liaison_id": "hall-8"})).status_code == 422
    assert (
        service.create_referral(as_liaison(body={**referral_body(), "community_hall": {"$ne": None}})).status_code
        == 422
    )
    assert db.referrals.count_documents({}) == 0


def test_the_liaison_follows_what_became_of_the_referral(service, db):
    referral_id = response_json(service.create_referral(as_liaison(body=referral_body())))["referral_id"]
    booking_id = str(uuid.uuid4())

    def build(event_type, payload):
        return events.build(event_type, payload, correlation_id=booking_id, municipality_code="452025")

    service.on_request_received(
        request_received(booking_id, reference="261201-004", channel="liaison", referral_id=referral_id)
    )
    listed = response_json(service.list_referrals(as_liaison(method="GET")))
    assert listed["referrals"][0]["status"] == "booked" and listed["referrals"][0]["reference"] == "261201-004"
    service.on_visit_done(
        build(
            events.VISIT_DONE,
            {
                "visit_id": "v",
                "booking_id": booking_id,
                "crew_id": "crew-1",
                "date": dt.date(2026, 12, 1),
                "district": "takazaki",
                "outcome": "completed",
                "persons_applied": 2,
            },
        )
    )
    assert db.referrals.find_one({"_id": referral_id})["status"] == "visited"
    assert response_json(service.list_referrals(as_liaison("hall-8", method="GET")))["referrals"] == []
    # A liaison cannot ask for another's list; a manager sees any.
    assert service.list_referrals(as_liaison("hall-8", method="GET", query={"liaison_id": "hall-7"})).status_code == 403
    managed = service.list_referrals(json_request(method="GET", query={"liaison_id": "hall-7"}))
    assert [r["referral_id"] for r in response_json(managed)["referrals"]] == [referral_id]


def test_the_channel_seals_to_booking_and_cannot_open_what_it_sent(db, monkeypatch, auth_keys):
    """Issue 18, item 4: the channel holds its own keys (its chairs' details) and booking's public
    key; what it seals for booking it cannot open again, nor can anyone with its keys."""
    booking_ring = sealing.keyring()  # booking's data keys (the tests' default)
    monkeypatch.setenv("DATA_KEYS_FILE", str(auth_keys.channel_keys_path("liaison")))
    sealing.reset()
    channel = worker(LiaisonChannelService, db)
    made = response_json(channel.create_referral(as_liaison(body=referral_body())))
    [entry] = db.referrals.find_one({"_id": made["referral_id"]})["outbox"]
    sealed = events.parse(entry["event"], events.REFERRAL_RECEIVED).payload["sealed_household"]
    assert sealed["alg"] == referral_seal.ALG and sealed["key"] == booking_ring.active
    with pytest.raises(sealing.SealError):
        referral_seal.open_sealed(sealing.keyring(), sealed, made["referral_id"])  # the channel's own keys
    household = referral_seal.open_sealed(booking_ring, sealed, made["referral_id"])
    assert household["applicants"][0]["family_name"] == "都城"
    with pytest.raises(sealing.SealError):  # bound to its referral: copied onto another, it does not open
        referral_seal.open_sealed(booking_ring, sealed, str(uuid.uuid4()))
    # A referral sealed the older way (the shared data keys, before this change) still opens.
    older = booking_ring.seal({"note": "older"}, "r-1")
    assert referral_seal.open_sealed(booking_ring, older, "r-1") == {"note": "older"}


def test_without_bookings_public_key_a_referral_is_refused_for_now_and_nothing_is_stored(service, db, monkeypatch):
    monkeypatch.delenv("REFERRAL_PUBLIC_KEY_FILE")
    referral_seal.reset()
    answer = service.create_referral(as_liaison(body=referral_body()))
    assert answer.status_code == 503
    assert db.referrals.count_documents({}) == 0
