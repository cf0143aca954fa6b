"""`@on(events.X)`: the one way a service handles an event, naming it once.

It is nameko's event entrypoint for the event's exchange and short name (on a quorum queue, retried
with back-off and then dead-lettered: shared.delivery), around a handler that gets the event
validated against the contract and applied once (shared.consumer). Referrals arrive on a queue of
their own, bound to every channel (`queue=`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kombu import Queue

from shared.consumer import consumes
from shared.delivery import consume, event_handler
from shared.events import EventType


def on(event_type: EventType, queue: Queue | None = None) -> Callable[[Callable], Callable]:
    def decorate(handler: Callable[[Any, Any], None]) -> Callable:
        entrypoint = consume(queue) if queue is not None else event_handler(event_type.source, event_type.short_name)
        return entrypoint(consumes(event_type)(handler))

    return decorate
