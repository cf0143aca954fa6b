"""The whole system over AMQP with TLS: every service as `make run` starts it, given an amqps:// URI
and the CA that signed the broker's certificate (AMQP_CA_FILE), against the real RabbitMQ's TLS
listener (deploy/local/ensure-rabbitmq.sh). A booking goes through to its visit and its e-mail, and
the broker counts no plain connection from us. A certificate we cannot check, or one for another
host, is refused."""

import urllib.parse

import pytest
import requests
from kombu import Connection

from deploy.local.stack import Stack
from deploy.local.tls import CA_FILE, TLS_PORT, over_tls
from shared import broker, deadletters
from tests.bus import wait_until
from tests.factories import booking_body, signed_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tls_stack(vhost_uri, tmp_path_factory):
    stack = Stack(
        amqp_uri=over_tls(vhost_uri),
        port_offset=6000,
        smtp_port=13025,
        mongo_port=13018,
        var_dir=tmp_path_factory.mktemp("var"),
        extra_env={"AMQP_CA_FILE": CA_FILE},
    )
    try:
        stack.start(timeout=90)
        yield stack
    finally:
        stack.stop()


def connections(vhost: str) -> list[dict]:
    quoted = urllib.parse.quote(vhost, safe="")
    answer = requests.get(f"{deadletters.management_url()}/api/vhosts/{quoted}/connections", timeout=10)
    answer.raise_for_status()
    return answer.json()


def test_a_booking_goes_through_every_service_over_tls_and_no_connection_is_plain(tls_stack, monkeypatch):
    stack = tls_stack
    answer = signed_in(stack).post(f"{stack.url('booking')}/api/v1/bookings", json=booking_body(), timeout=10)
    assert answer.status_code == 201, answer.text
    booking_id = answer.json()["booking_id"]

    def visit():  # scheduling consumed the event
        found = signed_in(stack).get(
            f"{stack.url('scheduling')}/api/v1/visits", params={"booking_id": booking_id}, timeout=5
        )
        return found.json()["visits"]

    assert wait_until(visit, timeout=30)
    # notification consumed it too and fetched the contact from booking over RPC
    assert wait_until(lambda: [m for m in stack.mails() if m["To"] == booking_body()["email"]], timeout=30)

    # at least one per service, once the management API has caught up (it lists them every few seconds)
    vhost = deadletters.vhost_of(stack.amqp_uri)
    open_connections = wait_until(lambda: (found := connections(vhost)) and len(found) >= 5 and found, timeout=30)
    assert all(c["ssl"] and c["port"] == TLS_PORT for c in open_connections), [
        (c["name"], c["ssl"]) for c in open_connections
    ]
    # the operator's dead-letter tool connects the same way
    monkeypatch.setenv("AMQP_CA_FILE", CA_FILE)
    assert deadletters.dead_letter_queues(stack.amqp_uri)


@pytest.mark.parametrize(
    ("host", "ca_file"),
    [
        pytest.param("localhost", "", id="the system's CAs, none of which signed it"),
        pytest.param("127.0.0.2", CA_FILE, id="the right CA, but the certificate is for localhost"),
    ],
)
def test_a_broker_certificate_that_cannot_be_checked_is_refused(vhost_uri, host, ca_file):
    uri = over_tls(vhost_uri, host)
    with (
        Connection(uri, ssl=broker.ssl_options(uri, ca_file), connect_timeout=5) as connection,
        pytest.raises(Exception, match=r"CERTIFICATE_VERIFY_FAILED|mismatch"),
    ):
        connection.ensure_connection(max_retries=1)
