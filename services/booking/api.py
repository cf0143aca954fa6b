"""Booking's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.booking.schemas import AuditQuery, BookingQuery, BookingRequestSchema, CancelSchema
from shared.events import PreferenceSchema
from shared.household import AddressSchema, ApplicantSchema
from shared.openapi import Message, Operation, document, errors


class OpenBooking(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    channel = fields.Str(required=True)
    created_at = fields.AwareDateTime(required=True)


class BookingAccepted(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True, metadata={"description": "To read out on the phone: YYMMDD-NNN"})
    status = fields.Str(required=True)
    message = fields.Nested(Message, required=True)
    open_bookings = fields.List(
        fields.Nested(OpenBooking),
        metadata={"description": "Reception only: the same phone number's other open bookings (a repeat?)"},
    )


class Household(Schema):
    applicants = fields.List(fields.Nested(ApplicantSchema), required=True)
    address = fields.Nested(AddressSchema, required=True)
    phone = fields.Str(required=True)
    email = fields.Str(allow_none=True, required=True)
    preferred = fields.List(fields.Nested(PreferenceSchema), required=True)
    needs = fields.Str(required=True)
    venue = fields.Str(allow_none=True, metadata={"description": "A group session's venue id (community hall)"})


class Booking(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["received", "cancelled"]})
    channel = fields.Str(required=True)
    referral_id = fields.Str(allow_none=True, required=True)
    household = fields.Nested(
        Household, required=True, allow_none=True, metadata={"description": "null once erased (retention)"}
    )
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    cancel_reason = fields.Str(allow_none=True, required=True)
    erased_at = fields.AwareDateTime(
        allow_none=True, required=True, metadata={"description": "when the personal data was erased (retention)"}
    )


class BookingList(Schema):
    bookings = fields.List(fields.Nested(Booking), required=True)


class AuditEntry(Schema):
    at = fields.AwareDateTime(required=True)
    subject = fields.Str(required=True, metadata={"description": "the staff member (the token's sub)"})
    role = fields.Str(required=True)
    purpose = fields.Str(required=True, metadata={"description": "the route or screen, e.g. crew day sheet"})
    action = fields.Str(required=True, metadata={"enum": ["read", "search", "change"]})
    booking_ids = fields.List(fields.Str(), required=True)


class AuditLog(Schema):
    entries = fields.List(fields.Nested(AuditEntry), required=True)


OPERATIONS = [
    Operation(
        "GET",
        "/api/v1/audit",
        "Who read or changed residents' personal data, newest first.",
        {200: AuditLog, **errors(422)},
        query=AuditQuery,
        tags=("audit",),
        roles=("manager",),
    ),
    Operation(
        "POST",
        "/api/v1/bookings",
        "Book a visit for a household (phone, web, e-mail or an outreach channel). Open to anyone and "
        "rate-limited per client; reception staff who send their token are not limited.",
        {201: BookingAccepted, **errors(400, 401, 413, 422, 429)},
        body=BookingRequestSchema,
        tags=("bookings",),
    ),
    Operation(
        "GET",
        "/api/v1/bookings",
        "A household's bookings by phone number, newest first (to spot a repeat booking on the phone).",
        {200: BookingList, **errors(422)},
        query=BookingQuery,
        tags=("bookings",),
        roles=("reception",),
    ),
    Operation(
        "GET",
        "/api/v1/bookings/<booking_id>",
        "One booking.",
        {200: Booking, **errors(404)},
        tags=("bookings",),
        roles=("reception",),
    ),
    Operation(
        "POST",
        "/api/v1/bookings/<booking_id>/cancel",
        "Cancel a booking (again is harmless).",
        {200: Booking, **errors(400, 404, 413, 422)},
        body=CancelSchema,
        tags=("bookings",),
        roles=("reception",),
    ),
]

OPENAPI = document(
    "booking",
    "Takes requests for a visit of the My Number Card assistance car from residents, reception staff and "
    "outreach channels. Emits booking.request_received and booking.request_cancelled.",
    OPERATIONS,
)
