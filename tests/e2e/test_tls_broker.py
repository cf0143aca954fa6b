"""The whole system over AMQP with TLS: every service as `make run` starts it, given an amqps:// URI
and the CA that signed the broker's certificate (AMQP_CA_FILE), against the real RabbitMQ's TLS
listener (deploy/local/ensure-rabbitmq.sh), each showing the broker a client certificate. A booking
goes through to its visit and its e-mail, and the broker counts no plain connection from us and
names our certificate on each. A broker certificate we cannot check, or one for another host, is
refused, and so is a client certificate from a CA the broker does not trust."""

import urllib.parse

import pytest
import requests
from kombu import Connection
from kombu.exceptions import OperationalError

from deploy.local.stack import Stack
from deploy.local.tls import CA_FILE, CLIENT_CERT, TLS_PORT, over_tls
from deploy.tools import deadletters
from shared import broker
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
        extra_env={
            "AMQP_CA_FILE": CA_FILE,
            "AMQP_CLIENT_CERT_FILE": CLIENT_CERT[0],
            "AMQP_CLIENT_KEY_FILE": CLIENT_CERT[1],
        },
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
    assert all("CN=mynacar-service" in (c.get("peer_cert_subject") or "") for c in open_connections), [
        (c["name"], c.get("peer_cert_subject")) for c in open_connections
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


def self_signed_identity(directory) -> tuple[str, str]:
    """A client certificate and key from a CA of its own, which the broker does not trust."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mynacar-service")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "client.pem", directory / "client.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_a_client_certificate_the_broker_does_not_trust_is_refused(vhost_uri, tmp_path):
    uri = over_tls(vhost_uri)
    ours = Connection(uri, ssl=broker.ssl_options(uri, CA_FILE, CLIENT_CERT), connect_timeout=5)
    with ours:
        ours.ensure_connection(max_retries=1)  # the local identity is accepted
    stranger = broker.ssl_options(uri, CA_FILE, self_signed_identity(tmp_path))
    # TLS 1.3: the broker's refusal reaches the client as the connection closed in the handshake
    with Connection(uri, ssl=stranger, connect_timeout=5) as connection, pytest.raises(OperationalError):
        connection.ensure_connection(max_retries=1)
