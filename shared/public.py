"""The public door: endpoints open to the internet (the web booking form) are rate-limited per
client; signed-in reception staff, who type in phone bookings all day, are not.

The limit is counted per process (the `limits` library's moving window in memory): with R booking
replicas a client gets at most R times the limit, which still stops floods and form spam while
costing no database round trip per request. Behind the ingress, the client is the address the
trusted proxies saw (TRUSTED_PROXY_HOPS entries from the right of X-Forwarded-For)."""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections.abc import Callable
from typing import Any

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from werkzeug.wrappers import Request, Response

from shared.auth import Staff, authenticate
from shared.http import ApiError
from shared.settings import env

# A household books once; a care-home or a family member may book a few. Phones behind carrier-grade
# NAT share an address, so the limit is generous for people and still far below what a script does.
DEFAULT_LIMIT = "20/minute;200/hour"
# A resident's own page by its private link: a few calls per page view, and the link (a signature
# nobody can guess) is the credential, so the limit only guards the load.
DEFAULT_SELF_LIMIT = "120/minute;2000/hour"

EXPIRY_SECONDS = 1.0


class InlineExpiryStorage(MemoryStorage):
    """The `limits` memory storage, expiring old entries inline at most once a second. The library
    starts a timer thread for that after every request that finds none running: under eventlet a
    green thread per 10 ms of traffic, a twentieth of the intake's time in a profile."""

    _next_expiry = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # replaces the library's private hook
        now = time.monotonic()
        if now >= self._next_expiry:
            self._next_expiry = now + EXPIRY_SECONDS
            self._MemoryStorage__expire_events()


def _new_limiter() -> MovingWindowRateLimiter:
    return MovingWindowRateLimiter(InlineExpiryStorage())


_limiter = _new_limiter()
_parsed: dict[str, list[RateLimitItem]] = {}


def limits_from_env(variable: str = "PUBLIC_RATE_LIMIT", default: str = DEFAULT_LIMIT) -> list[RateLimitItem]:
    text = env(variable, default)
    if text not in _parsed:
        _parsed[text] = parse_many(text)
    return _parsed[text]


def client_address(request: Request) -> str:
    hops = int(env("TRUSTED_PROXY_HOPS", "0"))
    forwarded = [part.strip() for part in request.headers.get("X-Forwarded-For", "").split(",") if part.strip()]
    if hops > 0 and len(forwarded) >= hops:
        return forwarded[-hops]
    return request.remote_addr or "unknown"


def too_many(retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        "Too many requests from your connection; please wait and try again.",
        "短時間に多くの送信がありました。しばらく待ってからもう一度お試しください。",
        headers={"Retry-After": str(retry_after)},
    )


def bucket(client: str) -> str:
    """Whom a limit counts: an IPv4 address, or an IPv6 client's /64 (one household or phone is
    given a whole /64, so counting single addresses would give it billions of allowances)."""
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return client
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return client


def check_rate(scope: str, client: str, items: list[RateLimitItem] | None = None) -> None:
    """Counts one request of `client`; ApiError 429 with Retry-After when a limit is used up."""
    items = items if items is not None else limits_from_env()
    client = bucket(client)
    for item in items:
        if not _limiter.test(item, scope, client):
            reset_at = _limiter.get_window_stats(item, scope, client).reset_time
            raise too_many(max(1, math.ceil(reset_at - time.time())))
    for item in items:
        _limiter.hit(item, scope, client)


def public(
    scope: str, on_refused: Callable[[str], None] = lambda reason: None, own_page: bool = False
) -> Callable[[Callable[..., Response]], Callable[..., Response]]:
    """Open to anyone, rate-limited per client unless reception staff sign in. Hands the handler
    the signed-in caller or None (`caller=`); a token that is present must be valid. Under @api.
    `own_page`: a resident's own booking by its link, under SELF_RATE_LIMIT (more generous)."""

    def decorate(handler: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            # A staff token must be valid; another scheme (a resident's BookingLink) is not staff.
            is_bearer = request.headers.get("Authorization", "").lower().startswith("bearer ")
            items = limits_from_env("SELF_RATE_LIMIT", DEFAULT_SELF_LIMIT) if own_page else None
            try:
                caller: Staff | None = authenticate(request) if is_bearer else None
            except ApiError:
                # A wrong token counts against the limit too: guessing tokens is not free.
                check_rate(scope, client_address(request), items)
                raise
            if caller is None or not caller.has("reception"):
                try:
                    check_rate(scope, client_address(request), items)
                except ApiError:
                    on_refused("rate_limited")
                    raise
            return handler(self, request, *args, caller=caller, **kwargs)

        return wrapper

    return decorate


def reset() -> None:
    """Forget every count (tests)."""
    global _limiter
    _limiter = _new_limiter()
