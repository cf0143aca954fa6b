"""What every outreach channel sends: `outreach.referral_received` to the shared exchange
`outreach.channels` with the routing key `referral.<channel>` (docs/asyncapi.yaml). Booking takes
in a referral from any channel; a new channel needs nothing from the others."""

from __future__ import annotations

import logging

from marshmallow import Schema, fields, validate

from shared import events, municipality, outbox, referral_seal
from shared.household import DistrictField, Phone, Text
from shared.http import TemporarilyUnavailable
from shared.sealing import SealError

log = logging.getLogger(__name__)


class ShortReferral(Schema):
    """What a "short" referral seals: who, how to reach them and where. Reception phones them and
    completes the household (services/booking/short_referrals.py). `memo`: what the referrer wants
    reception to know; `community_hall` and `session_id` are the hall chairs' (services/liaison)."""

    name = Text(required=True, validate=validate.Length(1, 40))
    phone = Phone(required=True)
    district = DistrictField(required=True)
    memo = fields.Str(load_default="", validate=validate.Length(0, 200))
    community_hall = fields.Str(load_default="", validate=validate.Length(0, 60))
    # A hall session the neighbour would like to join: reception signs them up when completing.
    session_id = fields.Str(load_default=None, allow_none=True, validate=validate.Length(1, 64))


def referral_entry(channel: str, referral_id: str, referrer_id: str, content: dict, form: str) -> dict:
    """The referral's event as an outbox entry, to store with the channel's own record of it. The
    content (the household, or the short form) is sealed to booking's public key and bound to the
    referral id (shared.referral_seal): only booking opens it, not even the channel."""
    try:
        sealed = referral_seal.seal(content, referral_id)
    except SealError as error:  # booking's public key not configured: nothing is stored, 503
        log.error("referral not taken: %s", error)
        raise TemporarilyUnavailable("booking's public key is not configured") from None
    return outbox.event_entry(
        events.REFERRAL_RECEIVED,
        {
            "referral_id": referral_id,
            "channel": channel,
            "referrer_id": referrer_id,
            "sealed_household": sealed,
            "form": form,
        },
        correlation_id=referral_id,
        municipality_code=municipality.load().code,
        routing_key=f"referral.{channel}",
    )
