"""Receiving events: check the contract, apply each event once, count what happened.

Handlers are also idempotent by their own keys (a visit per booking, a message per kind and
booking); the `applied_events` record makes a redelivered or duplicated event a no-op before any
work is done.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any

from shared import clock
from shared.db import is_duplicate_key
from shared.events import Event, EventType, InvalidEvent, parse
from shared.metrics import common

log = logging.getLogger(__name__)

APPLIED = "applied_events"


def consumes(event_type: EventType) -> Callable:
    """Wraps a handler `(self, event: Event)` so that it gets a validated event, once."""

    def decorate(handler: Callable[[Any, Event], None]) -> Callable[[Any, Any], None]:
        consumer = handler.__name__

        @functools.wraps(handler)
        def wrapper(self: Any, body: Any) -> None:
            counter = common(self.name).events_received
            try:
                event = parse(body, event_type)
            except InvalidEvent as error:
                counter.labels(consumer, "rejected").inc()
                log.error("%s.%s rejected a message: %s", self.name, consumer, error)
                raise  # the entrypoint parks it in the dead-letter queue (shared.delivery)
            key = f"{consumer}:{event.event_id}"
            if self.db[APPLIED].find_one({"_id": key}, {"_id": 1}):
                counter.labels(consumer, "duplicate").inc()
                log.info("%s.%s skipped duplicate event %s", self.name, consumer, event.event_id)
                return
            handler(self, event)
            try:
                self.db[APPLIED].insert_one({"_id": key, "applied_at": clock.now()})
            except Exception as error:
                if not is_duplicate_key(error):  # a concurrent twin already recorded it
                    raise
            counter.labels(consumer, "applied").inc()

        return wrapper

    return decorate
