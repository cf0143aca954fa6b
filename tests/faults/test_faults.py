"""The fault suite (issue: nothing lost, nothing twice). For each fault, N bookings are posted
through HTTP while it happens; after the system settles every visit gets a slot; then we count
from the outside: every 201-accepted booking has a visit, an acknowledgement and a confirmation,
no e-mail arrives twice, bad messages sit in dead-letter queues. Results: var/fault-results.jsonl
and the summary at the end of the run; docs/reliability.md has the table."""

import signal
import time
import uuid

import pytest
import requests

from deploy.local.stack import port_open
from tests.bus import publish, wait_until
from tests.factories import request_received
from tests.faults.conftest import N, broker_app
from tests.faults.harness import Duplicator, Harness

pytestmark = pytest.mark.faults
POST_SECONDS = 15
CONSUMERS = ("notification", "outreach", "liaison")  # of request_received, besides scheduling


def assert_nothing_lost_nothing_twice(outcome, stack, allowed_duplicates=0, dead_letters=None, injected=0):
    """Every accepted booking has its visit, its e-mails and its events on the bus, each once (the
    e-mails up to `allowed_duplicates`); outreach counted each; the dead-letter queues hold exactly
    `dead_letters` (none, unless the fault put bad messages on the bus); no service died of it."""
    assert {name: p.poll() for name, p in stack.processes.items() if p.poll() is not None} == {}
    assert outcome.accepted == outcome.n, outcome
    assert outcome.lost == 0, outcome
    assert outcome.duplicate_emails <= allowed_duplicates, outcome
    assert outcome.duplicate_visits == 0, outcome
    assert not any(outcome.events_twice.values()), outcome
    assert (outcome.funnel_booked, outcome.funnel_slot_fixed) == (outcome.accepted + injected, outcome.accepted)
    assert outcome.dead_letters == (dead_letters or {}), outcome


def test_broker_stopped_for_10_seconds(stack):
    harness = Harness(stack, "broker-stopped-10s", N)
    not_ready, down = [], {}

    def stop_broker():
        broker_app("stop_app")
        down["from"] = time.monotonic()
        wait_until(lambda: not port_open("127.0.0.1", 5672), timeout=30)  # really down
        not_ready.append(wait_until(lambda: booking_readiness(stack) == 503 and 503, timeout=30))
        time.sleep(8)
        down["until"] = time.monotonic()
        broker_app("start_app")

    harness.post_bookings(POST_SECONDS, fault_at=N // 4, fault=stop_broker)
    assert not_ready == [503]  # not ready while the broker is away, and answering 201 all the same
    assert harness.accepted_between(down["from"], down["until"]) >= 10, "bookings came in while it was down"
    wait_until(lambda: booking_readiness(stack) == 200, timeout=30)
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)


def booking_readiness(stack) -> int:
    return requests.get(f"{stack.url('booking')}/health/ready", timeout=5).status_code


def test_scheduling_killed_mid_stream_and_restarted(stack):
    harness = Harness(stack, "scheduling-sigkill", N)
    dead = {}

    def kill_scheduling():
        process = stack.processes["scheduling"]
        stack.kill("scheduling")
        dead["code"], dead["from"] = process.wait(10), time.monotonic()
        time.sleep(3)
        dead["until"] = time.monotonic()
        stack.restart_service("scheduling")

    harness.post_bookings(POST_SECONDS, fault_at=N // 3, fault=kill_scheduling)
    assert dead["code"] == -signal.SIGKILL  # it really died, mid-stream
    assert harness.accepted_between(dead["from"], dead["until"]) >= 5, "bookings came in while it was dead"
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)


@pytest.mark.parametrize(
    "stack",
    [{"notification": {"MYNACAR_FAULT_CRASH_AT": "notification.after_send", "MYNACAR_FAULT_CRASH_AFTER": str(N // 4)}}],
    indirect=True,
)
def test_notification_killed_between_sending_and_recording(stack):
    harness = Harness(stack, "notification-sigkill-after-send", N)

    crashed = {}

    def restart_after_crash():
        crashed["code"] = wait_until(lambda: stack.processes["notification"].poll(), timeout=60)
        stack.service_env.pop("notification")  # it comes back without the crash point
        stack.restart_service("notification")

    harness.post_bookings(POST_SECONDS, fault_at=0, fault=restart_after_crash)
    assert crashed["code"] == -signal.SIGKILL  # killed at the crash point, after an e-mail went out
    outcome = harness.settle_and_count()
    # The one e-mail sent but not recorded goes out again: at-least-once, with the same Message-ID.
    # Exactly one: the crash point fired once, between sending and recording.
    assert_nothing_lost_nothing_twice(outcome, allowed_duplicates=1, stack=stack)
    assert outcome.duplicate_emails == 1 and len(outcome.duplicate_message_ids) == 1


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
    # Each consumer of request_received parked the two broken messages; scheduling the failing one
    # too (its district does not exist). Outreach counted the failing one, a well-formed request.
    expected = {f"evt-booking-request_received--{c}.on_request_received.dead": 2 for c in CONSUMERS}
    expected["evt-booking-request_received--scheduling.on_request_received.dead"] = 3
    assert_nothing_lost_nothing_twice(outcome, stack=stack, dead_letters=expected, injected=1)


def test_smtp_server_down_for_10_seconds(stack):
    harness = Harness(stack, "smtp-down-10s", N)

    refused = {}

    def smtp_down():
        stack.stop_process("mailsink")
        refused["port_closed"] = not port_open("127.0.0.1", stack.smtp_port)
        time.sleep(10)
        refused["retrying"] = notifications_retrying(stack)
        stack.start_mail_sink()

    harness.post_bookings(POST_SECONDS, fault_at=N // 4, fault=smtp_down)
    # The server really refused: its port closed, and notification had e-mails waiting to retry.
    assert refused["port_closed"] and refused["retrying"] > 0, refused
    assert_nothing_lost_nothing_twice(harness.settle_and_count(), stack=stack)


def notifications_retrying(stack) -> float:
    """notification's own count of e-mails that failed and wait to be retried (its /metrics)."""
    text = requests.get(f"{stack.url('notification')}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("mynacar_notifications_total{") and 'status="retrying"' in line
    )
