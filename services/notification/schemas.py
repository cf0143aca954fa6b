"""What the notification API accepts."""

from marshmallow import Schema, fields, validate

from services.notification import calltasks


class NotificationQuery(Schema):
    booking_id = fields.Str(required=True, validate=validate.Length(1, 64))


class CallTaskQuery(Schema):
    date = fields.Date(required=True)
    crew_id = fields.Str(load_default=None, validate=validate.Length(1, 64))


class CallResult(Schema):
    result = fields.Str(required=True, validate=validate.OneOf(calltasks.RESULTS))
