"""Asking another service by RPC within a time bound: a page or a phone call waits seconds, not
for however long a service that is away would take."""

from __future__ import annotations

from typing import Any

import eventlet

from shared.http import TemporarilyUnavailable

TIMEOUT_SECONDS = 8


def ask(method: Any, *args: Any, seconds: float = TIMEOUT_SECONDS) -> Any:
    """`method(*args)` (an RpcProxy's method), or TemporarilyUnavailable (a 503) past `seconds`."""
    try:
        with eventlet.Timeout(seconds):
            return method(*args)
    except eventlet.Timeout:
        raise TemporarilyUnavailable(f"{getattr(method, 'method_name', 'rpc')} did not answer in time") from None
