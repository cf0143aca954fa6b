"""Retries with back-off, dead letters and the operator's tool, over the real RabbitMQ."""

import io
import json
import uuid

import pytest
from kombu import Connection

from deploy.tools import deadletters
from services.scheduling.service import SchedulingService
from shared import events
from shared.delivery import ATTEMPT_HEADER, ERROR_HEADER, FAILED_QUEUE_HEADER, dead_letter_queue, event_handler
from tests.bus import publish, wait_until

pytestmark = pytest.mark.service

QUEUE = "evt-orders-thing--flaky.handle"
calls: list[str] = []
fail_times: dict[str, int] = {}


class FlakyService:
    """Fails for a body's 'fail' count of attempts; 'always' never succeeds."""

    name = "flaky"

    @event_handler("orders", "thing")
    def handle(self, body):
        calls.append(body["id"])
        if body.get("always") or calls.count(body["id"]) <= body.get("fail", 0):
            raise RuntimeError("the handler failed")


@pytest.fixture(autouse=True)
def reset():
    calls.clear()


@pytest.fixture
def flaky(container_factory, rabbit_config):
    container = container_factory(FlakyService, {**rabbit_config, "RETRY_DELAYS": "1,1"})
    container.start()
    return rabbit_config["AMQP_URI"]


def dead_letters(uri, queue=QUEUE):
    out = io.StringIO()
    deadletters.show(uri, f"{queue}.dead", 100, out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_a_failing_handler_is_retried_with_back_off_then_succeeds_once(flaky):
    publish(flaky, {"id": "a", "fail": 2}, "orders.events", "thing")
    wait_until(lambda: calls.count("a") == 3, timeout=15)
    assert dead_letters(flaky) == []


def test_a_handler_that_always_fails_ends_in_its_dead_letter_queue_and_others_flow(flaky):
    publish(flaky, {"id": "bad", "always": True}, "orders.events", "thing")
    for n in range(5):
        publish(flaky, {"id": f"good-{n}"}, "orders.events", "thing")
    [letter] = wait_until(lambda: dead_letters(flaky), timeout=15)
    assert calls.count("bad") == 3  # the first try and two retries
    # Not held up by the bad one: every good message was handled before its first retry (a second
    # later), not after its retries ran out, as a consumer blocked on it would.
    bad = [i for i, body in enumerate(calls) if body == "bad"]
    assert max(calls.index(f"good-{n}") for n in range(5)) < bad[1], calls
    assert letter["failed_queue"] == QUEUE and letter["attempts"] == 3 and letter["error"] == "RuntimeError"
    assert letter["body"] == {"id": "bad", "always": True}


def test_an_undecodable_message_is_parked_not_dropped(flaky):
    with Connection(flaky) as connection:
        connection.Producer().publish(
            b"{not json",
            exchange="orders.events",
            routing_key="thing",
            content_type="application/json",
            content_encoding="utf-8",
        )
    [letter] = wait_until(lambda: dead_letters(flaky), timeout=10)
    assert letter["error"].startswith("undecodable") and letter["body"] == {"undecodable_bytes": 9}
    assert calls == []


def test_an_operator_lists_replays_and_purges_dead_letters(flaky, rabbit_config, monkeypatch):
    publish(flaky, {"id": "once", "fail": 3}, "orders.events", "thing")  # fails 3 times: parked
    wait_until(lambda: dead_letters(flaky), timeout=15)
    out = io.StringIO()
    deadletters.main(["--amqp-uri", flaky, "list"], out)
    assert out.getvalue().split() == ["1", f"{QUEUE}.dead"]
    deadletters.main(["--amqp-uri", flaky, "replay", f"{QUEUE}.dead"], io.StringIO())
    wait_until(lambda: calls.count("once") == 4, timeout=10)  # the replay succeeds
    assert dead_letters(flaky) == []
    publish(flaky, {"id": "x", "always": True}, "orders.events", "thing")
    wait_until(lambda: dead_letters(flaky), timeout=15)
    assert deadletters.purge(flaky, f"{QUEUE}.dead") == 1
    assert dead_letters(flaky) == []


def test_a_contract_breach_is_parked_at_once_by_a_real_service(start, rabbit_config):
    start(SchedulingService)
    booking_id = str(uuid.uuid4())
    broken = events.build(
        events.REQUEST_CANCELLED,
        {"booking_id": booking_id, "reason": "other"},
        correlation_id=booking_id,
        municipality_code="452025",
    )
    broken["municipality_code"] = "x"
    publish(rabbit_config["AMQP_URI"], broken, "booking.events", "request_cancelled")
    queue = "evt-booking-request_cancelled--scheduling.on_request_cancelled"
    [letter] = wait_until(lambda: dead_letters(rabbit_config["AMQP_URI"], queue), timeout=10)
    assert letter["attempts"] == 1 and "municipality_code" in letter["error"]


def test_retries_keep_the_message_headers(flaky):
    with Connection(flaky) as connection:
        connection.Producer().publish(
            {"id": "h", "always": True},
            exchange="orders.events",
            routing_key="thing",
            serializer="json",
            headers={"nameko.call_id_stack": ["x.1"]},
        )
    wait_until(lambda: dead_letters(flaky), timeout=15)
    with Connection(flaky) as connection:
        got = dead_letter_queue(QUEUE)(connection.channel()).get(no_ack=True)
    assert got.headers["nameko.call_id_stack"] == ["x.1"]
    assert got.headers[ATTEMPT_HEADER] == 3 and got.headers[ERROR_HEADER] == "RuntimeError"
    assert got.headers[FAILED_QUEUE_HEADER] == QUEUE
