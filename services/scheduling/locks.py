"""A short lease on one crew's day, so that two receptionists fixing clashing slots at the same
moment (in one process or across replicas) are checked one after the other.

A lease can run out while its holder is stalled (a long pause, a slow database); another may then
take the day. So the holder confirms it still holds the lease, with time to spare, right before it
writes: a stalled holder answers "try again" instead of writing over the other's check."""

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
# Left on the lease when the holder writes: more than one database write can take.
SPARE_SECONDS = 1.0


class Busy(Exception):
    """The crew's day stayed locked longer than we wait, or our lease ran out before we wrote."""


class Lease:
    def __init__(self, db: Any, key: str, token: str) -> None:
        self.db, self.key, self.token = db, key, token

    def confirm(self) -> None:
        """Raises Busy unless this lease is still ours for at least SPARE_SECONDS."""
        spare = clock.now() + dt.timedelta(seconds=SPARE_SECONDS)
        if not self.db.crew_day_locks.find_one({"_id": self.key, "token": self.token, "until": {"$gt": spare}}):
            raise Busy(self.key)


@contextlib.contextmanager
def crew_day_lock(db: Any, crew_id: str, day: dt.date) -> Iterator[Lease]:
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
        yield Lease(db, key, token)
    finally:
        db.crew_day_locks.update_one({"_id": key, "token": token}, {"$set": {"until": None}})
