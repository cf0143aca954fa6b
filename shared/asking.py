"""Asking another service by RPC within a time bound: a page or a phone call waits seconds, not
for however long a service that is away would take."""

from __future__ import annotations

import datetime as dt
from typing import Any

import eventlet

from shared import clock
from shared.http import TemporarilyUnavailable

TIMEOUT_SECONDS = 8


def ask(method: Any, *args: Any, seconds: float = TIMEOUT_SECONDS) -> Any:
    """`method(*args)` (an RpcProxy's method), or TemporarilyUnavailable (a 503) past `seconds`."""
    try:
        with eventlet.Timeout(seconds):
            return method(*args)
    except eventlet.Timeout:
        raise TemporarilyUnavailable(f"{getattr(method, 'method_name', 'rpc')} did not answer in time") from None


def deadline(seconds: float = TIMEOUT_SECONDS) -> str:
    """The moment the caller stops waiting, sent with a call that changes something: a call that
    sat in the queue while its service was away does nothing when it arrives after it."""
    return clock.iso(clock.now() + dt.timedelta(seconds=seconds))


def passed(deadline: object) -> bool | None:
    """Whether the caller's deadline has passed; None when it names no moment (malformed, or
    without a time zone)."""
    try:
        moment = dt.datetime.fromisoformat(str(deadline))
    except ValueError:
        return None
    return None if moment.tzinfo is None else clock.now() > moment
