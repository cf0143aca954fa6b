"""The event contract as an AsyncAPI 2.6 document, generated from the marshmallow schemas in
shared.events (apispec converts them), so the published contract is the one the code enforces."""

from __future__ import annotations

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin

from shared.events import CHANNEL_EXCHANGE, EVENT_TYPES, Envelope
from shared.openapi import rewrite_nullable

ASYNCAPI_VERSION = "2.6.0"
SOURCES = ("booking", "scheduling", "notification", "outreach")

DESCRIPTION = """Events of the mynacar services (My Number Card application assistance car).

Every event is a JSON object with one envelope (`Envelope`) whose `payload` follows the event's own schema.
nameko publishes each service's events to the durable topic exchange `<service>.events` with the short event
name as routing key; bind a queue there to listen (for example `booking.events` / `request_received`).
Outreach channels publish referrals to the shared exchange `outreach.channels` with the routing key
`referral.<channel>`; consumers bind `referral.#`. Messages are persistent; consumers must be idempotent on
`event_id` (an event can arrive twice). `correlation_id` is the booking's id through the whole story."""


SERVERS = {
    "local": {
        "url": "localhost:5672",
        "protocol": "amqp",
        "description": "`make run`: the local RabbitMQ, vhost `mynacar-local` (the tests use throw-away vhosts).",
    },
    "local-tls": {
        "url": "localhost:5671",
        "protocol": "amqps",
        "description": "The local RabbitMQ's TLS listener (a local CA, deploy/local/tls.py), vhost `mynacar-local`.",
    },
    "production": {
        "url": "{host}:5671",
        "protocol": "amqps",
        "description": "The city's RabbitMQ cluster over TLS (ADR 11); the vhost is the operator's choice.",
        "variables": {"host": {"default": "mynacar-rabbitmq.rabbitmq.svc"}},
    },
}


def _exchange(name: str) -> dict:
    return {"name": name, "type": "topic", "durable": True, "autoDelete": False}


def json_schema(schema: object) -> object:
    """OpenAPI 3.0's `nullable` (what apispec writes) as JSON Schema draft-07, which AsyncAPI 2.6's
    schemas are: a nullable type becomes a type list with "null", a nullable reference a oneOf."""

    def reference(rest: dict, refs: list[dict]) -> dict:
        return {**rest, "oneOf": [{"type": "null"}, *refs]}

    def plain(node: dict) -> dict:
        converted = {k: v for k, v in node.items() if k != "nullable"}
        if "type" in converted:
            converted["type"] = [converted["type"], "null"]
        return converted

    return rewrite_nullable(schema, reference, plain)


def document() -> dict:
    spec = APISpec(title="x", version="1", openapi_version="3.0.3", plugins=[MarshmallowPlugin()])
    spec.components.schema("Envelope", schema=Envelope)
    channels, messages = {}, {}
    for event_type in EVENT_TYPES.values():
        payload_name = event_type.payload.__name__
        spec.components.schema(payload_name, schema=event_type.payload)
        routing_key = "referral.{channel}" if event_type.exchange == CHANNEL_EXCHANGE else event_type.short_name
        channel = f"{event_type.exchange}/{routing_key}"
        channels[channel] = {
            "description": f"Exchange `{event_type.exchange}`, routing key `{routing_key}`.",
            "parameters": {"channel": {"schema": {"type": "string", "pattern": "^[a-z][a-z0-9_-]{1,31}$"}}}
            if "{channel}" in routing_key
            else {},
            "bindings": {
                "amqp": {"is": "routingKey", "exchange": _exchange(event_type.exchange), "bindingVersion": "0.2.0"}
            },
            "subscribe": {
                "operationId": f"on_{event_type.name.replace('.', '_')}",
                # Persistent messages (AMQP delivery mode 2), as nameko and the outbox publish them.
                "bindings": {"amqp": {"deliveryMode": 2, "bindingVersion": "0.2.0"}},
                "message": {"$ref": f"#/components/messages/{event_type.name}"},
            },
        }
        messages[event_type.name] = {
            "messageId": event_type.name.replace(".", "_"),
            "name": event_type.name,
            "title": event_type.payload.__name__,
            "summary": (event_type.payload.__doc__ or event_type.name).strip().split("\n")[0],
            "contentType": "application/json",
            "bindings": {
                "amqp": {"contentEncoding": "utf-8", "messageType": event_type.name, "bindingVersion": "0.2.0"}
            },
            "payload": {
                "allOf": [
                    {"$ref": "#/components/schemas/Envelope"},
                    {
                        "type": "object",
                        "properties": {
                            "event_type": {"type": "string", "enum": [event_type.name]},
                            "payload": {"$ref": f"#/components/schemas/{payload_name}"},
                        },
                    },
                ]
            },
        }
    for channel in channels.values():
        if not channel["parameters"]:
            del channel["parameters"]
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "id": "urn:mynacar:events",
        "info": {
            "title": "mynacar events",
            "version": "1",
            "description": DESCRIPTION,
            "contact": {"name": "mynacar developers"},
        },
        "tags": [{"name": source, "description": f"Events the {source} service publishes"} for source in SOURCES],
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": channels,
        "components": {"messages": messages, "schemas": json_schema(spec.to_dict()["components"]["schemas"])},
    }
