"""Prometheus metrics: one registry per service, entrypoint timings, and the metrics every service has.

Labels carry codes only (channel, kind, outcome, entrypoint), never personal data.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from nameko.extensions import DependencyProvider
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.process_collector import ProcessCollector

PREFIX = "mynacar_"


@cache
def registry_for(service: str) -> CollectorRegistry:
    """The service's registry, with the process's memory, CPU and file descriptors (process_*)."""
    registry = CollectorRegistry()
    ProcessCollector(registry=registry)
    return registry


class CommonMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.entrypoint_duration = Histogram(
            PREFIX + "entrypoint_duration_seconds",
            "Time a worker took to run an entrypoint (HTTP route, event handler, RPC, timer).",
            ["entrypoint", "outcome"],
            registry=registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.outbox_pending = Gauge(
            PREFIX + "outbox_pending_events",
            "Events stored in the outbox and not yet confirmed by the broker.",
            registry=registry,
        )
        self.events_published = Counter(
            PREFIX + "events_published_total",
            "Events published from the outbox and confirmed by the broker.",
            ["event_type"],
            registry=registry,
        )
        self.events_unroutable = Counter(
            PREFIX + "events_unroutable_total",
            "Published events that no queue was bound to receive.",
            ["event_type"],
            registry=registry,
        )
        self.events_received = Counter(
            PREFIX + "events_received_total",
            "Events received by a consumer, by what the consumer did with them.",
            ["consumer", "result"],  # result: applied, duplicate, rejected
            registry=registry,
        )
        self.queue_messages = Gauge(
            PREFIX + "queue_messages",
            "Messages in this service's consumer queues and their dead-letter queues (`<queue>.dead`).",
            ["queue"],
            registry=registry,
        )


@cache
def common(service: str) -> CommonMetrics:
    return CommonMetrics(registry_for(service))


class EntrypointTimer(DependencyProvider):
    """Observes every worker's duration, labelled by entrypoint method and ok/error."""

    def setup(self) -> None:
        self.metrics = common(self.container.service_name)
        self.started: dict[Any, float] = {}

    def worker_setup(self, worker_ctx: Any) -> None:
        self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self.started.pop(worker_ctx, None)
        if started is None:
            return
        outcome = "error" if exc_info else "ok"
        self.metrics.entrypoint_duration.labels(worker_ctx.entrypoint.method_name, outcome).observe(
            time.perf_counter() - started
        )
