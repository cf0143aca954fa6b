"""Store, then publish, without a gap (the transactional outbox).

A service writes its state change and the events it owes in one document write: the events go
into that document's `outbox` array. The relay, a background thread in the same service, publishes
pending events in batches with publisher confirms and then pulls them from their arrays: at once
for the documents the service names in `kick()`, and in a periodic sweep for anything left behind.
A batch is sent whole and its confirms awaited once (waiting for each event's confirm before
sending the next cost an eighth of the booking service's time at full load). A crash, a nack or a
confirm that never comes publishes the batch again from the documents, so consumers are idempotent
on `event_id`.
"""

from __future__ import annotations

import contextlib
import logging
import time
from typing import Any

import eventlet
from eventlet.queue import Empty, LightQueue
from kombu import Connection, Exchange, Producer
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange

from shared import broker, events
from shared.db import get_database
from shared.events import CHANNEL_EXCHANGE, EventType
from shared.metrics import common

log = logging.getLogger(__name__)

BATCH = 200  # documents per sweep
KICK_BATCH = 20  # kicked documents per batch: small batches keep the intake's tail latency short
SWEEP_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 10.0
CONFIRM_TIMEOUT_SECONDS = 10.0


class NotConfirmed(Exception):
    """The broker refused (nack) or did not confirm a published event in time."""


class Confirms:
    """Publisher confirms for one channel, awaited per batch rather than per message."""

    def __init__(self, channel: Any) -> None:
        self.sent = 0  # delivery tags count up from 1 on a channel in confirm mode
        self.outstanding: set[int] = set()
        self.refused = False
        channel.confirm_select()
        channel.events["basic_ack"].add(self._settle)
        channel.events["basic_nack"].add(self._nack)

    def published(self) -> None:
        self.sent += 1
        self.outstanding.add(self.sent)

    def _settle(self, tag: int, multiple: bool) -> None:
        if multiple:
            self.outstanding = {t for t in self.outstanding if t > tag}
        else:
            self.outstanding.discard(tag)

    def _nack(self, tag: int, multiple: bool) -> None:
        self.refused = True
        self._settle(tag, multiple)

    def wait(self, connection: Connection, timeout: float = CONFIRM_TIMEOUT_SECONDS) -> None:
        """Returns once the broker has confirmed everything sent; raises NotConfirmed otherwise.
        Returns of unroutable events (mandatory) arrive before their confirms and are handled here."""
        deadline = time.monotonic() + timeout
        while self.outstanding and not self.refused:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise NotConfirmed(f"{len(self.outstanding)} events unconfirmed")
            try:
                connection.drain_events(timeout=remaining)
            except TimeoutError:
                continue
        if self.refused:
            raise NotConfirmed("the broker refused an event")


def entry(event_type: EventType, event: dict, routing_key: str | None = None) -> dict:
    """An outbox item: the event plus where it goes."""
    return {
        "event": event,
        "exchange": event_type.exchange,
        "routing_key": routing_key or event_type.short_name,
    }


def event_entry(
    event_type: EventType,
    payload: dict,
    *,
    correlation_id: str,
    municipality_code: str,
    routing_key: str | None = None,
) -> dict:
    """A new event (checked against the contract) as an outbox item, to store with the state change."""
    event = events.build(event_type, payload, correlation_id=correlation_id, municipality_code=municipality_code)
    return entry(event_type, event, routing_key)


def mark_published(db: Any, collection: str, document_ids: set, event_ids: list[str]) -> None:
    """Removes published events from their documents' outboxes, in one update (not a bulk write of
    one per document: mongomock, the in-process stand-in, cannot run pymongo's UpdateOne)."""
    db[collection].update_many(
        {"_id": {"$in": list(document_ids)}}, {"$pull": {"outbox": {"event.event_id": {"$in": event_ids}}}}
    )


def channel_exchange() -> Exchange:
    return Exchange(CHANNEL_EXCHANGE, type="topic", durable=True, delivery_mode=2)


class OutboxRelay(DependencyProvider):
    """Publishes the pending events of the named collections.

    Inject it and call `kick(collection, document_id)` after a write: the relay publishes that
    document's events at once. A sweep over every pending document runs every SWEEP_SECONDS and after
    any failure, so events whose kick was lost (a crash, the broker away) still go out."""

    def __init__(self, *collections: str) -> None:
        self.collections = collections
        self._hints: LightQueue = LightQueue()
        self._running = False
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._confirms: Confirms | None = None
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
        self._hints.put(None)
        self._thread.wait()
        self._close()

    def kill(self) -> None:
        self._running = False
        self._close()

    def get_dependency(self, worker_ctx: Any) -> OutboxRelay:
        return self

    def kick(self, collection: str | None = None, document_id: Any = None, entries: list | None = None) -> None:
        """Wakes the relay for one document; with the document's outbox `entries` (as just written)
        it publishes them without reading the document back."""
        self._hints.put((collection, document_id, entries) if collection else None)

    # The loop never raises: a broken broker or database is retried with back-off.
    def _run(self) -> None:
        backoff, next_sweep = 0.0, 0.0
        while self._running:
            try:
                if time.monotonic() >= next_sweep:
                    self.sweep()
                    next_sweep = time.monotonic() + SWEEP_SECONDS
                self._publish_hinted(timeout=max(0.0, next_sweep - time.monotonic()))
                backoff = 0.0
            except Exception as error:  # broker or database away: sweep again after a pause
                log.warning("outbox relay: publishing failed (%s); retrying", type(error).__name__)
                self._close()
                backoff = min(max(backoff * 2, 0.5), MAX_BACKOFF_SECONDS)
                next_sweep = 0.0
                eventlet.sleep(backoff)

    def _publish_hinted(self, timeout: float) -> None:
        """Publishes the documents named by kicks, in batches, until the next sweep is due."""
        with contextlib.suppress(Empty):
            batch = [self._hints.get(timeout=timeout)]
            while self._running:
                with contextlib.suppress(Empty):
                    while len(batch) < KICK_BATCH:
                        batch.append(self._hints.get_nowait())
                self._publish_batch([hint for hint in batch if hint is not None])
                batch = [self._hints.get_nowait()]

    def _publish_batch(self, hints: list[tuple]) -> None:
        """Publishes the documents' events, awaits the broker's confirms, then pulls them."""
        pulls: dict[str, tuple[set, list[str]]] = {}
        sent: list[str] = []
        for collection, document_id, entries in hints:
            if entries is None:
                doc = self.db[collection].find_one({"_id": document_id}, {"outbox": 1})
                entries = (doc or {}).get("outbox") or []
            for item in entries:
                self._publish(item)
                sent.append(item["event"]["event_type"])
                documents, event_ids = pulls.setdefault(collection, (set(), []))
                documents.add(document_id)
                event_ids.append(item["event"]["event_id"])
        if not sent:
            return
        self._confirms.wait(self._connection)
        for event_type in sent:
            self.metrics.events_published.labels(event_type).inc()
        for collection, (documents, event_ids) in pulls.items():
            mark_published(self.db, collection, documents, event_ids)

    def sweep(self) -> int:
        """Publishes every pending event (up to BATCH documents per collection) and sets the backlog
        gauge to what it found. Returns how many were published."""
        found = [
            (name, doc["_id"], doc["outbox"])
            for name in self.collections
            for doc in self.db[name].find({"outbox.0": {"$exists": True}}, {"outbox": 1}).limit(BATCH)
        ]
        pending = sum(len(entries) for _, _, entries in found)
        self.metrics.outbox_pending.set(pending)
        self._publish_batch(found)
        return pending

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
            self._connection = broker.connect(self.amqp_uri)
            channel = self._connection.channel()
            self._confirms = Confirms(channel)
            self._producer = Producer(channel, on_return=self._on_return)
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
        self._confirms.published()

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
        self._confirms = None
