"""The published contracts (docs/) are what the code enforces and serves."""

import importlib

import pytest
from nameko.web.handlers import HttpRequestHandler
from openapi_spec_validator import validate

from deploy.local.stack import SERVICES
from deploy.tools import apidocs, asyncapi
from shared import events


def test_the_documents_in_docs_are_current():
    stale = [
        str(path.relative_to(apidocs.ROOT))
        for path, text in apidocs.rendered().items()
        if not path.exists() or path.read_text(encoding="utf-8") != text
    ]
    assert not stale, f"run `make docs` to regenerate {stale}"


def http_routes(service_cls):
    routes = set()
    for name in dir(service_cls):
        for entrypoint in getattr(getattr(service_cls, name), "nameko_entrypoints", ()):
            if isinstance(entrypoint, HttpRequestHandler):
                routes.add((entrypoint.method, entrypoint.url))
    return routes


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_every_route_is_documented_and_every_documented_route_exists(spec):
    module, cls_name = spec.target.split(":")
    service_cls = getattr(importlib.import_module(module), cls_name)
    document = service_cls.openapi
    validate(document)  # a valid OpenAPI 3 document
    documented = {(method.upper(), path) for path, operations in document["paths"].items() for method in operations}
    served = {(method, url.replace("<", "{").replace(">", "}")) for method, url in http_routes(service_cls)}
    # The portal's pages are HTML for people, not an API: its document lists only what every service
    # serves for operations, and its pages are tested in the browser (tests/e2e/test_portal_browser.py).
    pages = {(method, url) for method, url in served if spec.name == "portal" and (method, url) not in documented}
    assert served - pages == documented
    assert all(not url.startswith("/api/") for _, url in pages)


def test_the_asyncapi_document_covers_every_event_and_its_references_resolve():
    document = asyncapi.document()
    assert set(document["components"]["messages"]) == set(events.EVENT_TYPES)
    schemas = document["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    for ref in refs(document):
        kind, name = ref.split("/")[-2:]
        assert name in document["components"][kind], ref
    assert schemas["Envelope"]["required"] == sorted(schemas["Envelope"]["required"])
    assert (
        document["channels"]["outreach.channels/referral.{channel}"]["bindings"]["amqp"]["exchange"]["type"] == "topic"
    )


def real_events() -> dict[str, dict]:
    """One event of every type, built by the code that publishes them."""
    slot = {"start": "2026-12-03T09:30:00+09:00", "end": "2026-12-03T11:15:00+09:00"}
    sealed = {"key": "dev-1", "nonce": "bm9uY2U=", "data": "ZGF0YQ=="}
    payloads = {
        events.REQUEST_RECEIVED: {
            "booking_id": "b-1",
            "reference": "261201-001",
            "channel": "phone",
            "referral_id": None,
            "district": "takazaki",
            "venue": None,
            "household_size": 2,
            "preferred": [],
            "has_needs": True,
            "contact_by": "email",
            "eligibility": {"reasons": ["elderly"], "parking": True, "moving_soon": False, "guardian_present": None},
        },
        events.REQUEST_CANCELLED: {"booking_id": "b-1", "reason": "duplicate"},
        events.REFERRAL_CLOSED: {"referral_id": "r-1", "channel": "liaison", "reason": "declined"},
        events.SLOT_FIXED: {
            "visit_id": "v-1",
            "booking_id": "b-1",
            "crew_id": "crew-1",
            **slot,
            "window_start": slot["start"],
            "window_end": "2026-12-03T10:00:00+09:00",
            "district": "takazaki",
            "venue": None,
            "household_size": 2,
            "rescheduled": False,
            "recovered": True,
        },
        events.SLOT_OFFERED: {
            "offer_id": "o-1",
            "visit_id": "v-2",
            "booking_id": "b-2",
            "crew_id": "crew-1",
            "start": slot["start"],
            "window_end": "2026-12-03T10:00:00+09:00",
            "expires_at": "2026-12-02T20:00:00+09:00",
            "venue": None,
        },
        events.SLOT_RELEASED: {
            "visit_id": "v-1",
            "booking_id": "b-1",
            "crew_id": "crew-1",
            "start": slot["start"],
            "reason": "cancelled",
        },
        events.VISIT_DONE: {
            "visit_id": "v-1",
            "booking_id": "b-1",
            "crew_id": "crew-1",
            "date": "2026-12-03",
            "district": "takazaki",
            "outcome": "partial",
            "persons_applied": 1,
            "applicants": {"applied": 1, "missing_documents": 1, "absent": 0, "wants_revisit": 0},
        },
        events.NOTIFICATION_SENT: {
            "message_id": "m-1",
            "booking_id": "b-1",
            "kind": "confirmation",
            "channel": "email",
        },
        events.NOTIFICATION_FAILED: {
            "message_id": "m-1",
            "booking_id": "b-1",
            "kind": "confirmation",
            "channel": "email",
            "reason": "SMTPServerDisconnected",
        },
        events.REFERRAL_RECEIVED: {
            "referral_id": "r-1",
            "channel": "liaison",
            "referrer_id": "hall-shonai-3",
            "sealed_household": sealed,
        },
    }
    loaded = {t: events.schema_instance(t.payload).load(p) for t, p in payloads.items()}
    return {
        t.name: events.build(t, payload, correlation_id="b-1", municipality_code="452025")
        for t, payload in loaded.items()
    }


def test_real_events_of_every_type_fit_the_published_schemas_under_a_draft_07_validator():
    import jsonschema

    document = asyncapi.document()
    built = real_events()
    assert set(built) == set(events.EVENT_TYPES)
    for name, event in built.items():
        message = document["components"]["messages"][name]
        schema = {**message["payload"], "components": document["components"]}
        jsonschema.Draft7Validator.check_schema(schema)
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(event)]
        assert not errors, (name, errors)
        # The schema is not a rubber stamp: a wrong type in the payload is caught.
        broken = (
            {**event, "payload": {**event["payload"], "booking_id": 7}} if "booking_id" in event["payload"] else None
        )
        if broken:
            assert list(jsonschema.Draft7Validator(schema).iter_errors(broken)), name
    # Nullable fields, which OpenAPI 3.0 marks with `nullable`, take JSON Schema's null here.
    assert "nullable" not in str(document)


def test_the_asyncapi_bindings_put_each_amqp_field_where_the_binding_schema_allows_it():
    document = asyncapi.document()
    channel_fields = {"is", "exchange", "queue", "bindingVersion"}
    operation_fields = {
        "expiration",
        "userId",
        "cc",
        "priority",
        "deliveryMode",
        "mandatory",
        "bcc",
        "replyTo",
        "timestamp",
        "ack",
        "bindingVersion",
    }
    message_fields = {"contentEncoding", "messageType", "bindingVersion"}
    ids = set()
    for channel in document["channels"].values():
        assert set(channel["bindings"]["amqp"]) <= channel_fields
        assert set(channel["subscribe"]["bindings"]["amqp"]) <= operation_fields
    for message in document["components"]["messages"].values():
        assert set(message["bindings"]["amqp"]) <= message_fields
        ids.add(message["messageId"])
    assert len(ids) == len(events.EVENT_TYPES)
    assert {s["protocol"] for s in document["servers"].values()} == {"amqp", "amqps"}


@pytest.mark.parametrize("spec", SERVICES, ids=lambda s: s.name)
def test_each_openapi_document_names_its_operations_servers_headers_and_nullable_types(spec):
    document = importlib.import_module(f"services.{spec.name}.api").OPENAPI
    operations = [op for path in document["paths"].values() for op in path.values()]
    ids = [op["operationId"] for op in operations]
    assert len(ids) == len(set(ids)) and all(i.isidentifier() for i in ids)
    assert document["servers"][0]["url"] == f"http://127.0.0.1:{spec.port}"
    for op in operations:
        for status, answer in op["responses"].items():
            if status == "401":
                assert "WWW-Authenticate" in answer["headers"]
            if status in ("429", "503"):
                assert "Retry-After" in answer["headers"]
    # A nullable nested object keeps its type: allOf [$ref] with nullable, never anyOf [object, $ref].
    assert "anyOf" not in str(document)


def test_operation_ids_read_like_the_route():
    from shared.openapi import operation_id

    assert operation_id("GET", "/api/v1/visits/<visit_id>/suggestions") == "get_visit_suggestions"
    assert operation_id("POST", "/api/v1/bookings") == "post_bookings"
    assert operation_id("GET", "/api/v1/crews/<crew_id>/days/<day>") == "get_crew_day"
    assert operation_id("GET", "/health/live") == "get_health_live"


def test_a_route_is_served_from_its_one_declaration():
    from services.liaison import api as liaison_api
    from shared.routes import route

    # The chair's operations need the chair scheme and the others must not take it: a route and its
    # document cannot disagree on who may call.
    with pytest.raises(ValueError, match="chair"):
        route(liaison_api.POST_REFERRALS_SHORT)
    with pytest.raises(ValueError, match="chair"):
        route(liaison_api.POST_REFERRALS, other=("ChairSession", lambda service, token: None))
    served = route(liaison_api.POST_REFERRALS)(lambda self, request, staff: None)
    [entrypoint] = served.nameko_entrypoints
    assert (entrypoint.method, entrypoint.url) == ("POST", "/api/v1/referrals")
