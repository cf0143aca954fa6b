"""Each service's own RabbitMQ identity (deploy/broker_access.py), tried against the real broker:
every forbidden action is refused with 403 and what the service needs is allowed. The attacks of
issue 18: a forged `visit_done` from notification's identity, booking's RPC called from outreach's,
a queue bound to every RPC reply, a message slipped into another service's queue through the
default exchange."""

from __future__ import annotations

import contextlib
import json
import ssl
import urllib.parse
import uuid
from collections.abc import Iterator

import amqp
import pytest
from amqp.exceptions import AccessRefused

from deploy import broker_access
from deploy.local.vhosts import AMQP_BASE, management_client
from deploy.services import SERVICES, spec
from deploy.tools.deployfiles import consumed_queues
from shared import events

pytestmark = pytest.mark.service

TOPIC_EXCHANGES = ("booking.events", "scheduling.events", "notification.events", "outreach.channels", "nameko-rpc")


@pytest.fixture(scope="module")
def broker() -> Iterator[dict]:
    """A vhost of its own with every exchange and consumer queue declared (as the running services
    would have), and the identities with their passwords."""
    vhost = f"perm_{uuid.uuid4().hex[:8]}"
    rabbit = management_client()
    rabbit.create_vhost(vhost)
    rabbit.set_vhost_permissions(vhost, "guest", ".*", ".*", ".*")
    prefix = f"{vhost}-"
    passwords = broker_access.apply_all(broker_access.management_url(), vhost, prefix)
    admin = connect(vhost, "guest", "guest")
    channel = admin.channel()
    for exchange in TOPIC_EXCHANGES:
        channel.exchange_declare(exchange, "topic", durable=True, auto_delete=False)
    for service in SERVICES:
        for queue in consumed_queues(service):
            channel.queue_declare(queue, durable=True, auto_delete=False)
    channel.queue_declare("rpc-booking", durable=True, auto_delete=False)
    admin.close()
    try:
        yield {"vhost": vhost, "prefix": prefix, "passwords": passwords}
    finally:
        management = broker_access.Management(broker_access.management_url())
        for user in passwords:
            management.delete_user(user)
        rabbit.delete_vhost(vhost)


def connect(vhost: str, user: str, password: str) -> amqp.Connection:
    host = urllib.parse.urlsplit(AMQP_BASE).netloc.split("@")[-1]
    connection = amqp.Connection(host=host, userid=user, password=password, virtual_host=vhost)
    connection.connect()
    return connection


@contextlib.contextmanager
def channel_of(broker: dict, identity: str) -> Iterator[amqp.Channel]:
    user = broker["prefix"] + identity
    connection = connect(broker["vhost"], user, broker["passwords"][user])
    try:
        channel = connection.channel()
        channel.confirm_select()  # a refused publish closes the channel: the confirm wait raises it
        yield channel
    finally:
        with contextlib.suppress(Exception):
            connection.close()


def publish(broker: dict, identity: str, exchange: str, routing_key: str, body: bytes = b"{}") -> None:
    with channel_of(broker, identity) as channel:
        channel.basic_publish_confirm(amqp.Message(body), exchange=exchange, routing_key=routing_key)


def refused(action) -> bool:
    try:
        action()
    except AccessRefused:
        return True
    return False


def forged_visit_done() -> bytes:
    """What an attacker would send: a well-formed `visit_done` (it would lead to erasure)."""
    event = {
        "event_id": str(uuid.uuid4()),
        "event_type": events.VISIT_DONE.name,
        "schema_version": events.VISIT_DONE.version,
        "payload": {"booking_id": str(uuid.uuid4()), "outcome": "done"},
    }
    return json.dumps(event).encode()


def test_notification_cannot_forge_a_visit_done_but_scheduling_may_publish_it(broker):
    assert refused(lambda: publish(broker, "notification", "scheduling.events", "visit_done", forged_visit_done()))
    publish(broker, "scheduling", "scheduling.events", "visit_done", forged_visit_done())  # its own


def test_no_service_but_booking_can_forge_a_cancellation_that_mails_the_resident(broker):
    for other in ("scheduling", "notification", "outreach", "liaison", "portal"):
        assert refused(lambda o=other: publish(broker, o, "booking.events", "request_cancelled")), other
    publish(broker, "booking", "booking.events", "request_cancelled")


def test_only_the_services_that_call_booking_may_call_it_and_only_booking(broker):
    assert refused(lambda: publish(broker, "outreach", "nameko-rpc", "booking.get_contacts"))
    assert refused(lambda: publish(broker, "portal", "nameko-rpc", "booking.get_contact"))
    assert refused(lambda: publish(broker, "notification", "nameko-rpc", "scheduling.take_session_seat"))
    assert refused(lambda: publish(broker, "liaison", "nameko-rpc", "booking.get_contacts"))
    publish(broker, "notification", "nameko-rpc", "booking.get_contacts")  # what it needs
    publish(broker, "scheduling", "nameko-rpc", "booking.existing_bookings")


def test_no_identity_can_listen_to_every_rpc_reply_or_another_services_requests(broker):
    def bind(identity: str, key: str) -> None:
        with channel_of(broker, identity) as channel:
            reply = f"rpc.reply-{identity}-{uuid.uuid4()}"
            channel.queue_declare(reply, auto_delete=True)  # its own reply queue: allowed
            channel.queue_bind(reply, "nameko-rpc", key)

    for identity in ("notification", "scheduling", "liaison", "booking"):
        for key in ("#", "*.*", "booking.*", "booking.get_contacts"):
            if identity == "booking" and key == "booking.*":
                continue
            assert refused(lambda i=identity, k=key: bind(i, k)), (identity, key)
        bind(identity, str(uuid.uuid4()))  # a reply key of its own: allowed
    with channel_of(broker, "booking") as channel:
        channel.queue_bind("rpc-booking", "nameko-rpc", "booking.*")  # its own requests


def test_nothing_goes_through_the_default_exchange(broker):
    target = "evt-scheduling-visit_done--booking.on_visit_done"
    for service in SERVICES:
        assert refused(lambda s=service: publish(broker, s.name, "", target, forged_visit_done())), service.name


def test_no_service_reads_or_declares_another_services_queue(broker):
    for service in SERVICES:
        for other in SERVICES:
            if other == service or not consumed_queues(other):
                continue
            queue = consumed_queues(other)[0]
            with channel_of(broker, service.name) as channel:
                consume = lambda c=channel, q=queue: c.basic_consume(q, callback=lambda m: None)  # noqa: E731
                assert refused(consume), (service.name, queue)
            with channel_of(broker, service.name) as channel:
                assert refused(lambda c=channel, q=queue: c.queue_declare(q + ".dead")), (service.name, queue)
        for queue in consumed_queues(service):  # its own: allowed
            with channel_of(broker, service.name) as channel:
                channel.basic_consume(queue, callback=lambda m: None)


def test_a_channel_publishes_referrals_under_its_own_name_only(broker):
    publish(broker, "liaison", "outreach.channels", "referral.liaison")
    assert refused(lambda: publish(broker, "liaison", "outreach.channels", "referral.minsei"))
    for other in ("booking", "scheduling", "notification", "outreach", "portal"):
        assert refused(lambda o=other: publish(broker, o, "outreach.channels", "referral.liaison")), other
    assert spec("liaison").channel and not spec("booking").channel


def test_keda_reads_queue_lengths_and_nothing_else(broker):
    queue = consumed_queues(spec("booking"))[0]
    with channel_of(broker, "keda") as channel:
        _, count, _ = channel.queue_declare(queue, passive=True)  # what its scaler does
        assert count >= 0
    with channel_of(broker, "keda") as channel:
        assert refused(lambda: channel.basic_consume(queue, callback=lambda m: None))
    assert refused(lambda: publish(broker, "keda", "booking.events", "request_received"))


def certificate_for(common_name: str, directory) -> tuple[str, str]:
    """A client certificate for `common_name`, signed by the local broker's CA (deploy/local/tls.py)."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from deploy.local import tls

    with open(tls.CA_KEY, "rb") as f:
        ca_key = serialization.load_pem_private_key(f.read(), password=None)
    with open(tls.CA_FILE, "rb") as f:
        ca = x509.load_pem_x509_certificate(f.read())
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"{common_name}.pem", directory / f"{common_name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


def test_a_service_signs_in_with_its_certificate_alone_and_keeps_its_limits(broker, tmp_path):
    """EXTERNAL over the mutual TLS listener: the certificate's common name is the identity; no
    password travels, and the permissions are the identity's own."""
    from kombu import Connection

    from deploy.local import tls

    user = broker["prefix"] + "notification"
    cert, key = certificate_for(user, tmp_path)
    uri = f"amqps://localhost:{tls.TLS_PORT}/{broker['vhost']}?login_method=EXTERNAL"
    options = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": "localhost"}
    options |= {"ca_certs": tls.CA_FILE, "certfile": cert, "keyfile": key}

    def publish_as_certificate(exchange: str, routing_key: str) -> None:
        with Connection(uri, ssl=options, transport_options={"confirm_publish": True}) as connection:
            connection.Producer().publish(b"{}", exchange=exchange, routing_key=routing_key, retry=False)

    # kombu hands the URI's login_method to py-amqp, as nameko's own connections do (the same URI).
    with Connection(uri, ssl=options) as connection:
        connection.connect()
        assert connection.login_method == "EXTERNAL"
    publish_as_certificate("notification.events", "sent")  # its own events
    # Refused: the certificate made it notification, not the broker's default user (which may).
    assert refused(lambda: publish_as_certificate("scheduling.events", "visit_done"))
    with pytest.raises(AccessRefused):  # a certificate for a user that does not exist
        cert, key = certificate_for(f"{broker['prefix']}nobody", tmp_path)
        with Connection(uri, ssl=options | {"certfile": cert, "keyfile": key}) as connection:
            connection.connect()
