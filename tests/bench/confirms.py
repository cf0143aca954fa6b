"""`make bench`: publisher confirms awaited per message (kombu's confirm_publish) against per batch
(shared.outbox.Confirms, as the relay does), and per batch over TLS (shared.broker, the local
RabbitMQ's TLS listener), to a quorum queue on the local RabbitMQ, alternating twice. Prints
events/s and the publisher's CPU per event; the ratios are batch over per message, and TLS over
plain (both per batch)."""

from __future__ import annotations

import statistics
import time

from kombu import Connection, Exchange, Producer, Queue

from deploy.local.tls import CA_FILE, over_tls
from deploy.local.vhosts import throwaway_vhost
from shared import broker
from shared.outbox import KICK_BATCH, Confirms

EVENTS = 3000
BODY = {"event_id": "e", "event_type": "booking.request_received", "payload": {"text": "x" * 300}}
EXCHANGE = Exchange("bench.events", type="topic", durable=True, delivery_mode=2)


PER_MESSAGE = "confirm per message"
PER_BATCH = f"confirms per batch of {KICK_BATCH}"
PER_BATCH_TLS = "the same over TLS"
RATIOS = ((PER_BATCH, PER_MESSAGE, "batch / per message"), (PER_BATCH_TLS, PER_BATCH, "TLS / plain"))


def publish_all(uri: str, batched: bool) -> tuple[float, float]:
    """Events/s and CPU ms per event for EVENTS events in batches of KICK_BATCH."""
    options = {} if batched else {"confirm_publish": True}
    connection = Connection(uri, ssl=broker.ssl_options(uri, CA_FILE) or False, transport_options=options)
    channel = connection.channel()
    confirms = Confirms(channel) if batched else None
    producer = Producer(channel)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(0, EVENTS, KICK_BATCH):
        for _ in range(KICK_BATCH):
            producer.publish(BODY, exchange=EXCHANGE, routing_key="k", declare=[EXCHANGE], delivery_mode=2)
            if confirms:
                confirms.published()
        if confirms:
            confirms.wait(connection)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    connection.release()
    return EVENTS / wall, cpu / EVENTS * 1000


def main() -> None:
    results: dict[str, list[tuple[float, float]]] = {PER_MESSAGE: [], PER_BATCH: [], PER_BATCH_TLS: []}
    with throwaway_vhost() as uri, Connection(uri) as setup:
        quorum = {"x-queue-type": "quorum"}
        sink = Queue("sink", exchange=EXCHANGE, routing_key="#", durable=True, queue_arguments=quorum)
        sink(setup.channel()).declare()
        runs = ((PER_MESSAGE, uri, False), (PER_BATCH, uri, True), (PER_BATCH_TLS, over_tls(uri), True))
        for _ in range(2):
            for label, target, batched in runs:
                results[label].append(publish_all(target, batched))
    rate = {label: statistics.median(r for r, _ in found) for label, found in results.items()}
    cpu = {label: statistics.median(c for _, c in found) for label, found in results.items()}
    for label in results:
        print(f"{label:28}{rate[label]:8.0f} events/s{cpu[label]:8.3f} ms CPU/event")
    for measured, baseline, name in RATIOS:
        throughput, cpu_ratio = rate[measured] / rate[baseline], cpu[measured] / cpu[baseline]
        print(f"{name}: throughput {throughput:.2f}, CPU per event {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
