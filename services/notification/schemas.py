"""What the notification API accepts."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from services.notification import calltasks
from shared.validation import Day

MESSAGE_STATUSES = ("pending", "retrying", "sent", "to_call", "failed", "phoned")
# What came of phoning a resident a message could not reach by e-mail: told, or a letter posted
# (the message is then "phoned"), or no answer yet (it stays to call).
PHONED_RESULTS = ("told", "letter_sent", "no_answer")


class NotificationQuery(Schema):
    """One booking's messages, or every message in a status (`failed`: residents to phone)."""

    booking_id = fields.Str(load_default=None, validate=validate.Length(1, 64))
    status = fields.Str(load_default=None, validate=validate.OneOf(MESSAGE_STATUSES))
    limit = fields.Int(load_default=100, validate=validate.Range(1, 1000))

    @validates_schema
    def one_filter(self, data: dict, **kwargs: object) -> None:
        if not data.get("booking_id") and not data.get("status"):
            raise ValidationError("Give booking_id or status.", "booking_id")


class CallTaskQuery(Schema):
    date = Day(required=True)
    crew_id = fields.Str(load_default=None, validate=validate.Length(1, 64))


class PhonedResult(Schema):
    result = fields.Str(required=True, validate=validate.OneOf(PHONED_RESULTS))


class CallResult(Schema):
    result = fields.Str(required=True, validate=validate.OneOf(calltasks.RESULTS))
