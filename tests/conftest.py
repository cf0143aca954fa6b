# nameko's pytest plugin no longer monkey-patches (since 2.14.0): do it before anything imports
# sockets, threads or pymongo.
import eventlet

eventlet.monkey_patch()

import uuid  # noqa: E402

import mongomock  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture
def db():
    """A fresh in-memory database for unit tests (the services' own stand-in, see shared.db)."""
    return mongomock.MongoClient(tz_aware=True)[f"test_{uuid.uuid4().hex[:8]}"]


@pytest.fixture
def isolated_databases(monkeypatch):
    """Gives containers started in this test databases of their own."""
    monkeypatch.setenv("MONGODB_DATABASE_PREFIX", f"t{uuid.uuid4().hex[:8]}_")
