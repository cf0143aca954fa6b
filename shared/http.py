"""JSON over nameko's @http: responses, request bodies and errors that are always 4xx (503 while the
database is away), never 500."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError
from pymongo.errors import ConnectionFailure
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.wrappers import Request, Response

from shared.validation import INDIVIDUAL_NUMBER_MESSAGE, field_errors, find_individual_numbers, schema_instance

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
RETRY_AFTER_SECONDS = 30


class ApiError(Exception):
    """An answer for the client: an HTTP status, a code, and a message in Japanese and English."""

    def __init__(
        self, status: int, code: str, en: str, ja: str, headers: dict[str, str] | None = None, **extra: Any
    ) -> None:
        super().__init__(code)
        self.status, self.code, self.en, self.ja, self.extra = status, code, en, ja, extra
        self.headers = headers or {}

    def body(self) -> dict:
        return {"error": self.code, "message": {"ja": self.ja, "en": self.en}, **self.extra}


def invalid_field(field: str, en: str, ja: str) -> ApiError:
    """A 422 for one field, shaped like the schema's own (`fields`: [{field, en, ja}])."""
    return ApiError(
        422,
        "validation_failed",
        "Some fields are invalid.",
        "入力内容に誤りがあります。",
        fields=[{"field": field, "en": en, "ja": ja}],
    )


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"No such {what}.", "指定されたものが見つかりません。")


class TemporarilyUnavailable(Exception):
    """Something the request needs is busy or away for now; nothing was stored. Answered 503."""


def unavailable() -> ApiError:
    return ApiError(
        503,
        "temporarily_unavailable",
        "The service is briefly unavailable and nothing was saved; please try again in a moment.",
        "ただいま混み合っているため、受け付けできませんでした（内容は保存されていません）。"
        "しばらくしてからもう一度お試しください。",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def conflict(code: str, en: str, ja: str, **extra: Any) -> ApiError:
    return ApiError(409, code, en, ja, **extra)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, default=str),
        status=status,
        mimetype="application/json",
        headers=headers,
    )


def validation_response(error: ValidationError) -> Response:
    return json_response(
        {
            "error": "validation_failed",
            "message": {"ja": "入力内容に誤りがあります。", "en": "Some fields are invalid."},
            "fields": field_errors(error.messages),
        },
        status=422,
    )


def read_json(request: Request) -> Any:
    """The request's JSON body; a 4xx ApiError when it is too large or not JSON."""
    too_large = ApiError(413, "body_too_large", "The request body is too large.", "送信内容が大きすぎます。")
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise too_large
    # A body without a length (chunked) is read only just past the limit, never whole into memory.
    request.max_content_length = MAX_BODY_BYTES + 1
    try:
        raw = request.get_data(cache=True)
    except RequestEntityTooLarge:
        raise too_large from None
    if len(raw) > MAX_BODY_BYTES:
        raise too_large
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ApiError(
            400, "invalid_json", "The request body is not valid JSON.", "送信内容が JSON の形式ではありません。"
        ) from None


def screen_and_load(schema: type[Schema], data: dict) -> dict:
    """Validates with the schema and refuses Individual Numbers, reporting every bad field at once."""
    schema = schema_instance(schema)
    numbers = {path: [INDIVIDUAL_NUMBER_MESSAGE] for path in find_individual_numbers(data)}
    try:
        loaded = schema.load(data)
    except ValidationError as error:
        messages = error.messages if isinstance(error.messages, dict) else {"_schema": error.messages}
        for path, found in numbers.items():
            existing = messages.get(path)
            messages[path] = [*existing, *found] if isinstance(existing, list) else found
        raise ValidationError(messages) from None
    if numbers:
        raise ValidationError(numbers)
    return loaded


def load_body(request: Request, schema: type[Schema]) -> dict:
    """Reads, screens and validates a JSON object body."""
    data = read_json(request)
    if not isinstance(data, dict):
        raise ApiError(
            400, "invalid_body", "The body must be a JSON object.", "送信内容はオブジェクト形式にしてください。"
        )
    return screen_and_load(schema, data)


def load_query(request: Request, schema: type[Schema]) -> dict:
    return screen_and_load(schema, {key: request.args.get(key) for key in request.args})


def api(handler: Callable[..., Response]) -> Callable[..., Response]:
    """Turns expected failures into 4xx answers, and the database or a busy resource being away
    into 503 with Retry-After. Anything else is a bug: logged, answered 500."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Response:
        try:
            return handler(*args, **kwargs)
        except ApiError as error:
            return json_response(error.body(), status=error.status, headers=error.headers)
        except ValidationError as error:
            return validation_response(error)
        except (ConnectionFailure, TemporarilyUnavailable) as error:
            log.warning("%s answered 503: %s", handler.__name__, type(error).__name__)
            failure = unavailable()
            return json_response(failure.body(), status=failure.status, headers=failure.headers)

    return wrapper
