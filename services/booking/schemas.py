"""What the booking API accepts."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared.events import CHANNEL_NAME, REFERRAL_CLOSE_REASONS
from shared.household import ConsentMixin, HouseholdSchema, PreferenceInputSchema
from shared.validation import Day, LocalDateTime, normalize_phone

CANCEL_REASONS = ("resident_request", "duplicate", "not_eligible", "other")


HONEYPOT_MESSAGE = "This field must be left empty."


class BookingRequestSchema(HouseholdSchema, ConsentMixin):
    channel = fields.Str(
        required=True,
        validate=CHANNEL_NAME,
        metadata={"description": "`web` without a staff token (the public form); staff may book for any channel"},
    )
    # The web form's hidden field: people never see it, form-filling scripts fill it in.
    website = fields.Str(
        load_default="",
        validate=validate.Length(max=0, error=HONEYPOT_MESSAGE),
        metadata={"description": "Leave empty (a hidden field of the web form)."},
    )
    referral_id = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "Reception only: completes a channel's short referral (GET /api/v1/short-referrals); "
            "the booking is then the channel's, whatever `channel` says."
        },
    )
    session_id = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={
            "description": "Reception only: signs the household up to a hall session (GET /api/v1/sessions of "
            "scheduling); its seat is taken at once, its visit fixed to the session."
        },
    )

    @validates_schema
    def a_session_or_a_group(self, data: dict, **_: Any) -> None:
        if data.get("session_id") and data.get("venue"):
            raise ValidationError("Give a session or a venue, not both.", "session_id")


class CancelSchema(Schema):
    reason = fields.Str(load_default="resident_request", validate=validate.OneOf(CANCEL_REASONS))


# Why a resident cancels on their own page (stored as a code with the booking).
RESIDENT_CANCEL_REASONS = ("schedule_changed", "applied_at_counter", "no_longer_needed", "other")


class ResidentCancelSchema(Schema):
    reason = fields.Str(required=True, validate=validate.OneOf(RESIDENT_CANCEL_REASONS))


class PickSchema(Schema):
    """A window the resident picks: a waiting-list offer by its id, or a current window (crew, start)."""

    offer_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    crew_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(1, 64))
    start = LocalDateTime(load_default=None, allow_none=True)

    @validates_schema
    def an_offer_or_a_window(self, data: dict, **_: Any) -> None:
        if not data.get("offer_id") and not (data.get("crew_id") and data.get("start")):
            raise ValidationError("Give offer_id, or crew_id and start.", "offer_id")


class PreferSchema(Schema):
    """Other days the resident would like (at most three)."""

    preferred = fields.List(fields.Nested(PreferenceInputSchema), required=True, validate=validate.Length(1, 3))


class CodeExchangeSchema(Schema):
    """The booking's reference and the 6-digit code reception reads out on the phone."""

    reference = fields.Str(required=True, validate=validate.Regexp(r"^\d{6}-\d{3,}$"))
    code = fields.Str(required=True, validate=validate.Regexp(r"^\d{6}$"))


class BookingQuery(Schema):
    """Finding a household's bookings while on the phone with them: by phone number, compared as a
    keyed hash (the number itself is stored only sealed)."""

    phone = fields.Str(required=True, metadata={"description": "as the resident says it, e.g. 0986-22-1234"})
    limit = fields.Int(load_default=20, validate=validate.Range(1, 100))

    @validates("phone")
    def _phone(self, value: str, **_: object) -> None:
        normalize_phone(value)


class AuditQuery(Schema):
    """Who read or changed personal data: for one booking, one staff member, a period (JST dates)."""

    booking_id = fields.Str(load_default=None, validate=validate.Length(1, 64))
    subject = fields.Str(load_default=None, validate=validate.Length(1, 128))
    from_ = Day(data_key="from", load_default=None)
    to = Day(load_default=None)
    limit = fields.Int(load_default=100, validate=validate.Range(1, 1000))


class CloseReferralSchema(Schema):
    reason = fields.Str(required=True, validate=validate.OneOf(REFERRAL_CLOSE_REASONS))
