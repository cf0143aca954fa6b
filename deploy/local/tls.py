"""The local RabbitMQ's TLS listener, as deploy/local/ensure-rabbitmq.sh sets it up."""

from __future__ import annotations

import urllib.parse

CA_FILE = "/etc/rabbitmq/mynacar-tls/ca.pem"  # the local CA that signed the broker's certificate
# A client identity the same CA signed (CN=mynacar-service): the listener checks what it is shown.
CLIENT_CERT = ("/etc/rabbitmq/mynacar-tls/client.pem", "/etc/rabbitmq/mynacar-tls/client.key")
CA_KEY = "/etc/rabbitmq/mynacar-tls/ca.key"  # throw-away, local only: tests issue per-identity certificates
TLS_PORT = 5671


def over_tls(uri: str, host: str = "localhost") -> str:
    """The same broker user and vhost, over the TLS listener."""
    parts = urllib.parse.urlparse(uri)
    netloc = f"{parts.username}:{parts.password}@{host}:{TLS_PORT}"
    return parts._replace(scheme="amqps", netloc=netloc).geturl()
