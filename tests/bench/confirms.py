"""`make bench`: publisher confirms awaited per message (kombu's confirm_publish) against per batch
(shared.outbox.Confirms, as the relay does), to a quorum queue on the local RabbitMQ, alternating
twice. Prints events/s and the publisher's CPU per event; the ratio is batch over per message."""

from __future__ import annotations

import statistics
import time

from kombu import Connection, Exchange, Producer, Queue

from deploy.local.vhosts import throwaway_vhost
from shared.outbox import KICK_BATCH, Confirms

EVENTS = 3000
BODY = {"event_id": "e", "event_type": "booking.request_received", "payload": {"text": "x" * 300}}
EXCHANGE = Exchange("bench.events", type="topic", durable=True, delivery_mode=2)


def publish_all(uri: str, batched: bool) -> tuple[float, float]:
    """Events/s and CPU ms per event for EVENTS events in batches of KICK_BATCH."""
    connection = Connection(uri, transport_options={} if batched else {"confirm_publish": True})
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
    results: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    with throwaway_vhost() as uri, Connection(uri) as setup:
        quorum = {"x-queue-type": "quorum"}
        sink = Queue("sink", exchange=EXCHANGE, routing_key="#", durable=True, queue_arguments=quorum)
        sink(setup.channel()).declare()
        for _ in range(2):
            for batched in (False, True):
                results[batched].append(publish_all(uri, batched))
    for batched, label in ((False, "confirm per message"), (True, f"confirms per batch of {KICK_BATCH}")):
        rate = statistics.median(r for r, _ in results[batched])
        cpu = statistics.median(c for _, c in results[batched])
        print(f"{label:28}{rate:8.0f} events/s{cpu:8.3f} ms CPU/event")
    rate_ratio = statistics.median(r for r, _ in results[True]) / statistics.median(r for r, _ in results[False])
    cpu_ratio = statistics.median(c for _, c in results[True]) / statistics.median(c for _, c in results[False])
    print(f"batch / per message: throughput {rate_ratio:.2f}, CPU per event {cpu_ratio:.2f}")


if __name__ == "__main__":
    main()
