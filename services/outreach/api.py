"""Outreach's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.outreach.schemas import PeriodSchema
from shared.openapi import Operation, document, errors


class Outcomes(Schema):
    """What became of the bookings received in the period."""

    booked = fields.Int(required=True)
    slot_fixed = fields.Int(required=True)
    visited = fields.Int(required=True)
    persons_applied = fields.Int(required=True)
    slots_recovered = fields.Int(
        required=True, metadata={"description": "bookings whose slot was a window freed by another (キャンセル待ち)"}
    )


class Stages(Outcomes):
    referred = fields.Int(required=True)


class ChannelRow(Stages):
    channel = fields.Str(required=True)


class DistrictRow(Outcomes):
    district = fields.Str(required=True)


class Funnel(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    basis = fields.Str(required=True)
    total = fields.Nested(Stages, required=True)
    channels = fields.List(fields.Nested(ChannelRow), required=True)
    districts = fields.List(fields.Nested(DistrictRow), required=True)


class ChannelList(Schema):
    channels = fields.List(fields.Str(), required=True)


OPERATIONS = [
    Operation(
        "GET",
        "/api/v1/funnel",
        "Referred, booked, slot fixed, visited and people applied, per channel and district, over a period "
        "(default: this month).",
        {200: Funnel, **errors(422)},
        query=PeriodSchema,
        tags=("reports",),
        roles=("manager",),
    ),
    Operation(
        "GET",
        "/api/v1/channels",
        "The outreach channels seen so far.",
        {200: ChannelList},
        tags=("reports",),
        roles=("manager",),
    ),
]

OPENAPI = document(
    "outreach",
    "Follows every outreach channel's referrals and what came of them. Channels are services of their own "
    "that publish to the outreach.channels exchange; a new one needs no change here.",
    OPERATIONS,
)
