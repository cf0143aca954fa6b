"""The liaison channel's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.liaison.schemas import (
    ChairLinkSchema,
    ChairSchema,
    ChairSessionSchema,
    ReferralQuery,
    ReferralRequestSchema,
    ShortReferralSchema,
)
from shared.openapi import Message, Operation, document, errors


class Referral(Schema):
    referral_id = fields.Str(required=True)
    liaison_id = fields.Str(required=True)
    community_hall = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["referred", "booked", "slot_fixed", "visited", "closed"]})
    reference = fields.Str(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)
    name = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "the neighbour's name, to the chair who referred them only (short referrals)"},
    )
    closed_reason = fields.Str(
        required=True,
        allow_none=True,
        metadata={"description": "why reception closed it without a booking (status closed)"},
    )


class ReferralAccepted(Referral):
    message = fields.Nested(Message, required=True)


class ReferralList(Schema):
    referrals = fields.List(fields.Nested(Referral), required=True)


class ChairView(Schema):
    chair_id = fields.Str(required=True)
    name = fields.Str(required=True)
    email = fields.Str(required=True)
    community_hall = fields.Str(required=True)
    district = fields.Str(required=True)
    active = fields.Bool(required=True)


class ChairList(Schema):
    chairs = fields.List(fields.Nested(ChairView), required=True)


class ChairSummary(Schema):
    chair_id = fields.Str(required=True)
    name = fields.Str(required=True)
    community_hall = fields.Str(required=True)


class ChairSessionStarted(Schema):
    session_token = fields.Str(required=True, metadata={"description": "send as `Authorization: ChairSession <token>`"})
    expires_at = fields.AwareDateTime(required=True)
    chair = fields.Nested(ChairSummary, required=True)


class LinkSent(Schema):
    message = fields.Nested(Message, required=True)


class HallSession(Schema):
    session_id = fields.Str(required=True)
    venue_name = fields.Str(required=True)
    start = fields.AwareDateTime(required=True, metadata={"description": "The doors open"})
    end = fields.AwareDateTime(required=True, metadata={"description": "The doors close"})
    seats_left = fields.Int(required=True, metadata={"description": "Persons"})


class HallSessionList(Schema):
    sessions = fields.List(fields.Nested(HallSession), required=True)


class SessionEnded(Schema):
    ended = fields.Bool(required=True)


POST_REFERRALS = Operation(
    "POST",
    "/api/v1/referrals",
    "Refer a resident who wants a visit (with their consent).",
    {201: ReferralAccepted, **errors(400, 413, 422)},
    body=ReferralRequestSchema,
    tags=("referrals",),
    roles=("liaison",),
)

POST_REFERRALS_SHORT = Operation(
    "POST",
    "/api/v1/referrals/short",
    "Refer a neighbour with only a name, a phone number and a district (with their consent); reception "
    "phones them and completes the household.",
    {201: ReferralAccepted, **errors(400, 413, 422)},
    body=ShortReferralSchema,
    tags=("referrals",),
    roles=("liaison",),
    chair=True,
)

GET_HALL_SESSIONS = Operation(
    "GET",
    "/api/v1/hall-sessions",
    "Hall sessions (集団申請会) in the referrer's district still taking sign-ups: a neighbour may be referred for one.",
    {200: HallSessionList, **errors(503)},
    tags=("referrals",),
    roles=("liaison",),
    chair=True,
)

GET_REFERRALS = Operation(
    "GET",
    "/api/v1/referrals",
    "A liaison's referrals and what became of them.",
    {200: ReferralList, **errors(422)},
    query=ReferralQuery,
    tags=("referrals",),
    roles=("liaison", "manager"),
    chair=True,
)

POST_CHAIRS = Operation(
    "POST",
    "/api/v1/chairs",
    "Register a community-hall chair: their name, the e-mail address their sign-in links go to, their hall.",
    {201: ChairView, **errors(400, 413, 422)},
    body=ChairSchema,
    tags=("chairs",),
    roles=("reception", "manager"),
)

GET_CHAIRS = Operation(
    "GET",
    "/api/v1/chairs",
    "The registered community-hall chairs.",
    {200: ChairList},
    tags=("chairs",),
    roles=("reception", "manager"),
)

POST_CHAIR_DISABLE = Operation(
    "POST",
    "/api/v1/chairs/<chair_id>/disable",
    "Disable a chair: their sessions and unused links end at once; their referrals stay.",
    {200: ChairView, **errors(404)},
    tags=("chairs",),
    roles=("reception", "manager"),
)

POST_CHAIR_LINKS = Operation(
    "POST",
    "/api/v1/chair-links",
    "E-mail a one-time sign-in link (15 minutes) to a registered, active chair. The answer is the same "
    "whether the address is registered or not.",
    {202: LinkSent, **errors(400, 413, 422, 429)},
    body=ChairLinkSchema,
    tags=("chairs",),
)

POST_CHAIR_SESSIONS = Operation(
    "POST",
    "/api/v1/chair-sessions",
    "Exchange a sign-in link's token (once) for a chair session of 12 hours.",
    {201: ChairSessionStarted, **errors(400, 401, 413, 422, 429)},
    body=ChairSessionSchema,
    tags=("chairs",),
)

POST_CHAIR_SIGNOUT = Operation(
    "POST",
    "/api/v1/chair-signout",
    "End the calling chair's session (signing out).",
    {200: SessionEnded},
    tags=("chairs",),
    roles=("liaison",),
    chair=True,
)

OPERATIONS = [
    POST_REFERRALS,
    POST_REFERRALS_SHORT,
    GET_HALL_SESSIONS,
    GET_REFERRALS,
    POST_CHAIRS,
    GET_CHAIRS,
    POST_CHAIR_DISABLE,
    POST_CHAIR_LINKS,
    POST_CHAIR_SESSIONS,
    POST_CHAIR_SIGNOUT,
]

OPENAPI = document(
    "liaison",
    "The community-hall liaison channel (自治公民館長): refers residents to the car service by publishing "
    "outreach.referral_received to the outreach.channels exchange (routing key referral.liaison).",
    OPERATIONS,
)
