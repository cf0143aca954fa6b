"""The one switch between real MongoDB and the in-process stand-in.

MONGODB_URI set: pymongo against that server. Unset: mongomock, in this process's memory only,
with a warning (data is gone when the process stops). Everything else uses the pymongo API that
both support.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from nameko.extensions import DependencyProvider

from shared import settings

log = logging.getLogger(__name__)

_clients: dict[str, Any] = {}
_lock = threading.Lock()

IndexSpec = dict[str, list[tuple[list[tuple[str, int]] | str, dict]]]


def get_client() -> Any:
    """One client per process (pymongo pools connections; mongomock keeps its data per client)."""
    uri = settings.mongodb_uri()
    with _lock:
        if uri not in _clients:
            if uri:
                import pymongo

                _clients[uri] = pymongo.MongoClient(uri, tz_aware=True, serverSelectionTimeoutMS=3000)
            else:
                import mongomock

                log.warning("MONGODB_URI is not set: using the in-memory MongoDB stand-in (mongomock)")
                _clients[uri] = mongomock.MongoClient(tz_aware=True)
        return _clients[uri]


def get_database(service_name: str) -> Any:
    return get_client()[settings.database_prefix() + service_name]


def ensure_indexes(db: Any, indexes: IndexSpec) -> None:
    for collection, specs in indexes.items():
        for keys, options in specs:
            db[collection].create_index(keys, **options)


def ping(db: Any) -> bool:
    try:
        db.client.admin.command("ping")
        return True
    except Exception:  # any failure means: not reachable now
        return False


def is_duplicate_key(error: Exception) -> bool:
    # pymongo and mongomock both raise a DuplicateKeyError with code 11000.
    return getattr(error, "code", None) == 11000


class Mongo(DependencyProvider):
    """Injects the service's own database; creates its indexes when the container starts."""

    def __init__(self, indexes: IndexSpec | None = None) -> None:
        self.indexes = indexes or {}
        self.db: Any = None

    def setup(self) -> None:
        self.db = get_database(self.container.service_name)
        ensure_indexes(self.db, self.indexes)

    def get_dependency(self, worker_ctx: Any) -> Any:
        return self.db
