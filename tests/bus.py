"""A plain AMQP client (kombu) on our exchanges: how any other system sees our events."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from kombu import Connection, Exchange, Queue

from shared.events import CHANNEL_EXCHANGE


def exchange(name: str) -> Exchange:
    # Declared exactly as nameko and our outbox declare them.
    return Exchange(name, type="topic", durable=True, delivery_mode=2)


class Listener:
    """An exclusive queue bound with '#' to the given exchanges; collects every message."""

    def __init__(self, amqp_uri: str, exchanges: list[str]) -> None:
        self.connection = Connection(amqp_uri)
        self.channel = self.connection.channel()
        self.queue = Queue("", exclusive=True, auto_delete=True, channel=self.channel)
        self.queue.declare()
        for name in exchanges:
            ex = exchange(name)(self.channel)
            ex.declare()
            self.queue.bind_to(ex, routing_key="#")
        self.messages: list[dict] = []

    def drain(self) -> list[dict]:
        while True:
            message = self.queue.get(no_ack=True)
            if message is None:
                return self.messages
            self.messages.append(
                {
                    "routing_key": message.delivery_info["routing_key"],
                    "exchange": message.delivery_info["exchange"],
                    "raw": message.body,
                    "body": json.loads(message.body),
                }
            )

    def of_type(self, event_type: str) -> list[dict]:
        return [m["body"] for m in self.drain() if m["body"].get("event_type") == event_type]

    def wait_for(self, predicate: Callable[[list[dict]], Any], timeout: float = 20) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = predicate(self.drain())
            if found:
                return found
            time.sleep(0.1)
        raise AssertionError(f"not seen on the bus within {timeout}s; saw {[m['routing_key'] for m in self.messages]}")

    def close(self) -> None:
        self.connection.release()


def publish(amqp_uri: str, body: dict, exchange_name: str, routing_key: str) -> None:
    """Publishes one event as our outbox does (persistent, confirmed)."""
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as connection:
        producer = connection.Producer()
        ex = exchange(exchange_name)
        producer.publish(body, exchange=ex, routing_key=routing_key, serializer="json", delivery_mode=2, declare=[ex])


def publish_referral(amqp_uri: str, body: dict, channel: str) -> None:
    publish(amqp_uri, body, CHANNEL_EXCHANGE, f"referral.{channel}")


def wait_until(check: Callable[[], Any], timeout: float = 20, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")


def acked(amqp_uri: str, queue: str) -> int:
    """How many messages a queue's consumers have acknowledged so far (RabbitMQ's management API;
    its statistics lag a few seconds, so wait for a figure rather than read it once)."""
    from urllib.parse import quote, urlparse

    import requests

    vhost = urlparse(amqp_uri).path.lstrip("/") or "/"
    answer = requests.get(
        f"http://localhost:15672/api/queues/{quote(vhost, safe='')}/{quote(queue, safe='')}",
        auth=("guest", "guest"),
        timeout=10,
    )
    if answer.status_code != 200:
        return 0
    return int((answer.json().get("message_stats") or {}).get("ack", 0))


def settled(read: Callable[[], list], quiet: float = 8, timeout: float = 120) -> list:
    """What `read` returns once it has not grown for `quiet` seconds (longer than a retry delay):
    a late duplicate is counted, and every figure comes from one snapshot."""
    found, since, deadline = read(), time.monotonic(), time.monotonic() + timeout
    while time.monotonic() - since < quiet and time.monotonic() < deadline:
        time.sleep(0.5)
        now = read()
        if len(now) != len(found):
            found, since = now, time.monotonic()
    return found
