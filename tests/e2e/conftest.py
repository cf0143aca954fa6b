import pytest

from deploy.local.stack import Stack
from tests.bus import Listener


@pytest.fixture(scope="module")
def vhost_uri(vhost_pipeline, request):
    from urllib.parse import urlparse

    uri = urlparse(request.config.getoption("RABBIT_AMQP_URI"))
    with vhost_pipeline.get() as vhost:
        yield f"{uri.scheme}://{uri.netloc}/{vhost}"


@pytest.fixture(scope="module")
def stack(vhost_uri, tmp_path_factory):
    """The whole system as processes, started exactly as `make run` starts it, on its own vhost and ports."""
    stack = Stack(
        amqp_uri=vhost_uri, port_offset=10000, smtp_port=11025, mongo_port=17018, var_dir=tmp_path_factory.mktemp("var")
    )
    try:
        stack.start(timeout=90)
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="module")
def bus(vhost_uri):
    listener = Listener(vhost_uri, ["booking.events", "scheduling.events", "notification.events", "outreach.channels"])
    yield listener
    listener.close()
