"""Notification's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.notification.schemas import PHONED_RESULTS, CallResult, CallTaskQuery, NotificationQuery, PhonedResult
from shared.openapi import Operation, document, errors


class PhoneAttempt(Schema):
    result = fields.Str(required=True, metadata={"enum": list(PHONED_RESULTS)})
    at = fields.AwareDateTime(required=True)


class Notification(Schema):
    message_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    kind = fields.Str(
        required=True,
        metadata={
            "enum": [
                "acknowledgement",
                "confirmation",
                "reminder",
                "slot_offer",
                "after_visit",
                "cancellation",
                "session_cancelled",
            ]
        },
    )
    status = fields.Str(
        required=True,
        metadata={
            "enum": ["pending", "sent", "to_call", "retrying", "failed", "phoned"],
            "description": "to_call: no e-mail address; staff phone the resident or post a letter (then phoned)",
        },
    )
    channel = fields.Str(allow_none=True, required=True)
    attempts = fields.Int(required=True)
    created_at = fields.AwareDateTime(required=True)
    finished_at = fields.AwareDateTime(allow_none=True, required=True)
    details = fields.Dict(
        required=True, metadata={"description": "What the message says: dates, window, outcome (no personal data)"}
    )
    phone_attempts = fields.List(fields.Nested(PhoneAttempt), required=True)


class NotificationList(Schema):
    notifications = fields.List(fields.Nested(Notification), required=True)


class CallTask(Schema):
    task_id = fields.Str(required=True)
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    visit_start = fields.AwareDateTime(required=True)
    call_by = fields.AwareDateTime(required=True)
    status = fields.Str(required=True, metadata={"enum": ["open", "done", "cancelled"]})
    result = fields.Str(allow_none=True, required=True)
    reference = fields.Str(allow_none=True, required=True)
    name = fields.Str(allow_none=True, required=True)
    phone = fields.Str(allow_none=True, required=True)


class CallTaskList(Schema):
    date = fields.Date(required=True)
    contacts_available = fields.Bool(required=True)
    call_tasks = fields.List(fields.Nested(CallTask), required=True)


GET_NOTIFICATIONS = Operation(
    "GET",
    "/api/v1/notifications",
    "Messages to a booking's household.",
    {200: NotificationList, **errors(422)},
    query=NotificationQuery,
    tags=("notifications",),
    roles=("reception", "operator"),
)

POST_NOTIFICATION_PHONED = Operation(
    "POST",
    "/api/v1/notifications/<message_id>/phoned",
    "Record phoning a resident about a message e-mail could not carry (told, letter sent, no answer).",
    {200: Notification, **errors(400, 404, 409, 413, 422)},
    body=PhonedResult,
    tags=("notifications",),
    roles=("reception",),
)

GET_CALL_TASKS = Operation(
    "GET",
    "/api/v1/call-tasks",
    "The day-of phone calls (当日連絡) for a date.",
    {200: CallTaskList, **errors(422)},
    query=CallTaskQuery,
    tags=("call tasks",),
    roles=("reception", "crew"),
)

POST_CALL_TASK_RESULT = Operation(
    "POST",
    "/api/v1/call-tasks/<task_id>/result",
    "Record how the call went.",
    {200: CallTask, **errors(400, 404, 413, 422)},
    body=CallResult,
    tags=("call tasks",),
    roles=("reception", "crew"),
)

OPERATIONS = [GET_NOTIFICATIONS, POST_NOTIFICATION_PHONED, GET_CALL_TASKS, POST_CALL_TASK_RESULT]

OPENAPI = document(
    "notification",
    "Tells residents what happens (受付, 日時確定, after the visit) by e-mail or by a recorded call, "
    "and plans the day-of phone call. Consumes the booking and scheduling events.",
    OPERATIONS,
)
