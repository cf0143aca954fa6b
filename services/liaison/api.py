"""The liaison channel's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.liaison.schemas import ReferralQuery, ReferralRequestSchema
from shared.openapi import Message, Operation, document, errors


class Referral(Schema):
    referral_id = fields.Str(required=True)
    liaison_id = fields.Str(required=True)
    community_hall = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["referred", "booked", "slot_fixed", "visited"]})
    reference = fields.Str(allow_none=True, required=True)
    created_at = fields.AwareDateTime(required=True)


class ReferralAccepted(Referral):
    message = fields.Nested(Message, required=True)


class ReferralList(Schema):
    referrals = fields.List(fields.Nested(Referral), required=True)


OPERATIONS = [
    Operation(
        "POST",
        "/api/v1/referrals",
        "Refer a resident who wants a visit (with their consent).",
        {201: ReferralAccepted, **errors(400, 413, 422)},
        body=ReferralRequestSchema,
        tags=("referrals",),
        roles=("liaison",),
    ),
    Operation(
        "GET",
        "/api/v1/referrals",
        "A liaison's referrals and what became of them.",
        {200: ReferralList, **errors(422)},
        query=ReferralQuery,
        tags=("referrals",),
        roles=("liaison", "manager"),
    ),
]

OPENAPI = document(
    "liaison",
    "The community-hall liaison channel (自治公民館長): refers residents to the car service by publishing "
    "outreach.referral_received to the outreach.channels exchange (routing key referral.liaison).",
    OPERATIONS,
)
