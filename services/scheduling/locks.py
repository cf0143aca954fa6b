"""A short lease on one crew's day, so that two receptionists fixing clashing slots at the same
moment (in one process or across replicas) are checked one after the other."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import eventlet

from shared import clock
from shared.db import is_duplicate_key

LEASE_SECONDS = 5
WAIT_SECONDS = 3.0


class Busy(Exception):
    """The crew's day stayed locked longer than we wait."""


@contextlib.contextmanager
def crew_day_lock(db: Any, crew_id: str, day: dt.date) -> Iterator[None]:
    key, token = f"{crew_id}:{day.isoformat()}", str(uuid.uuid4())
    waited = 0.0
    while True:
        now = clock.now()
        try:
            db.crew_day_locks.find_one_and_update(
                {"_id": key, "$or": [{"until": {"$lt": now}}, {"until": None}]},
                {"$set": {"until": now + dt.timedelta(seconds=LEASE_SECONDS), "token": token}},
                upsert=True,
            )
            break
        except Exception as error:
            if not is_duplicate_key(error):  # the upsert found the lock held
                raise
        if waited >= WAIT_SECONDS:
            raise Busy(key)
        eventlet.sleep(0.02)
        waited += 0.02
    try:
        yield
    finally:
        db.crew_day_locks.update_one({"_id": key, "token": token}, {"$set": {"until": None}})
