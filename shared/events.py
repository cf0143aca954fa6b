"""The event contract: one envelope for every event, and the payload of each event type.

nameko's convention carries the events: each service publishes to the topic exchange
`<service>.events` with the short event name as routing key (`request_received`), so any AMQP
client can bind a queue there. The envelope's `event_type` is the full name
(`booking.request_received`). Outreach channels publish referrals to one shared exchange,
`outreach.channels`, with the routing key `referral.<channel>`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import clock
from shared.validation import schema_instance

# Versions within one event type only add fields that may be absent: consumers read any version up
# to the one they know and take the fields they know (tolerant reader); a breaking change would be
# a new event type. Each type's current version is EventType.version.
FIRST_VERSION = 1
CHANNEL_EXCHANGE = "outreach.channels"
CHANNEL_NAME = validate.Regexp(r"^[a-z][a-z0-9_-]{1,31}$")
PERIODS = ("am", "pm", "any")
OUTCOMES = ("completed", "partial", "absent", "postponed")
REFERRAL_FORMS = ("household", "short")
# Why reception closes a short referral without a booking: the neighbour did not want it, could not
# be reached after several calls, was already booked, or applied elsewhere.
REFERRAL_CLOSE_REASONS = ("declined", "unreachable", "already_booked", "applied_elsewhere")
# The outcomes after which a visit counts as made (the funnel's "visited", retention, referrals).
VISITED_OUTCOMES = ("completed", "partial")
# What became of each applicant at a visit (the crew records one per person).
APPLICANT_RESULTS = ("applied", "missing_documents", "absent", "wants_revisit")


class PreferenceSchema(Schema):
    date = fields.Date(required=True)
    period = fields.Str(required=True, validate=validate.OneOf(PERIODS))


class RequestReceived(Schema):
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    channel = fields.Str(required=True, validate=CHANNEL_NAME)
    referral_id = fields.Str(allow_none=True, load_default=None)
    district = fields.Str(required=True)
    venue = fields.Str(allow_none=True, load_default=None)  # a community hall for a group session
    household_size = fields.Int(required=True, validate=validate.Range(1, 10))
    preferred = fields.List(fields.Nested(PreferenceSchema), load_default=list)
    has_needs = fields.Bool(load_default=False)
    contact_by = fields.Str(required=True, validate=validate.OneOf(("email", "phone")))
    # Version 2: the answers to the questions before the public form, as codes (None when staff or a
    # liaison took the request and judged them in conversation).
    eligibility = fields.Nested(lambda: EligibilityAnswers(), allow_none=True, load_default=None)
    # Version 3: the hall session (集団申請) the household signed up to; booking took its seat.
    session_id = fields.Str(allow_none=True, load_default=None)


class EligibilityAnswers(Schema):
    reasons = fields.List(fields.Str(), required=True)
    parking = fields.Bool(required=True)
    moving_soon = fields.Bool(required=True)
    guardian_present = fields.Bool(allow_none=True, load_default=None)


class ReferralClosed(Schema):
    """Reception closed a channel's short referral without a booking (services/booking/short_referrals.py)."""

    referral_id = fields.Str(required=True)
    channel = fields.Str(required=True, validate=CHANNEL_NAME)
    reason = fields.Str(required=True, validate=validate.OneOf(REFERRAL_CLOSE_REASONS))


class RequestCancelled(Schema):
    booking_id = fields.Str(required=True)
    reason = fields.Str(required=True)


class SlotFixed(Schema):
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    district = fields.Str(required=True)
    venue = fields.Str(allow_none=True, load_default=None)
    household_size = fields.Int(required=True)
    rescheduled = fields.Bool(load_default=False)
    # Version 2: the slot was freed by another household and taken from the waiting list.
    recovered = fields.Bool(load_default=False)


class SlotReleased(Schema):
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    start = fields.AwareDateTime(required=True)
    reason = fields.Str(
        required=True,
        metadata={
            "description": "cancelled, rescheduled, postponed, absent, or session_cancelled (the hall "
            "session was called off: the household is told and waits for a home visit)"
        },
    )


class SlotOffered(Schema):
    """A freed window offered to a waiting household (キャンセル待ち): the first to accept gets it."""

    offer_id = fields.Str(required=True)
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True)
    expires_at = fields.AwareDateTime(required=True)
    venue = fields.Str(allow_none=True, load_default=None)


class ApplicantCounts(Schema):
    """How many applicants ended each way (counts only: no names travel in events)."""

    applied = fields.Int(required=True, validate=validate.Range(0, 10))
    missing_documents = fields.Int(required=True, validate=validate.Range(0, 10))
    absent = fields.Int(required=True, validate=validate.Range(0, 10))
    wants_revisit = fields.Int(required=True, validate=validate.Range(0, 10))


class VisitDone(Schema):
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    district = fields.Str(required=True)
    outcome = fields.Str(required=True, validate=validate.OneOf(OUTCOMES))
    persons_applied = fields.Int(required=True, validate=validate.Range(0, 10))
    # Version 2: per-applicant counts when the crew recorded each person (None otherwise).
    applicants = fields.Nested(ApplicantCounts, allow_none=True, load_default=None)


class NotificationSent(Schema):
    message_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    kind = fields.Str(required=True)
    channel = fields.Str(required=True)


class NotificationFailed(NotificationSent):
    reason = fields.Str(required=True)


class SealedSchema(Schema):
    """Sealed and bound to a record id: AES-256-GCM under a named data key (shared.sealing), or, with
    `alg`, HPKE to the public key of booking's data key named `key` (shared.referral_seal; `nonce`
    is then empty: the encapsulated key is in `data`)."""

    alg = fields.Str(validate=validate.OneOf(["HPKE-X25519-SHA256-A256GCM"]))
    key = fields.Str(required=True)
    nonce = fields.Str(required=True)
    data = fields.Str(required=True)


class ReferralReceived(Schema):
    """A referral from an outreach channel. It carries the household (the booking needs it), sealed
    with the data key and bound to the referral id: the only event with personal data, and none of
    it in plain text."""

    referral_id = fields.Str(required=True)
    channel = fields.Str(required=True, validate=CHANNEL_NAME)
    referrer_id = fields.Str(required=True)
    sealed_household = fields.Nested(SealedSchema, required=True)
    # Version 2: "short" when the channel knew only a name, a phone number and a district (a
    # community-hall chair's referral: sealed {name, phone, district, memo, community_hall}), which
    # reception completes on the phone; "household" (version 1's only form) for a whole household.
    form = fields.Str(load_default="household", validate=validate.OneOf(REFERRAL_FORMS))


@dataclass(frozen=True)
class EventType:
    name: str  # full name, as in the envelope
    payload: type[Schema]
    version: int = FIRST_VERSION  # the payload's current version (see FIRST_VERSION)

    @property
    def source(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[1]

    @property
    def exchange(self) -> str:
        return CHANNEL_EXCHANGE if self is REFERRAL_RECEIVED else f"{self.source}.events"


REQUEST_RECEIVED = EventType("booking.request_received", RequestReceived, version=3)
REQUEST_CANCELLED = EventType("booking.request_cancelled", RequestCancelled)
REFERRAL_CLOSED = EventType("booking.referral_closed", ReferralClosed)
SLOT_FIXED = EventType("scheduling.slot_fixed", SlotFixed, version=2)
SLOT_RELEASED = EventType("scheduling.slot_released", SlotReleased)
SLOT_OFFERED = EventType("scheduling.slot_offered", SlotOffered)
VISIT_DONE = EventType("scheduling.visit_done", VisitDone, version=2)
NOTIFICATION_SENT = EventType("notification.sent", NotificationSent)
NOTIFICATION_FAILED = EventType("notification.failed", NotificationFailed)
REFERRAL_RECEIVED = EventType("outreach.referral_received", ReferralReceived, version=2)

EVENT_TYPES: dict[str, EventType] = {
    t.name: t
    for t in (
        REQUEST_RECEIVED,
        REQUEST_CANCELLED,
        REFERRAL_CLOSED,
        SLOT_FIXED,
        SLOT_RELEASED,
        SLOT_OFFERED,
        VISIT_DONE,
        NOTIFICATION_SENT,
        NOTIFICATION_FAILED,
        REFERRAL_RECEIVED,
    )
}


class Envelope(Schema):
    event_id = fields.UUID(required=True)
    event_type = fields.Str(required=True, validate=validate.OneOf(list(EVENT_TYPES)))
    schema_version = fields.Int(
        required=True,
        strict=True,
        validate=validate.Range(min=FIRST_VERSION),
        metadata={"description": "The payload's version within its event type: later ones only add fields"},
    )
    occurred_at = fields.AwareDateTime(required=True)
    municipality_code = fields.Str(required=True, validate=validate.Regexp(r"^\d{6}$"))
    correlation_id = fields.Str(required=True, validate=validate.Length(1, 64))
    payload = fields.Dict(required=True)


_CALLER_FIELDS = Envelope(only=("municipality_code", "correlation_id"))


class InvalidEvent(ValueError):
    """An event that breaks the contract. Its text names fields, never their values."""


def _check(event_type: EventType, envelope: dict) -> None:
    try:
        schema_instance(event_type.payload).load(envelope["payload"])
    except ValidationError as error:
        raise InvalidEvent(f"{event_type.name}: bad payload fields {sorted(error.messages)}") from None


def build(event_type: EventType, payload: dict, *, correlation_id: str, municipality_code: str) -> dict:
    """A new event, validated, as the JSON-ready dict that goes on the bus."""
    envelope = {
        "event_id": str(uuid.uuid4()),
        "event_type": event_type.name,
        "schema_version": event_type.version,
        "occurred_at": clock.iso(clock.now()),
        "municipality_code": municipality_code,
        "correlation_id": correlation_id,
        "payload": schema_instance(event_type.payload).dump(payload),
    }
    # The other envelope fields are made right here; only what the caller passed needs checking.
    errors = _CALLER_FIELDS.validate({"municipality_code": municipality_code, "correlation_id": correlation_id})
    if errors:
        raise InvalidEvent(f"{event_type.name}: bad envelope fields {sorted(errors)}")
    _check(event_type, envelope)
    return envelope


@dataclass(frozen=True)
class Event:
    """A received event: envelope fields plus the payload loaded with its schema."""

    event_id: str
    event_type: str
    occurred_at: Any
    municipality_code: str
    correlation_id: str
    payload: dict


def parse(body: Any, expected: EventType | None = None) -> Event:
    """Validates a received message body against the contract."""
    if not isinstance(body, dict):
        raise InvalidEvent("event body is not an object")
    try:
        envelope = schema_instance(Envelope).load(body)
    except ValidationError as error:
        raise InvalidEvent(f"bad envelope fields {sorted(error.messages)}") from None
    event_type = EVENT_TYPES[envelope["event_type"]]
    if expected is not None and event_type is not expected:
        raise InvalidEvent(f"expected {expected.name}, got {event_type.name}")
    if envelope["schema_version"] > event_type.version:
        raise InvalidEvent(f"{event_type.name}: version {envelope['schema_version']} is newer than this consumer's")
    try:
        # Tolerant reader: fields this consumer does not know (a later version's) are left aside.
        payload = schema_instance(event_type.payload).load(envelope["payload"], unknown=EXCLUDE)
    except ValidationError as error:
        raise InvalidEvent(f"{event_type.name}: bad payload fields {sorted(error.messages)}") from None
    return Event(
        event_id=str(envelope["event_id"]),
        event_type=event_type.name,
        occurred_at=envelope["occurred_at"],
        municipality_code=envelope["municipality_code"],
        correlation_id=envelope["correlation_id"],
        payload=payload,
    )
