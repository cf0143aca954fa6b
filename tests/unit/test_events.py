import datetime as dt
import uuid

import pytest
from marshmallow import EXCLUDE, Schema, fields

from shared import clock, events


def request_payload(**overrides):
    payload = {
        "booking_id": str(uuid.uuid4()),
        "reference": "261201-001",
        "channel": "phone",
        "referral_id": None,
        "district": "takazaki",
        "household_size": 2,
        "preferred": [{"date": dt.date(2026, 12, 1), "period": "am"}],
        "has_needs": False,
        "contact_by": "email",
    }
    payload.update(overrides)
    return payload


def test_built_events_carry_the_whole_envelope_and_parse_back():
    payload = request_payload()
    body = events.build(
        events.REQUEST_RECEIVED, payload, correlation_id=payload["booking_id"], municipality_code="452025"
    )
    assert set(body) == {
        "event_id",
        "event_type",
        "schema_version",
        "occurred_at",
        "municipality_code",
        "correlation_id",
        "payload",
    }
    assert body["event_type"] == "booking.request_received"
    assert dt.datetime.fromisoformat(body["occurred_at"]).utcoffset() == dt.timedelta(hours=9)
    event = events.parse(body, events.REQUEST_RECEIVED)
    assert event.payload["preferred"] == [{"date": dt.date(2026, 12, 1), "period": "am"}]
    assert event.correlation_id == payload["booking_id"]


def test_building_an_event_with_a_bad_payload_fails_before_anything_is_stored():
    with pytest.raises(events.InvalidEvent):
        events.build(
            events.REQUEST_RECEIVED, request_payload(household_size=0), correlation_id="b", municipality_code="452025"
        )


@pytest.mark.parametrize(
    ("correlation_id", "municipality_code", "field"),
    [("b", "45202", "municipality_code"), ("", "452025", "correlation_id"), ("x" * 65, "452025", "correlation_id")],
)
def test_building_an_event_checks_the_envelope_fields_the_caller_gives(correlation_id, municipality_code, field):
    with pytest.raises(events.InvalidEvent, match=field):
        events.build(
            events.REQUEST_RECEIVED,
            request_payload(),
            correlation_id=correlation_id,
            municipality_code=municipality_code,
        )


@pytest.mark.parametrize(
    "breakage",
    [
        lambda b: b.pop("event_id"),
        lambda b: b.update(event_id="not-a-uuid"),
        lambda b: b.update(schema_version=99),
        lambda b: b.update(occurred_at="2026-12-01T09:00:00"),  # no offset
        lambda b: b.update(municipality_code="45202"),
        lambda b: b["payload"].pop("district"),
        lambda b: b.update(event_type="booking.unknown"),
    ],
)
def test_received_events_that_break_the_contract_are_refused(breakage):
    body = events.build(events.REQUEST_RECEIVED, request_payload(), correlation_id="b", municipality_code="452025")
    breakage(body)
    with pytest.raises(events.InvalidEvent):
        events.parse(body, events.REQUEST_RECEIVED)


def test_an_event_of_another_type_is_refused_and_non_objects_too():
    body = events.build(
        events.REQUEST_CANCELLED,
        {"booking_id": "b", "reason": "duplicate"},
        correlation_id="b",
        municipality_code="452025",
    )
    with pytest.raises(events.InvalidEvent):
        events.parse(body, events.REQUEST_RECEIVED)
    with pytest.raises(events.InvalidEvent):
        events.parse("not json object")


def test_routing_follows_namekos_convention_and_channels_share_one_exchange():
    assert events.SLOT_FIXED.exchange == "scheduling.events"
    assert events.SLOT_FIXED.short_name == "slot_fixed"
    assert events.REFERRAL_RECEIVED.exchange == "outreach.channels"


def test_error_text_names_fields_never_values():
    secret = "都城 花子 0986221234"
    body = events.build(events.REQUEST_RECEIVED, request_payload(), correlation_id="b", municipality_code="452025")
    body["payload"]["district"] = {"oops": secret}
    with pytest.raises(events.InvalidEvent) as raised:
        events.parse(body)
    assert secret not in str(raised.value)
    assert "district" in str(raised.value)


def test_occurred_at_is_now_in_japan_time():
    body = events.build(
        events.REQUEST_CANCELLED, {"booking_id": "b", "reason": "other"}, correlation_id="b", municipality_code="452025"
    )
    assert abs(dt.datetime.fromisoformat(body["occurred_at"]) - clock.now()) < dt.timedelta(seconds=5)


def visit_done_payload(**extra):
    return {
        "visit_id": "v",
        "booking_id": "b",
        "crew_id": "crew-1",
        "date": dt.date(2026, 12, 3),
        "district": "takazaki",
        "outcome": "completed",
        "persons_applied": 2,
        **extra,
    }


class VisitDoneV1(Schema):
    """visit_done as version 1 defined it: what a consumer written then knows."""

    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    district = fields.Str(required=True)
    outcome = fields.Str(required=True)
    persons_applied = fields.Int(required=True)


def test_a_later_version_only_adds_fields_so_readers_of_either_version_understand_both():
    counts = {"applied": 1, "missing_documents": 1, "absent": 0, "wants_revisit": 0}
    current = events.build(
        events.VISIT_DONE,
        visit_done_payload(outcome="partial", persons_applied=1, applicants=counts),
        correlation_id="b",
        municipality_code="452025",
    )
    assert current["schema_version"] == events.VISIT_DONE.version == 2
    assert events.parse(current).payload["applicants"] == counts
    # A version 1 event (from before per-applicant results) still reads, without counts.
    older = {**current, "schema_version": 1, "payload": visit_done_payload()}
    assert events.parse(older).payload["applicants"] is None
    # A consumer that knows only version 1 reads version 2 as the tolerant reader does.
    as_v1 = VisitDoneV1().load(current["payload"], unknown=EXCLUDE)
    assert (as_v1["outcome"], as_v1["persons_applied"]) == ("partial", 1) and "applicants" not in as_v1
    with pytest.raises(events.InvalidEvent):
        events.parse({**current, "schema_version": 3})  # newer than this code knows
