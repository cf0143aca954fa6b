"""The published contracts (docs/) are what the code enforces and serves."""

import importlib

import pytest
from nameko.web.handlers import HttpRequestHandler
from openapi_spec_validator import validate

from deploy.local.stack import SERVICES
from shared import apidocs, asyncapi, events


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
