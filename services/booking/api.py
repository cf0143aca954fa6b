"""Booking's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.booking.schemas import (
    RESIDENT_CANCEL_REASONS,
    AuditQuery,
    BookingQuery,
    BookingRequestSchema,
    CancelSchema,
    CloseReferralSchema,
    CodeExchangeSchema,
    PickSchema,
    PreferSchema,
    ResidentCancelSchema,
)
from shared.eligibility import EligibilitySchema
from shared.events import PreferenceSchema
from shared.household import AddressSchema, ApplicantSchema
from shared.openapi import Message, Operation, document, errors


class OpenBooking(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    channel = fields.Str(required=True)
    created_at = fields.AwareDateTime(required=True)


class Link(Schema):
    token = fields.Str(required=True, metadata={"description": "for the private link: <public host>/my/<token>"})
    code = fields.Str(required=True, metadata={"description": "6 digits, read out with the reference on the phone"})


class BookingAccepted(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True, metadata={"description": "To read out on the phone: YYMMDD-NNN"})
    status = fields.Str(required=True)
    message = fields.Nested(Message, required=True)
    link = fields.Nested(Link, required=True, metadata={"description": "The booker's own page"})
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


class Window(Schema):
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    venue = fields.Str(allow_none=True, required=True)


class VisitNote(Schema):
    visit_id = fields.Str(required=True)
    at = fields.AwareDateTime(required=True)
    note = fields.Str(required=True)


class Booking(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["received", "cancelled"]})
    channel = fields.Str(required=True)
    referral_id = fields.Str(allow_none=True, required=True)
    session_id = fields.Str(allow_none=True, required=True, metadata={"description": "A hall session's sign-up"})
    household = fields.Nested(
        Household, required=True, allow_none=True, metadata={"description": "null once erased (retention)"}
    )
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    cancel_reason = fields.Str(allow_none=True, required=True)
    link_code = fields.Str(required=True, metadata={"description": "the resident's 6-digit code, to read out"})
    cancel_detail = fields.Str(
        allow_none=True, required=True, metadata={"description": "the resident's own reason, when they cancelled"}
    )
    eligibility = fields.Nested(
        EligibilitySchema,
        allow_none=True,
        required=True,
        metadata={"description": "the answers to the public form's questions (null when staff took it)"},
    )
    window = fields.Nested(Window, allow_none=True, required=True, metadata={"description": "once a slot is fixed"})
    visit_notes = fields.List(
        fields.Nested(VisitNote), required=True, metadata={"description": "the crews' notes, erased with the household"}
    )
    erased_at = fields.AwareDateTime(
        allow_none=True, required=True, metadata={"description": "when the personal data was erased (retention)"}
    )


class OwnBooking(Schema):
    """What the resident's own page shows: the first applicant's given name and the district only."""

    reference = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["received", "cancelled", "visited"]})
    given_name = fields.Str(required=True)
    district = fields.Str(required=True)
    household_size = fields.Int(required=True)
    has_child = fields.Bool(required=True, metadata={"description": "an applicant needs a guardian present"})
    window = fields.Nested(Window, allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    cancelled_at = fields.AwareDateTime(allow_none=True, required=True)
    code = fields.Str(required=True, metadata={"description": "6 digits to give with the reference on the phone"})


class Choice(Schema):
    crew_id = fields.Str(required=True)
    start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)


class WaitlistOffer(Choice):
    offer_id = fields.Str(required=True)
    expires_at = fields.AwareDateTime(required=True)


class Suggestion(Choice):
    estimated_start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    added_drive_minutes = fields.Int(required=True)
    matches_preference = fields.Bool(required=True)


class OwnChoices(Schema):
    status = fields.Str(required=True, metadata={"description": "the visit's status; choices only while unscheduled"})
    waitlist = fields.List(fields.Nested(WaitlistOffer), required=True)
    suggestions = fields.List(fields.Nested(Suggestion), required=True)
    expected_by = fields.Date(
        allow_none=True, metadata={"description": "The expected visit date while unscheduled (an estimate)"}
    )


class PickedVisit(Schema):
    visit_id = fields.Str(required=True)
    status = fields.Str(required=True)
    slot = fields.Dict(required=True, metadata={"description": "as scheduling's visit view shows it"})


class OwnDates(Schema):
    preferred = fields.List(fields.Dict(), required=True)


class LinkToken(Schema):
    token = fields.Str(required=True)
    expires_in_days = fields.Int(required=True)


class BookingList(Schema):
    bookings = fields.List(fields.Nested(Booking), required=True)
    referrals_waiting = fields.List(
        fields.Nested("ShortReferralView"),
        required=True,
        metadata={"description": "short referrals under this number that reception has still to complete"},
    )


class AuditEntry(Schema):
    at = fields.AwareDateTime(required=True)
    subject = fields.Str(required=True, metadata={"description": "the staff member (the token's sub)"})
    role = fields.Str(required=True)
    purpose = fields.Str(required=True, metadata={"description": "the route or screen, e.g. crew day sheet"})
    action = fields.Str(required=True, metadata={"enum": ["read", "search", "change"]})
    booking_ids = fields.List(fields.Str(), required=True)


class AuditLog(Schema):
    entries = fields.List(fields.Nested(AuditEntry), required=True)


class ShortReferralView(Schema):
    referral_id = fields.Str(required=True)
    channel = fields.Str(required=True)
    referrer_id = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["to_complete", "completed"]})
    received_at = fields.AwareDateTime(required=True)
    name = fields.Str(required=True)
    phone = fields.Str(required=True)
    district = fields.Str(required=True)
    memo = fields.Str(required=True)
    session_id = fields.Str(
        allow_none=True, required=True, metadata={"description": "A hall session the neighbour would like to join"}
    )
    community_hall = fields.Str(required=True)
    booking_id = fields.Str(required=True, allow_none=True)


class ReferralClosedView(Schema):
    referral_id = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["closed"]})
    reason = fields.Str(required=True)


class ShortReferralList(Schema):
    referrals = fields.List(fields.Nested(ShortReferralView), required=True)


GET_AUDIT = Operation(
    "GET",
    "/api/v1/audit",
    "Who read or changed residents' personal data, newest first.",
    {200: AuditLog, **errors(422)},
    query=AuditQuery,
    tags=("audit",),
    roles=("manager",),
)

POST_BOOKINGS = Operation(
    "POST",
    "/api/v1/bookings",
    "Book a visit for a household (phone, web, e-mail or an outreach channel). Open to anyone and "
    "rate-limited per client; reception staff who send their token are not limited.",
    {201: BookingAccepted, **errors(400, 401, 409, 413, 422, 429)},
    body=BookingRequestSchema,
    tags=("bookings",),
)

GET_SHORT_REFERRALS = Operation(
    "GET",
    "/api/v1/short-referrals",
    "Channels' short referrals (a name, a phone number and a district) that reception has still to phone "
    "and complete with POST /api/v1/bookings and their referral_id, the longest waiting first.",
    {200: ShortReferralList},
    tags=("bookings",),
    roles=("reception",),
)

POST_SHORT_REFERRAL_CLOSE = Operation(
    "POST",
    "/api/v1/short-referrals/<referral_id>/close",
    "Close a waiting short referral without a booking (the neighbour declined, could not be reached, was "
    "already booked or applied elsewhere); the channel hears it as booking.referral_closed.",
    {200: ReferralClosedView, **errors(400, 404, 413, 422)},
    body=CloseReferralSchema,
    tags=("bookings",),
    roles=("reception",),
)

GET_BOOKINGS = Operation(
    "GET",
    "/api/v1/bookings",
    "A household's bookings by phone number, newest first (to spot a repeat booking on the phone).",
    {200: BookingList, **errors(422)},
    query=BookingQuery,
    tags=("bookings",),
    roles=("reception",),
)

GET_BOOKING = Operation(
    "GET",
    "/api/v1/bookings/<booking_id>",
    "One booking.",
    {200: Booking, **errors(404)},
    tags=("bookings",),
    roles=("reception",),
)

POST_BOOKING_CANCEL = Operation(
    "POST",
    "/api/v1/bookings/<booking_id>/cancel",
    "Cancel a booking (again is harmless).",
    {200: Booking, **errors(400, 404, 413, 422)},
    body=CancelSchema,
    tags=("bookings",),
    roles=("reception",),
)

OPERATIONS = [
    GET_AUDIT,
    POST_BOOKINGS,
    GET_SHORT_REFERRALS,
    POST_SHORT_REFERRAL_CLOSE,
    GET_BOOKINGS,
    GET_BOOKING,
    POST_BOOKING_CANCEL,
]

POST_LINKS = Operation(
    "POST",
    "/api/v1/links",
    "Exchange a booking's reference and the 6-digit code read out on the phone for a private-link "
    "token. Five wrong codes lock the reference for an hour (429).",
    {200: LinkToken, **errors(400, 401, 413, 422, 429)},
    body=CodeExchangeSchema,
    tags=("residents",),
)

GET_SELF = Operation(
    "GET",
    "/api/v1/self",
    "The resident's own booking: status and window; the audit log records the read.",
    {200: OwnBooking, **errors(404)},
    tags=("residents",),
    resident=True,
)

POST_SELF_CANCEL = Operation(
    "POST",
    "/api/v1/self/cancel",
    f"The resident cancels their own booking, with a reason ({', '.join(RESIDENT_CANCEL_REASONS)}); again is harmless.",
    {200: OwnBooking, **errors(400, 404, 413, 422)},
    body=ResidentCancelSchema,
    tags=("residents",),
    resident=True,
)

GET_SELF_OFFERS = Operation(
    "GET",
    "/api/v1/self/offers",
    "The windows the resident may pick while the date is not set: freed windows offered from the "
    "waiting list (first to accept gets one) and the best current windows.",
    {200: OwnChoices, **errors(404)},
    tags=("residents",),
    resident=True,
)

POST_SELF_SLOT = Operation(
    "POST",
    "/api/v1/self/slot",
    "The resident picks a window: a waiting-list offer (offer_id) or a current window (crew_id, start). "
    "409 when it has just gone to someone else.",
    {200: PickedVisit, **errors(400, 404, 409, 413, 422)},
    body=PickSchema,
    tags=("residents",),
    resident=True,
)

POST_SELF_DATES = Operation(
    "POST",
    "/api/v1/self/dates",
    "The resident asks for other days (up to three working days, each am, pm or any) while the date is not set.",
    {200: OwnDates, **errors(400, 404, 409, 413, 422)},
    body=PreferSchema,
    tags=("residents",),
    resident=True,
)

OPERATIONS += [POST_LINKS, GET_SELF, POST_SELF_CANCEL, GET_SELF_OFFERS, POST_SELF_SLOT, POST_SELF_DATES]

OPENAPI = document(
    "booking",
    "Takes requests for a visit of the My Number Card assistance car from residents, reception staff and "
    "outreach channels. Emits booking.request_received and booking.request_cancelled.",
    OPERATIONS,
)
