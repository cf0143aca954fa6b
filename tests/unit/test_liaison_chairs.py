"""Community-hall chairs: registered by the city, signed in by a one-time e-mailed link, referring a
neighbour with a short form and seeing only their own referrals, by name and status."""

import datetime as dt

import pytest

from services.liaison import chairs
from services.liaison.service import LiaisonChannelService
from shared import events, public, referral_seal, sealing, settings
from tests.factories import (
    advance_clock,
    event,
    json_request,
    request_received,
    response_json,
    slot_fixed_payload,
    staff_token,
    worker,
)

CHAIR = {
    "name": "庄内 一郎",
    "email": "Ichiro.Shonai@example.jp",
    "community_hall": "庄内地区公民館",
    "district": "庄内",
}
NEIGHBOUR = {"name": "霧島 ハナ", "phone": "0986-37-1234", "district": "庄内", "consent": True, "memo": "耳が遠いです"}


@pytest.fixture
def service(db):
    public.reset()
    return worker(LiaisonChannelService, db)


def as_office(role="reception", **kwargs):
    return json_request(token=staff_token(role), **kwargs)


def as_chair(session_token, **kwargs):
    return json_request(token=None, headers={"Authorization": f"ChairSession {session_token}"}, **kwargs)


def registered(service, **overrides) -> dict:
    answer = service.register_chair(as_office(body={**CHAIR, **overrides}))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return response_json(answer)


def link_token(service, email=CHAIR["email"]) -> str | None:
    """Asks for a link as the chair would; returns the token from the e-mail sent, if one was."""
    service.mailer.send_soon.reset_mock()
    answer = service.send_chair_link(json_request(body={"email": email}, token=None))
    assert answer.status_code == 202
    if not service.mailer.send_soon.called:
        return None
    to, mail, message_id, _ = service.mailer.send_soon.call_args.args
    token = mail.body.split("/chair/signin/")[1].split()[0]
    assert token[:8] not in message_id  # no part of the secret in a mail header
    assert to.lower() == email.lower() and "/chair/signin/" in mail.body  # the address as registered
    return mail.body.split("/chair/signin/")[1].split()[0]


def signed_in(service, email=CHAIR["email"]) -> str:
    answer = service.start_chair_session(json_request(body={"token": link_token(service, email)}, token=None))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return response_json(answer)["session_token"]


def test_reception_registers_a_chair_whose_name_and_address_are_sealed(service, db):
    chair = registered(service)
    assert chair["chair_id"].startswith("chair-") and chair["district"] == "shonai" and chair["active"]
    stored = str(db.chairs.find_one({"_id": chair["chair_id"]}))
    assert "庄内 一郎" not in stored and "example.jp" not in stored
    listed = response_json(service.list_chairs(as_office(role="manager", method="GET")))["chairs"]
    assert [c["email"] for c in listed] == [CHAIR["email"]]
    assert service.register_chair(as_office(role="crew", body=CHAIR)).status_code == 403
    assert service.register_chair(as_office(body={**CHAIR, "email": "not an address"})).status_code == 422


def test_a_link_is_sent_to_a_registered_address_only_and_signs_in_once(service, db):
    chair = registered(service)
    assert link_token(service, "nobody@example.jp") is None  # the same answer, and no mail
    token = link_token(service, "ichiro.shonai@EXAMPLE.jp")  # the address as typed, any case
    assert token and not db.chair_links.find_one({"_id": token})  # only its digest is kept
    first = service.start_chair_session(json_request(body={"token": token}, token=None))
    assert first.status_code == 201
    assert response_json(first)["chair"] == {
        "chair_id": chair["chair_id"],
        "name": "庄内 一郎",
        "community_hall": "庄内地区公民館",
    }
    again = service.start_chair_session(json_request(body={"token": token}, token=None))
    assert again.status_code == 401 and response_json(again)["error"] == "link_invalid"


def test_a_link_expires_after_fifteen_minutes(service, monkeypatch):
    registered(service)
    token = link_token(service)
    advance_clock(monkeypatch, chairs.LINK_MINUTES * 60 + 1)
    assert service.start_chair_session(json_request(body={"token": token}, token=None)).status_code == 401


def test_a_chair_refers_a_neighbour_with_the_short_form(service, db):
    chair = registered(service)
    session = signed_in(service)
    answer = service.create_short_referral(as_chair(session, body=NEIGHBOUR))
    assert answer.status_code == 201, answer.get_data(as_text=True)
    made = response_json(answer)
    assert (made["name"], made["status"], made["community_hall"]) == ("霧島 ハナ", "referred", "庄内地区公民館")
    stored = db.referrals.find_one({"_id": made["referral_id"]})
    [entry] = stored["outbox"]
    event = events.parse(entry["event"], events.REFERRAL_RECEIVED)
    assert event.payload["form"] == "short" and event.payload["referrer_id"] == chair["chair_id"]
    short = referral_seal.open_sealed(sealing.keyring(), event.payload["sealed_household"], made["referral_id"])
    assert short == {
        "name": "霧島 ハナ",
        "phone": "0986371234",
        "district": "shonai",
        "memo": "耳が遠いです",
        "community_hall": "庄内地区公民館",
        "session_id": None,
    }
    assert "霧島" not in str({k: v for k, v in stored.items() if k != "outbox"})  # the name is sealed


@pytest.mark.parametrize(
    "change, field",
    [({"consent": False}, "consent"), ({"phone": "12"}, "phone"), ({"district": "東京"}, "district")],
)
def test_a_short_referral_without_consent_or_with_bad_fields_is_refused(service, db, change, field):
    registered(service)
    answer = service.create_short_referral(as_chair(signed_in(service), body={**NEIGHBOUR, **change}))
    assert answer.status_code == 422
    assert [f["field"] for f in response_json(answer)["fields"]] == [field]
    assert db.referrals.count_documents({}) == 0


def test_a_chair_sees_only_their_own_referrals_by_name_and_status(service, db):
    registered(service)
    other = registered(service, email="other.chair@example.jp", name="高崎 次郎")
    mine = signed_in(service)
    theirs = signed_in(service, "other.chair@example.jp")
    made = response_json(service.create_short_referral(as_chair(mine, body=NEIGHBOUR)))
    service.create_short_referral(as_chair(theirs, body={**NEIGHBOUR, "name": "高崎 ツル"}))
    service.on_request_received(
        request_received(channel="liaison", referral_id=made["referral_id"], reference="261201-007")
    )
    [seen] = response_json(service.list_referrals(as_chair(mine, method="GET")))["referrals"]
    assert (seen["name"], seen["status"], seen["reference"]) == ("霧島 ハナ", "booked", "261201-007")
    peek = service.list_referrals(as_chair(mine, method="GET", query={"liaison_id": other["chair_id"]}))
    assert peek.status_code == 403
    every = response_json(service.list_referrals(as_office(role="manager", method="GET")))["referrals"]
    assert len(every) == 2 and all(r["name"] is None for r in every)  # a manager counts, not names
    # A chair is no member of staff: the city's screens and the full household form stay shut.
    assert service.list_chairs(as_chair(mine, method="GET")).status_code == 401
    assert service.create_referral(as_chair(mine, body={})).status_code == 401


def test_disabling_a_chair_ends_their_sessions_and_links(service, db):
    chair = registered(service)
    session = signed_in(service)
    unused = link_token(service)
    disabled = service.disable_chair(as_office(method="POST"), chair_id=chair["chair_id"])
    assert response_json(disabled)["active"] is False
    assert service.list_referrals(as_chair(session, method="GET")).status_code == 401
    assert service.start_chair_session(json_request(body={"token": unused}, token=None)).status_code == 401
    assert link_token(service) is None
    assert service.disable_chair(as_office(method="POST"), chair_id="chair-nope").status_code == 404


def test_a_session_ends_when_the_chair_signs_out_or_after_twelve_hours(service, monkeypatch):
    registered(service)
    session = signed_in(service)
    assert service.end_chair_session(as_chair(session, method="POST")).status_code == 200
    assert service.list_referrals(as_chair(session, method="GET")).status_code == 401
    later = signed_in(service)
    advance_clock(monkeypatch, dt.timedelta(hours=chairs.SESSION_HOURS).total_seconds() + 1)
    assert service.list_referrals(as_chair(later, method="GET")).status_code == 401


def test_a_referral_reception_closed_shows_as_closed_with_its_reason(service, db):
    registered(service)
    session = signed_in(service)
    made = response_json(service.create_short_referral(as_chair(session, body=NEIGHBOUR)))
    closed = {"referral_id": made["referral_id"], "channel": "liaison", "reason": "unreachable"}
    service.on_referral_closed(event(events.REFERRAL_CLOSED, closed))
    [seen] = response_json(service.list_referrals(as_chair(session, method="GET")))["referrals"]
    assert (seen["status"], seen["closed_reason"]) == ("closed", "unreachable")
    # Another channel's closing is not this channel's business.
    other = response_json(service.create_short_referral(as_chair(session, body=NEIGHBOUR)))
    service.on_referral_closed(
        event(events.REFERRAL_CLOSED, {**closed, "referral_id": other["referral_id"], "channel": "web"})
    )
    assert db.referrals.find_one({"_id": other["referral_id"]})["status"] == "referred"


def test_a_referral_only_moves_forward_whatever_the_order_of_events(service, db):
    """The slot fixed on the same call may reach the channel before the booking's own event, and an
    event may come twice: the chair's page never goes back, and no step is lost."""
    registered(service)
    session = signed_in(service)
    made = response_json(service.create_short_referral(as_chair(session, body=NEIGHBOUR)))
    booked = request_received(channel="liaison", referral_id=made["referral_id"], reference="261201-009")
    booking_id = booked["payload"]["booking_id"]
    slot = slot_fixed_payload(booking_id, dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC))
    service.on_slot_fixed(event(events.SLOT_FIXED, slot))  # first, before the booking's event
    service.on_request_received(booked)
    status = lambda: db.referrals.find_one({"_id": made["referral_id"]})["status"]  # noqa: E731
    assert status() == "slot_fixed"
    service.on_request_received(booked)  # redelivered
    assert status() == "slot_fixed"
    done = {
        "visit_id": "v",
        "booking_id": booking_id,
        "crew_id": "crew-1",
        "date": dt.date(2026, 12, 3),
        "district": "shonai",
        "outcome": "completed",
        "persons_applied": 1,
    }
    service.on_visit_done(event(events.VISIT_DONE, done))
    service.on_slot_fixed(event(events.SLOT_FIXED, slot))  # a late redelivery
    assert status() == "visited"


def test_a_neighbours_name_is_erased_after_the_retention_period_and_the_status_stays(service, db, monkeypatch):
    registered(service)
    session = signed_in(service)
    made = response_json(service.create_short_referral(as_chair(session, body=NEIGHBOUR)))
    closed = {"referral_id": made["referral_id"], "channel": "liaison", "reason": "declined"}
    service.on_referral_closed(event(events.REFERRAL_CLOSED, closed))
    service.erase_expired()
    assert db.referrals.find_one({"_id": made["referral_id"]})["sealed_name"] is not None  # not yet
    advance_clock(monkeypatch, (settings.retention_days() + 1) * 86400)
    service.erase_expired()
    [seen] = response_json(service.list_referrals(as_chair(signed_in(service), method="GET")))["referrals"]
    assert (seen["name"], seen["status"]) == (None, "closed")
