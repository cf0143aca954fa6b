"""Each service's HTTP API as an OpenAPI 3 document, built from the same marshmallow schemas the
handlers validate with (apispec), so the document cannot drift from the code unnoticed: a test
checks that every @http route is documented and that real answers fit the documented schemas."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.common import resolve_schema_cls
from marshmallow import Schema, fields

OPENAPI_VERSION = "3.0.3"


class Message(Schema):
    ja = fields.Str(required=True)
    en = fields.Str(required=True)


class FieldError(Schema):
    field = fields.Str(required=True)
    ja = fields.Str(required=True)
    en = fields.Str(required=True)


class Error(Schema):
    error = fields.Str(required=True, metadata={"description": "A stable code, e.g. not_found, slot_unavailable"})
    message = fields.Nested(Message, required=True)
    fields = fields.List(fields.Nested(FieldError), metadata={"description": "Per field, for 422"})


class Health(Schema):
    status = fields.Str(required=True)
    service = fields.Str(required=True)
    checks = fields.Dict(keys=fields.Str(), values=fields.Bool())


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # werkzeug style, as in @http: /api/v1/bookings/<booking_id>
    summary: str
    responses: dict[int, type[Schema] | str]
    body: type[Schema] | None = None
    query: type[Schema] | None = None
    tags: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[str, ...] = ()  # staff roles allowed (shared.auth); empty: open to anyone
    resident: bool = False  # a resident's own booking, by their private link (services/booking/links.py)
    chair: bool = False  # also a community-hall chair's session (services/liaison/chairs.py)

    @property
    def openapi_path(self) -> str:
        return re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", self.path)

    @property
    def path_params(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.path)


ERROR_TEXT = {
    400: "The request is malformed (not JSON, not an object, a bad path value).",
    401: "No staff token, or one that is invalid or expired (WWW-Authenticate: Bearer).",
    403: "The token's role (or crew, or liaison) does not allow this.",
    404: "No such resource.",
    409: "The resource's state does not allow this now.",
    413: "The body is larger than 64 KiB.",
    422: "Some fields are invalid; `fields` names each, in Japanese and English.",
    429: "Too many requests from this client; wait for Retry-After seconds.",
    503: "The database, or a resource the request needs, is briefly away; nothing was saved. "
    "Try again after Retry-After seconds.",
}

OPERATIONS_ENDPOINTS = [
    Operation("GET", "/health/live", "The process is serving.", {200: Health}, tags=("operations",)),
    Operation(
        "GET",
        "/health/ready",
        "The broker and the database are reachable.",
        {200: Health, 503: Health},
        tags=("operations",),
    ),
    Operation("GET", "/metrics", "Prometheus metrics (text exposition format).", {200: "text"}, tags=("operations",)),
    Operation("GET", "/openapi.json", "This document.", {200: "json"}, tags=("operations",)),
]


def _schema_name(schema: type[Schema] | Schema) -> str:
    return resolve_schema_cls(schema).__name__.removesuffix("Schema")


TAGS = {
    "operations": "Liveness, readiness, metrics and this document, for the kubelet and Prometheus.",
    "bookings": "A household's request for a visit.",
    "audit": "Who read or changed residents' personal data.",
    "visits": "Visits, their slots and results.",
    "plans": "Batch plans over the next working days.",
    "crews": "Crews and their days.",
    "notifications": "Messages to residents and the phone calls that replace them.",
    "call-tasks": "The day-of phone calls before each visit.",
    "funnel": "Outreach figures per channel and district.",
    "referrals": "A community-hall liaison's referrals.",
    "chairs": "Community-hall chairs: registered by the city, signed in by an e-mailed link.",
    "residents": "A resident's own booking, by the private link in their e-mails.",
}

RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}
HEADERS = {
    401: {
        "WWW-Authenticate": {
            "description": 'Bearer realm="mynacar" (staff), or BookingLink realm="mynacar" (a resident\'s link)',
            "schema": {"type": "string"},
        }
    },
    429: RETRY_AFTER,
    503: RETRY_AFTER,
}


def operation_id(method: str, path: str) -> str:
    """A stable, readable operationId from the route: GET /api/v1/visits/<visit_id>/suggestions ->
    get_visit_suggestions; generated clients name their functions after it."""
    words = [method.lower()]
    parts = [p for p in path.strip("/").split("/") if p not in ("api", "v1")]
    for index, part in enumerate(parts):
        if part.startswith("<"):
            continue
        word = re.sub(r"[^a-z0-9]+", "_", part.lower()).strip("_")
        followed_by_id = index + 1 < len(parts) and parts[index + 1].startswith("<")
        words.append(word.removesuffix("s") if followed_by_id and word.endswith("s") else word)
    return "_".join(words)


def rewrite_nullable(
    node: object,
    reference: Callable[[dict, list[dict]], dict],
    plain: Callable[[dict], dict] | None = None,
) -> object:
    """Walks a schema and rewrites what apispec writes for nullable values: a nested object as
    anyOf [{type: object, nullable}, $ref] (which constrains nothing) through `reference(rest,
    refs)`, and any other `nullable` through `plain` (kept as it is when None)."""
    if isinstance(node, list):
        return [rewrite_nullable(item, reference, plain) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: rewrite_nullable(value, reference, plain) for key, value in node.items()}
    any_of = converted.get("anyOf")
    if any_of and any(part.get("nullable") and part.get("type") == "object" for part in any_of):
        rest = {k: v for k, v in converted.items() if k != "anyOf"}
        return reference(rest, [part for part in any_of if "$ref" in part])
    if plain is not None and converted.get("nullable"):
        return plain(converted)
    return converted


# Only null: OpenAPI 3.0's `nullable` needs a `type` beside it, and the enum leaves nothing else.
NULL_ONLY = {"type": "object", "nullable": True, "enum": [None]}


def _nullable_reference(rest: dict, refs: list[dict]) -> dict:
    """The object or null, as OpenAPI 3.0 can say it and generated clients understand it:
    oneOf [$ref, null-only]. (`nullable` beside an allOf needs a `type` to mean anything, and a
    `type: object` there makes openapi-python-client drop the null.)"""
    return {**rest, "oneOf": [*refs, {**NULL_ONLY, "enum": [None]}]}  # a fresh copy: no YAML anchors


def document(service: str, description: str, operations: list[Operation]) -> dict:
    spec = APISpec(
        title=f"mynacar {service}",
        version="1",
        openapi_version=OPENAPI_VERSION,
        plugins=[MarshmallowPlugin(schema_name_resolver=_schema_name)],
        info={"description": description, "contact": {"name": "mynacar developers"}},
    )
    spec.components.security_scheme(
        "staffToken",
        {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A token from the city's OpenID Connect provider; its `roles` claim holds "
            "reception, crew, liaison, manager or operator (see docs/security.md).",
        },
    )
    if any(op.chair for op in operations):
        spec.components.security_scheme(
            "chairSession",
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`ChairSession <token>`: a community-hall chair's session, from POST "
                "/api/v1/chair-sessions with the one-time link e-mailed to the chair.",
            },
        )
    if any(op.resident for op in operations):
        spec.components.security_scheme(
            "bookingLink",
            {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "`BookingLink <token>`: the resident's private link from their e-mail, or the "
                "token POST /api/v1/links gives for the reference and code read out on the phone.",
            },
        )
    by_path: dict[str, dict] = {}
    for op in [*operations, *OPERATIONS_ENDPOINTS]:
        by_path.setdefault(op.openapi_path, {})[op.method.lower()] = _operation(op)
    for path, path_operations in by_path.items():
        spec.path(path=path, operations=path_operations)
    built = rewrite_nullable(spec.to_dict(), _nullable_reference)
    used = sorted({tag for path in built["paths"].values() for op in path.values() for tag in op.get("tags", [])})
    tags = [{"name": tag, "description": TAGS.get(tag, tag.capitalize())} for tag in used]
    # No staff or resident route (the portal's document): no scheme to declare.
    if not any(op.roles or op.resident for op in operations):
        built["components"].pop("securitySchemes", None)
    return {**built, "servers": _servers(service), "tags": tags}


def _servers(service: str) -> list[dict]:
    from deploy.services import spec as service_spec  # the one list of services and their ports

    return [
        {"url": f"http://127.0.0.1:{service_spec(service).port}", "description": "`make run` on this machine"},
        {
            "url": "https://{staffHost}",
            "description": "Production: the ingress's staff host (the public booking form is on its public host)",
            "variables": {"staffHost": {"default": "staff.mynacar.city.example.jp"}},
        },
    ]


def _operation(op: Operation) -> dict:
    parameters: list[dict] = [
        {"in": "path", "name": name, "required": True, "schema": {"type": "string"}} for name in op.path_params
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    result: dict = {
        "operationId": operation_id(op.method, op.path),
        "summary": op.summary,
        "description": op.summary,
        "parameters": parameters,
        "responses": {},
    }
    if op.tags:
        result["tags"] = list(op.tags)
    if op.roles:
        result["security"] = [{"staffToken": []}, *([{"chairSession": []}] if op.chair else [])]
        result["x-roles"] = list(op.roles)
        who = f"Staff only: {', '.join(op.roles)}" + (", or a community-hall chair" if op.chair else "")
        result["description"] = f"{op.summary} {who}."
        op_responses = {**op.responses, **errors(401, 403)}
    elif op.resident:
        result["security"] = [{"bookingLink": []}]
        result["description"] = f"{op.summary} For the resident, by their private link."
        op_responses = {**op.responses, **errors(401, 429)}
    else:
        result["security"] = []
        op_responses = dict(op.responses)
    if "operations" not in op.tags:  # every @api endpoint answers 503 while the database is away
        op_responses.setdefault(503, ERROR_TEXT[503])
    if op.body is not None:
        result["requestBody"] = {"required": True, "content": {"application/json": {"schema": op.body}}}
    for status, answer in sorted(op_responses.items()):
        result["responses"][str(status)] = _response(status, answer)
        if status in HEADERS:
            result["responses"][str(status)]["headers"] = HEADERS[status]
    return result


# Files an operation answers with, by the name its responses give them.
FILE_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _response(status: int, answer: type[Schema] | str) -> dict:
    if answer in FILE_TYPES:
        return {
            "description": f"OK: a {answer.upper()} file to download (Content-Disposition: attachment).",
            "content": {FILE_TYPES[answer]: {"schema": {"type": "string", "format": "binary"}}},
        }
    if answer == "text":
        return {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}
    if answer == "json":
        return {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}
    if isinstance(answer, str):
        return {"description": answer, "content": {"application/json": {"schema": Error}}}
    description = ERROR_TEXT.get(status, "OK")
    return {"description": description, "content": {"application/json": {"schema": answer}}}


def errors(*statuses: int) -> dict[int, str]:
    return {status: ERROR_TEXT[status] for status in statuses}
