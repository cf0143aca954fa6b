"""The depth of each consumer queue of a service and of its dead-letter queue, as a gauge.

A passive declare reads the message count without changing the queue, on any RabbitMQ, so the
alert on dead letters does not depend on the broker's own exporter being scraped."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

import eventlet
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.extensions import DependencyProvider

from shared import broker
from shared.delivery import RetryingEntrypoint, dead_letter_queue_name
from shared.metrics import common

log = logging.getLogger(__name__)

POLL_SECONDS = 15.0


def consumer_queue_names(container: Any) -> list[str]:
    """The queues of the container's retrying entrypoints and their dead-letter queues."""
    names = sorted({ep.queue.name for ep in container.entrypoints if isinstance(ep, RetryingEntrypoint)})
    return [n for name in names for n in (name, dead_letter_queue_name(name))]


def read_depths(uri: str, queue_names: list[str]) -> dict[str, int]:
    depths: dict[str, int] = {}
    with broker.connect(uri, connect_timeout=5) as connection:
        for name in queue_names:
            channel = connection.channel()  # a passive declare of a missing queue closes its channel
            try:
                _, count, _ = channel.queue_declare(name, passive=True)
                depths[name] = count
            except Exception:  # not declared yet: nothing in it
                depths[name] = 0
            finally:
                with contextlib.suppress(Exception):  # already closed by the broker
                    channel.close()
    return depths


class QueueDepths(DependencyProvider):
    """Polls the depths in a managed thread; a broker that is away only pauses the readings."""

    def start(self) -> None:
        self.gauge = common(self.container.service_name).queue_messages
        self.container.spawn_managed_thread(self._poll, identifier="queue_depths")

    def _poll(self) -> None:
        uri = self.container.config[AMQP_URI_CONFIG_KEY]
        while True:
            names = consumer_queue_names(self.container)
            if names:
                try:
                    for name, count in read_depths(uri, names).items():
                        self.gauge.labels(name).set(count)
                except Exception as error:  # the broker is away; readiness reports that
                    log.debug("queue depths not read (%s)", type(error).__name__)
            eventlet.sleep(POLL_SECONDS)
