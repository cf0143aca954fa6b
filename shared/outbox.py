"""Store, then publish, without a gap (the transactional outbox).

A service writes its state change and the events it owes in one document write: the events go
into that document's `outbox` array. The relay, a background thread in the same service, publishes
each pending event with publisher confirms and then pulls it from the array. A crash between the
confirm and the pull publishes the event again, so consumers are idempotent on `event_id`.
"""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from eventlet.queue import Empty, Full, LightQueue
from kombu import Connection, Exchange, Producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from shared.db import get_database
from shared.events import CHANNEL_EXCHANGE, EventType
from shared.metrics import common

log = logging.getLogger(__name__)

BATCH = 200
IDLE_SECONDS = 1.0
MAX_BACKOFF_SECONDS = 10.0


def entry(event_type: EventType, event: dict, routing_key: str | None = None) -> dict:
    """An outbox item: the event plus where it goes."""
    return {
        "event": event,
        "exchange": event_type.exchange,
        "routing_key": routing_key or event_type.short_name,
    }


def channel_exchange() -> Exchange:
    return Exchange(CHANNEL_EXCHANGE, type="topic", durable=True, delivery_mode=2)


class OutboxRelay(DependencyProvider):
    """Publishes the pending events found in the named collections. Inject it and call `kick()`
    after a write so the relay wakes at once instead of at its next poll."""

    def __init__(self, *collections: str) -> None:
        self.collections = collections
        self._wake: LightQueue = LightQueue(maxsize=1)
        self._running = False
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._exchanges: dict[str, Exchange] = {}

    def setup(self) -> None:
        self.db = get_database(self.container.service_name)
        self.amqp_uri = self.container.config[AMQP_URI_CONFIG_KEY]
        self.metrics = common(self.container.service_name)

    def start(self) -> None:
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self) -> None:
        self._running = False
        self.kick()
        self._thread.wait()
        self._close()

    def kill(self) -> None:
        self._running = False
        self._close()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        return self

    def kick(self) -> None:
        with contextlib.suppress(Full):  # a wake-up is already waiting
            self._wake.put_nowait(True)

    # The loop never raises: a broken broker or database is retried with back-off.
    def _run(self) -> None:
        backoff = 0.0
        while self._running:
            try:
                published = self.publish_pending()
                backoff = 0.0
            except Exception as error:  # broker or database away: retry later
                log.warning("outbox relay: publishing failed (%s); retrying", type(error).__name__)
                self._close()
                published = 0
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
            if not self._running:
                break
            if published == 0:
                with contextlib.suppress(Empty):
                    self._wake.get(timeout=backoff or IDLE_SECONDS)

    def publish_pending(self) -> int:
        """Publishes up to BATCH pending events; returns how many went out."""
        published, pending = 0, 0
        for name in self.collections:
            collection = self.db[name]
            for doc in collection.find({"outbox.0": {"$exists": True}}, {"outbox": 1}).limit(BATCH):
                for item in doc["outbox"]:
                    self._publish(item)
                    collection.update_one(
                        {"_id": doc["_id"]},
                        {"$pull": {"outbox": {"event.event_id": item["event"]["event_id"]}}},
                    )
                    published += 1
            pending += self.pending_count(name)
        self.metrics.outbox_pending.set(pending)
        return published

    def pending_count(self, collection: str) -> int:
        result = list(
            self.db[collection].aggregate(
                [
                    {"$match": {"outbox.0": {"$exists": True}}},
                    {"$project": {"n": {"$size": "$outbox"}}},
                    {"$group": {"_id": None, "n": {"$sum": "$n"}}},
                ]
            )
        )
        return result[0]["n"] if result else 0

    def _exchange(self, name: str) -> Exchange:
        if name not in self._exchanges:
            if name == CHANNEL_EXCHANGE:
                self._exchanges[name] = channel_exchange()
            else:
                service = name.removesuffix(".events")
                self._exchanges[name] = get_event_exchange(service, self.container.config)
        return self._exchanges[name]

    def _publish(self, item: dict) -> None:
        if self._producer is None:
            self._connection = Connection(self.amqp_uri, transport_options={"confirm_publish": True})
            self._producer = Producer(self._connection, on_return=self._on_return)
        event = item["event"]
        exchange = self._exchange(item["exchange"])
        self._producer.publish(
            event,
            exchange=exchange,
            routing_key=item["routing_key"],
            serializer="json",
            delivery_mode=2,
            mandatory=True,
            declare=[exchange],
            message_id=event["event_id"],
            type=event["event_type"],
            retry=False,
        )
        self.metrics.events_published.labels(event["event_type"]).inc()

    def _on_return(self, exception: Exception, exchange: str, routing_key: str, message: Any) -> None:
        event_type = (message.properties or {}).get("type", "unknown")
        self.metrics.events_unroutable.labels(event_type).inc()
        log.info("event %s to %s/%s reached no queue", event_type, exchange, routing_key)

    def _close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):  # closing a dead connection can fail; it is gone anyway
                self._connection.release()
        self._connection = None
        self._producer = None
