"""The identity provider's signing keys, fetched from its jwks_uri (OpenID Connect) and kept for a
while, so that verifying a token is a lookup, not a request.

PyJWKClient alone fetches under one lock that every lookup takes, so a token naming a key id the
provider does not have (a stale token, or a made-up one) holds every other sign-in while the fetch
waits on the network. Here a known key answers from memory without waiting for anyone; a fetch
happens when the key set is older than its lifespan, or for an unknown key id at most once per
REFETCH_SECONDS, one at a time, with a short timeout; only a token that needs the new set waits.
While the provider is away (a failed fetch), the keys it last gave keep working and no sign-in
waits on another fetch for REFETCH_SECONDS."""

from __future__ import annotations

import threading
import time

import jwt

FETCH_TIMEOUT_SECONDS = 5
REFETCH_SECONDS = 30.0  # an unknown key id fetches the set again at most this often


class ProviderKeys:
    def __init__(self, url: str, lifespan: float) -> None:
        self._client = jwt.PyJWKClient(url, cache_jwk_set=False, cache_keys=False, timeout=FETCH_TIMEOUT_SECONDS)
        self._lifespan = lifespan
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._tried_at = float("-inf")
        self._failed_at = float("-inf")
        self._fetching = threading.Lock()

    def key(self, kid: str) -> jwt.PyJWK:
        """The key with this id, or jwt.InvalidKeyError."""
        if kid in self._keys and (self._fresh() or self._failed_lately()):
            return self._keys[kid]  # fresh, or the provider is away: the keys it last gave still hold
        if (self._fresh() or self._failed_lately()) and time.monotonic() - self._tried_at < REFETCH_SECONDS:
            raise jwt.InvalidKeyError("unknown key id (the key set was asked for moments ago)")
        if self._fetching.acquire(blocking=False):
            try:
                self._fetch()
            finally:
                self._fetching.release()
        else:
            with self._fetching:  # the set another is fetching is the one this token needs
                pass
        if kid not in self._keys or not (self._fresh() or self._failed_lately()):
            raise jwt.InvalidKeyError("unknown key id, or the provider's keys are unavailable")
        return self._keys[kid]

    def _fresh(self) -> bool:
        return self._fetched_at is not None and time.monotonic() - self._fetched_at < self._lifespan

    def _failed_lately(self) -> bool:
        return time.monotonic() - self._failed_at < REFETCH_SECONDS

    def _fetch(self) -> None:
        self._tried_at = time.monotonic()
        try:
            keys = jwt.PyJWKSet.from_dict(self._client.fetch_data()).keys
        except (jwt.PyJWTError, OSError, ValueError):  # the provider away, or its answer not a key set
            self._failed_at = time.monotonic()  # no second try for REFETCH_SECONDS: nobody waits on it
            return
        self._keys = {key.key_id or "": key for key in keys}
        self._fetched_at = time.monotonic()
