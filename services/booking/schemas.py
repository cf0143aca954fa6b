"""What the booking API accepts."""

from marshmallow import Schema, fields, validate

from shared.events import CHANNEL_NAME
from shared.household import ConsentMixin, HouseholdSchema

CANCEL_REASONS = ("resident_request", "duplicate", "not_eligible", "other")


HONEYPOT_MESSAGE = "This field must be left empty."


class BookingRequestSchema(HouseholdSchema, ConsentMixin):
    channel = fields.Str(required=True, validate=CHANNEL_NAME)
    # The web form's hidden field: people never see it, form-filling scripts fill it in.
    website = fields.Str(
        load_default="",
        validate=validate.Length(max=0, error=HONEYPOT_MESSAGE),
        metadata={"description": "Leave empty (a hidden field of the web form)."},
    )


class CancelSchema(Schema):
    reason = fields.Str(load_default="resident_request", validate=validate.OneOf(CANCEL_REASONS))
