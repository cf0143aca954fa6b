"""The outbox relay against the real broker: a batch goes out whole and is pulled only once the
broker has confirmed all of it; an event the broker refuses leaves its batch in the outbox."""

from types import SimpleNamespace

import pytest
from kombu import Connection, Queue
from nameko.constants import AMQP_URI_CONFIG_KEY

from shared import events
from shared.metrics import common
from shared.outbox import NotConfirmed, OutboxRelay, entry
from tests.bus import exchange


def relay_on(db, amqp_uri):
    relay = OutboxRelay("bookings")
    relay.container = SimpleNamespace(service_name="booking", config={AMQP_URI_CONFIG_KEY: amqp_uri})
    relay.db, relay.amqp_uri, relay.metrics = db, amqp_uri, common("booking")
    return relay


def store(db, count):
    for n in range(count):
        event = events.build(
            events.REQUEST_CANCELLED,
            {"booking_id": f"b{n}", "reason": "resident"},
            correlation_id=f"b{n}",
            municipality_code="452025",
        )
        db.bookings.insert_one({"_id": f"b{n}", "outbox": [entry(events.REQUEST_CANCELLED, event)]})
    return [("bookings", doc["_id"], doc["outbox"]) for doc in db.bookings.find()]


def bound_queue(amqp_uri, **arguments):
    """A queue on booking's exchange, as a consumer would bind it."""
    connection = Connection(amqp_uri)
    queue = Queue("", exchange=exchange("booking.events"), routing_key="#", exclusive=True, queue_arguments=arguments)
    queue(connection.default_channel).declare()
    return connection, queue(connection.default_channel)


def test_a_batch_is_pulled_once_every_event_is_confirmed(db, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    connection, queue = bound_queue(uri)
    relay = relay_on(db, uri)
    published = common("booking").events_published.labels(events.REQUEST_CANCELLED.name)
    before = published._value.get()
    try:
        relay._publish_batch(store(db, 30))
        assert db.bookings.count_documents({"outbox.0": {"$exists": True}}) == 0
        assert published._value.get() - before == 30
        received = [queue.get(no_ack=True) for _ in range(30)]
        assert sorted(m.payload["payload"]["booking_id"] for m in received) == sorted(f"b{n}" for n in range(30))
        assert all(m.properties["delivery_mode"] == 2 for m in received)
    finally:
        relay._close()
        connection.release()


def test_an_event_the_broker_refuses_keeps_its_batch_in_the_outbox(db, rabbit_config):
    uri = rabbit_config["AMQP_URI"]
    # A full queue that rejects new messages: the broker nacks the second event on.
    connection, _ = bound_queue(uri, **{"x-max-length": 1, "x-overflow": "reject-publish"})
    relay = relay_on(db, uri)
    try:
        with pytest.raises(NotConfirmed):
            relay._publish_batch(store(db, 3))
        assert db.bookings.count_documents({"outbox.0": {"$exists": True}}) == 3
    finally:
        relay._close()
        connection.release()
