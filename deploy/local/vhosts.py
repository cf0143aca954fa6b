"""RabbitMQ virtual hosts for local runs: a fresh one when the data is fresh too.

The MongoDB stand-in forgets everything when `make run` stops, but durable queues would keep the
events of the last run and deliver them into the new, empty databases. So a local run on the stand-in
gets its own vhost, emptied at every start; benchmarks get one that is deleted afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from nameko.testing.rabbit import Client
from requests import HTTPError

from shared import settings

AMQP_BASE = "amqp://guest:guest@localhost:5672"


def management_client() -> Client:
    return Client(settings.env("RABBITMQ_MANAGEMENT_URL", "http://guest:guest@localhost:15672"))


def fresh_vhost(name: str) -> str:
    """Deletes the vhost if it exists, creates it empty, and returns its AMQP URI."""
    rabbit = management_client()
    with contextlib.suppress(HTTPError):
        rabbit.delete_vhost(name)
    rabbit.create_vhost(name)
    rabbit.set_vhost_permissions(name, "guest", ".*", ".*", ".*")
    return f"{AMQP_BASE}/{name}"


@contextlib.contextmanager
def throwaway_vhost(prefix: str = "mynacar_bench") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    uri = fresh_vhost(name)
    try:
        yield uri
    finally:
        management_client().delete_vhost(name)
