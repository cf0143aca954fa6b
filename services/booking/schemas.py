"""What the booking API accepts."""

from marshmallow import Schema, fields, validate

from shared.events import CHANNEL_NAME
from shared.household import ConsentMixin, HouseholdSchema

CANCEL_REASONS = ("resident_request", "duplicate", "not_eligible", "other")


class BookingRequestSchema(HouseholdSchema, ConsentMixin):
    channel = fields.Str(required=True, validate=CHANNEL_NAME)


class CancelSchema(Schema):
    reason = fields.Str(load_default="resident_request", validate=validate.OneOf(CANCEL_REASONS))
