"""The fault suite (issue: nothing lost, nothing twice). For each fault, N bookings are posted
through HTTP while it happens; after the system settles every visit gets a slot; then we count
from the outside: every 201-accepted booking has a visit, an acknowledgement and a confirmation,
no e-mail arrives twice, bad messages sit in dead-letter queues. Results: var/fault-results.jsonl
and the summary at the end of the run; docs/reliability.md has the table."""

import time
import uuid

import pytest
import requests

from tests.bus import publish, wait_until
from tests.factories import request_received
from tests.faults.conftest import N, broker_app
from tests.faults.harness import Duplicator, Harness

pytestmark = pytest.mark.faults
POST_SECONDS = 15


def assert_nothing_lost_nothing_twice(outcome, allowed_duplicates=0, stack=None):
    if stack is not None:  # no service died of the fault (only those the test killed were restarted)
        assert {name: p.poll() for name, p in stack.processes.items() if p.poll() is not None} == {}
    assert outcome.accepted == outcome.n, outcome
    assert outcome.lost == 0, outcome
    assert outcome.duplicate_emails <= allowed_duplicates, outcome


def test_broker_stopped_for_10_seconds(stack):
    harness = Harness(stack, "broker-stopped-10s", N)
    not_ready = []

    def stop_broker():
        broker_app("stop_app")
        time.sleep(2)
        not_ready.append(requests.get(f"{stack.url('booking')}/health/ready", timeout=5).status_code)
        time.sleep(8)
        broker_app("start_app")

    harness.post_bookings(POST_SECONDS, fault_at=N // 4, fault=stop_broker)
    assert not_ready == [503]  # not ready while the broker is away, and answering 201 all the same
    wait_until(lambda: requests.get(f"{stack.url('booking')}/health/ready", timeout=5).status_code == 200, timeout=30)
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)


def test_scheduling_killed_mid_stream_and_restarted(stack):
    harness = Harness(stack, "scheduling-sigkill", N)

    def kill_scheduling():
        stack.kill("scheduling")
        time.sleep(3)
        stack.restart_service("scheduling")

    harness.post_bookings(POST_SECONDS, fault_at=N // 3, fault=kill_scheduling)
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)


@pytest.mark.parametrize(
    "stack",
    [{"notification": {"MYNACAR_FAULT_CRASH_AT": "notification.after_send", "MYNACAR_FAULT_CRASH_AFTER": str(N // 4)}}],
    indirect=True,
)
def test_notification_killed_between_sending_and_recording(stack):
    harness = Harness(stack, "notification-sigkill-after-send", N)

    def restart_after_crash():
        wait_until(lambda: stack.processes["notification"].poll() is not None, timeout=60)
        stack.service_env.pop("notification")  # it comes back without the crash point
        stack.restart_service("notification")

    harness.post_bookings(POST_SECONDS, fault_at=0, fault=restart_after_crash)
    outcome = harness.settle_and_count()
    # The one e-mail sent but not recorded goes out again: at-least-once, with the same Message-ID.
    assert_nothing_lost_nothing_twice(outcome, allowed_duplicates=1, stack=stack)
    assert len(outcome.duplicate_message_ids) == outcome.duplicate_emails


def test_every_event_delivered_twice(stack):
    harness = Harness(stack, "every-event-twice", N)
    with Duplicator(stack.amqp_uri) as duplicator:
        harness.post_bookings(POST_SECONDS)
        outcome = harness.settle_and_count()
    assert duplicator.copied >= 2 * N  # request_received and slot_fixed, each once more
    assert_nothing_lost_nothing_twice(outcome, stack=stack)


def test_malformed_and_always_failing_messages_among_good_ones(stack):
    harness = Harness(stack, "malformed-and-failing-messages", N)
    booking_id = str(uuid.uuid4())
    failing = request_received(
        booking_id, reference="000000-000", channel="web", district="atlantis", household_size=1, contact_by="phone"
    )
    breaking = {**failing, "event_id": str(uuid.uuid4()), "payload": {"booking_id": booking_id}}

    def inject():
        from kombu import Connection

        with Connection(stack.amqp_uri) as connection:
            connection.Producer().publish(
                b"\x00not json",
                exchange="booking.events",
                routing_key="request_received",
                content_type="application/json",
                content_encoding="utf-8",
            )
        publish(stack.amqp_uri, breaking, "booking.events", "request_received")
        publish(stack.amqp_uri, failing, "booking.events", "request_received")

    harness.post_bookings(POST_SECONDS, fault_at=N // 2, fault=inject)
    outcome = harness.settle_and_count()
    assert_nothing_lost_nothing_twice(outcome, stack=stack)
    scheduling_dead = "evt-booking-request_received--scheduling.on_request_received.dead"
    wait_until(lambda: harness.dead_letter_counts().get(scheduling_dead) == 3, timeout=30)
    dead = harness.dead_letter_counts()
    # Each consumer of request_received parked the two broken messages; scheduling the failing one too.
    for consumer in ("notification.on_request_received", "outreach.on_request_received", "liaison.on_request_received"):
        assert dead[f"evt-booking-request_received--{consumer}.dead"] == 2


def test_smtp_server_down_for_10_seconds(stack):
    harness = Harness(stack, "smtp-down-10s", N)

    def smtp_down():
        stack.stop_process("mailsink")
        time.sleep(10)
        stack.start_mail_sink()

    harness.post_bookings(POST_SECONDS, fault_at=N // 4, fault=smtp_down)
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)
