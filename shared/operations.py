"""What every service serves for operations: /metrics, /health/live and /health/ready."""

from __future__ import annotations

import time
from typing import Any

from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.dependency_providers import Config
from nameko.web.handlers import http
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from werkzeug.wrappers import Request, Response

from shared import broker
from shared.db import ping
from shared.http import json_response
from shared.metrics import EntrypointTimer, registry_for
from shared.queue_depths import QueueDepths

_BROKER_CHECK_SECONDS = 2.0
_broker_cache: dict[str, tuple[float, bool]] = {}


def broker_reachable(uri: str) -> bool:
    """Opens a connection, cached briefly so frequent probes do not hammer the broker."""
    checked_at, ok = _broker_cache.get(uri, (0.0, False))
    if time.monotonic() - checked_at < _BROKER_CHECK_SECONDS:
        return ok
    try:
        with broker.connect(uri, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        ok = True
    except Exception:  # any failure means: not reachable now
        ok = False
    _broker_cache[uri] = (time.monotonic(), ok)
    return ok


class Operations:
    """Mixin for service classes. The service defines `db` (shared.db.Mongo)."""

    name: str
    openapi: dict  # the service's OpenAPI document (shared.openapi)
    db: Any
    config = Config()
    entrypoint_timer = EntrypointTimer()
    queue_depths = QueueDepths()

    @http("GET", "/health/live")
    def health_live(self, request: Request) -> Response:
        return json_response({"status": "live", "service": self.name})

    @http("GET", "/health/ready")
    def health_ready(self, request: Request) -> Response:
        checks = {
            "database": ping(self.db),
            "broker": broker_reachable(self.config[AMQP_URI_CONFIG_KEY]),
        }
        ready = all(checks.values())
        return json_response(
            {"status": "ready" if ready else "not_ready", "service": self.name, "checks": checks},
            status=200 if ready else 503,
        )

    @http("GET", "/metrics")
    def metrics(self, request: Request) -> Response:
        return Response(generate_latest(registry_for(self.name)), content_type=CONTENT_TYPE_LATEST)

    @http("GET", "/openapi.json")
    def openapi_document(self, request: Request) -> Response:
        return json_response(self.openapi)
