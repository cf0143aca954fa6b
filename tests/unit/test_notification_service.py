import datetime as dt
import uuid

import pytest

from services.notification.service import NotificationService
from shared import clock, events
from tests.factories import (
    json_request,
    request_received,
    response_json,
    slot_fixed_payload,
    worker,
    working_day,
)

CONTACT = {
    "name": "都城 花子",
    "reference": "261201-001",
    "phone": "0986221234",
    "email": "hanako@example.jp",
    "link": {"token": "a-signed-token", "code": "123456"},
    "has_child": False,
}


@pytest.fixture
def service(db):
    service = worker(NotificationService, db, config={})
    service.booking.get_contact.return_value = dict(CONTACT)
    return service


def build(event_type, payload, booking_id):
    return events.build(event_type, payload, correlation_id=booking_id, municipality_code="452025")


def received(booking_id):
    return request_received(booking_id, channel="web", district="himeki", household_size=1)


def slot_fixed(booking_id, visit_id, start):
    return build(events.SLOT_FIXED, slot_fixed_payload(booking_id, start, visit_id), booking_id)


def test_the_acknowledgement_is_sent_once_by_email(service, db):
    booking_id = str(uuid.uuid4())
    event = received(booking_id)
    service.on_request_received(event)
    service.on_request_received(event)
    service.on_request_received({**event, "event_id": str(uuid.uuid4())})
    service.mailer.send.assert_called_once()
    to, message, message_id = service.mailer.send.call_args.args
    assert to == "hanako@example.jp" and "受け付けました" in message.subject and "都城 花子 様" in message.body
    stored = db.messages.find_one({"_id": message_id})
    assert stored["status"] == "sent" and stored["channel"] == "email"
    assert stored["outbox"][0]["event"]["event_type"] == "notification.sent"
    assert "都城" not in str(stored)  # the text is rendered at sending time, not stored


def test_without_an_email_the_message_is_recorded_for_a_call(service, db):
    service.booking.get_contact.return_value = {**CONTACT, "email": None}
    service.on_request_received(received(str(uuid.uuid4())))
    service.mailer.send.assert_not_called()
    [message] = db.messages.find({})
    assert (message["status"], message["channel"]) == ("to_call", "phone")


def test_an_smtp_failure_is_retried_later_and_sent_once(service, db):
    service.mailer.send.side_effect = ConnectionRefusedError
    service.on_request_received(received(str(uuid.uuid4())))
    [message] = db.messages.find({})
    assert message["status"] == "retrying"
    service.mailer.send.side_effect = None
    service.retry_due()
    service.mailer.send.assert_called_once()  # the first attempt raised; not due yet
    db.messages.update_one({}, {"$set": {"next_attempt_at": clock.now() - dt.timedelta(seconds=1)}})
    service.retry_due()
    service.retry_due()
    assert service.mailer.send.call_count == 2
    assert db.messages.find_one({})["status"] == "sent"


def test_booking_away_is_a_retry_not_a_loss(service, db):
    service.booking.get_contact.side_effect = TimeoutError
    service.on_request_received(received(str(uuid.uuid4())))
    assert db.messages.find_one({})["status"] == "retrying"


def test_a_fixed_slot_brings_a_confirmation_and_a_call_task_and_a_release_cancels_the_task(service, db):
    booking_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    start = dt.datetime.combine(working_day(2), dt.time(10, 0), tzinfo=clock.JST)
    event = slot_fixed(booking_id, visit_id, start)
    service.on_slot_fixed(event)
    service.on_slot_fixed({**event, "event_id": str(uuid.uuid4())})
    _, message, _ = service.mailer.send.call_args.args
    assert service.mailer.send.call_count == 1
    assert "日時が決まりました" in message.subject and "午前10時00分〜午前10時30分" in message.body
    [task] = db.call_tasks.find({})
    assert task["status"] == "open" and task["date"] == start.date().isoformat()
    service.booking.get_contacts.return_value = {booking_id: CONTACT}
    answer = response_json(service.list_call_tasks(json_request(method="GET", query={"date": task["date"]})))
    assert answer["call_tasks"][0]["phone"] == "0986221234"
    assert answer["call_tasks"][0]["call_by"] == start.replace(hour=9, minute=30).isoformat()
    service.on_slot_released(
        build(
            events.SLOT_RELEASED,
            {
                "visit_id": visit_id,
                "booking_id": booking_id,
                "crew_id": "crew-1",
                "start": start,
                "reason": "cancelled",
            },
            booking_id,
        )
    )
    assert db.call_tasks.find_one({})["status"] == "cancelled"


@pytest.mark.parametrize(
    ("outcome", "phrase"), [("completed", "本人限定受取郵便"), ("absent", "お会いできませんでした")]
)
def test_after_the_visit_the_message_fits_the_outcome(service, outcome, phrase):
    booking_id = str(uuid.uuid4())
    service.on_visit_done(
        build(
            events.VISIT_DONE,
            {
                "visit_id": "v",
                "booking_id": booking_id,
                "crew_id": "crew-1",
                "date": working_day(),
                "district": "himeki",
                "outcome": outcome,
                "persons_applied": 0,
            },
            booking_id,
        )
    )
    _, message, _ = service.mailer.send.call_args.args
    assert phrase in message.body


def test_queries_need_their_parameters(service):
    assert service.list_notifications(json_request(method="GET")).status_code == 422
    assert service.list_call_tasks(json_request(method="GET", query={"date": "soon"})).status_code == 422
    assert service.record_call(json_request({"result": "reached"}), "nope").status_code == 404


def test_staff_can_list_the_messages_that_need_a_phone_call(service, db):
    service.on_request_received(received(str(uuid.uuid4())))  # sent by e-mail
    service.booking.get_contact.return_value = {**CONTACT, "email": None}
    to_call = str(uuid.uuid4())
    service.on_request_received(received(to_call))
    response = service.list_notifications(json_request(method="GET", query={"status": "to_call"}))
    assert response.status_code == 200
    assert [n["booking_id"] for n in response_json(response)["notifications"]] == [to_call]
    wrong = service.list_notifications(json_request(method="GET", query={"status": "lost"}))
    assert wrong.status_code == 422 and response_json(wrong)["fields"][0]["field"] == "status"


def test_reception_records_phoning_a_resident_the_email_could_not_reach(service, db):
    service.booking.get_contact.return_value = {**CONTACT, "email": None}
    service.on_request_received(received(str(uuid.uuid4())))
    [message] = db.messages.find({})
    no_answer = service.record_phoned(json_request({"result": "no_answer"}), message["_id"])
    assert no_answer.status_code == 200
    body = response_json(no_answer)
    assert body["status"] == "to_call" and [a["result"] for a in body["phone_attempts"]] == ["no_answer"]
    told = response_json(service.record_phoned(json_request({"result": "told"}), message["_id"]))
    assert told["status"] == "phoned" and len(told["phone_attempts"]) == 2
    assert db.messages.find_one({"_id": message["_id"]})["phone_attempts"][1]["by"]  # who phoned
    assert service.record_phoned(json_request({"result": "told"}), message["_id"]).status_code == 409
    assert service.record_phoned(json_request({"result": "shouted"}), message["_id"]).status_code == 422
    assert service.record_phoned(json_request({"result": "told"}), "nope").status_code == 404
    listed = service.list_notifications(json_request(method="GET", query={"status": "to_call"}))
    assert response_json(listed)["notifications"] == []
