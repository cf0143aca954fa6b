"""Connections to RabbitMQ, TLS included: one place that knows how.

An `amqps://` URI means TLS. The broker's certificate is checked against the CA bundle in
AMQP_CA_FILE (the system's CAs when unset) and its name against the URI's host, so contacts that
cross the broker (RPC answers) cannot be read or redirected on the way. With
AMQP_CLIENT_CERT_FILE and AMQP_CLIENT_KEY_FILE the service also shows the broker a certificate of
its own (mutual TLS). nameko's own entrypoints, RPC and publishers take the same options from its
AMQP_SSL setting, which deploy.serve fills in.
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
from typing import Any

from kombu import Connection

from shared import settings

TLS_SCHEME = "amqps"


def ssl_options(
    uri: str, ca_file: str | None = None, client_cert: tuple[str, str] | None = None
) -> dict[str, Any] | None:
    """py-amqp's TLS options for this URI, or None for plain AMQP. The CA file and the client
    certificate default to the settings."""
    parts = urllib.parse.urlparse(uri)
    if parts.scheme != TLS_SCHEME:
        return None
    options: dict[str, Any] = {"cert_reqs": ssl.CERT_REQUIRED, "server_hostname": parts.hostname}
    ca_file = ca_file if ca_file is not None else settings.amqp_ca_file()
    if ca_file:
        options["ca_certs"] = ca_file
    certfile, keyfile = client_cert if client_cert is not None else settings.amqp_client_cert()
    if certfile:
        options.update(certfile=certfile, keyfile=keyfile or None)
    return options


def nameko_ssl_setting(uri: str) -> str:
    """The AMQP_SSL value for nameko's configuration (YAML; JSON is YAML): null for plain AMQP."""
    return json.dumps(ssl_options(uri))


def connect(uri: str, **kwargs: Any) -> Connection:
    """A kombu connection to the broker, over TLS when the URI says amqps."""
    return Connection(uri, ssl=ssl_options(uri) or False, **kwargs)
