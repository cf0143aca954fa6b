# nameko's pytest plugin no longer monkey-patches (since 2.14.0): do it before anything imports
# sockets, threads or pymongo.
import eventlet

eventlet.monkey_patch()

import datetime as dt  # noqa: E402
import uuid  # noqa: E402

import mongomock  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def auth_keys(tmp_path_factory):
    """A signing key for this test run; the services in and out of process trust only it."""
    from deploy.local.devauth import DevKeys

    return DevKeys(tmp_path_factory.mktemp("auth")).ensure()


@pytest.fixture(autouse=True)
def staff_auth(auth_keys, monkeypatch):
    from shared import auth, public, referral_seal, rpc_identity, sealing

    # notification's own key: the unit tests' workers speak for it when they ask booking (rpc_identity)
    for name, value in (auth_keys.env() | auth_keys.service_env("notification")).items():
        monkeypatch.setenv(name, value)
    auth.reset()
    public.reset()
    sealing.reset()
    rpc_identity.reset()
    referral_seal.reset()
    yield auth_keys
    auth.reset()
    sealing.reset()
    rpc_identity.reset()
    referral_seal.reset()


def fresh_db():
    """A fresh in-memory database for unit tests (the services' own stand-in, see shared.db)."""
    return mongomock.MongoClient(tz_aware=True)[f"test_{uuid.uuid4().hex[:8]}"]


@pytest.fixture
def db():
    return fresh_db()


@pytest.fixture
def db_factory():
    """A fresh database per call: a property test (Hypothesis) needs one per generated example."""
    return fresh_db


@pytest.fixture
def midday(monkeypatch):
    """clock.now() held at noon (JST) today: a test that reads 'today' twice cannot straddle midnight."""
    from shared import clock
    from tests.factories import hold_clock

    moment = dt.datetime.combine(clock.today(), dt.time(12), clock.JST)
    hold_clock(monkeypatch, moment)
    return moment


@pytest.fixture
def isolated_databases(monkeypatch):
    """Gives containers started in this test databases of their own."""
    monkeypatch.setenv("MONGODB_DATABASE_PREFIX", f"t{uuid.uuid4().hex[:8]}_")
