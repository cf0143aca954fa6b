"""What the scheduling API accepts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates, validates_schema

from services.scheduling.sessions import MAX_CAPACITY, MIN_CAPACITY
from shared import clock
from shared.events import APPLICANT_RESULTS, OUTCOMES
from shared.household import VenueField
from shared.validation import ClockTime, Day, LocalDateTime

MIN_SESSION_MINUTES = 30


class FixSlotSchema(Schema):
    start = LocalDateTime(required=True)
    crew_id = fields.Str(required=True, validate=validate.Length(1, 64))


class ApplicantResultSchema(Schema):
    result = fields.Str(required=True, validate=validate.OneOf(APPLICANT_RESULTS))
    note = fields.Str(load_default="", validate=validate.Length(0, 200))


class VisitResultSchema(Schema):
    """The visit's outcome, either as a whole (outcome, persons_applied) or per applicant, in the
    household's order (the outcome and the count then follow from them)."""

    outcome = fields.Str(load_default=None, validate=validate.OneOf(OUTCOMES))
    persons_applied = fields.Int(load_default=None, strict=True, validate=validate.Range(0, 10))
    applicants = fields.List(fields.Nested(ApplicantResultSchema), load_default=None, validate=validate.Length(1, 10))
    note = fields.Str(
        load_default="",
        validate=validate.Length(0, 500),
        metadata={"description": "Free text for the next visit: booking keeps it sealed with the household"},
    )
    # The tablet's key for this result: sending it again (a queue replayed after a lost answer)
    # answers with the visit as recorded instead of refusing.
    result_id = fields.Str(load_default=None, validate=validate.Regexp(r"^[A-Za-z0-9-]{8,64}$"))

    @validates_schema
    def whole_or_per_applicant(self, data: dict, **kwargs: Any) -> None:
        if data.get("applicants") is None:
            for name in ("outcome", "persons_applied"):
                if data.get(name) is None:
                    raise ValidationError("Missing data for required field.", name)
        if data.get("outcome") in ("absent", "postponed") and data.get("persons_applied"):
            raise ValidationError("Must be 0 when the resident was absent.", "persons_applied")

    @post_load
    def outcome_from_applicants(self, data: dict, **kwargs: Any) -> dict:
        results = [a["result"] for a in data.get("applicants") or []]
        if results:
            applied = results.count("applied")
            if applied == len(results):
                outcome = "completed"
            elif applied:
                outcome = "partial"
            else:
                outcome = "absent" if set(results) == {"absent"} else "postponed"
            data.update(outcome=outcome, persons_applied=applied)
        return data


class VisitQuerySchema(Schema):
    booking_id = fields.Str(load_default=None, validate=validate.Length(1, 64))
    status = fields.Str(load_default=None, validate=validate.OneOf(("unscheduled", "scheduled", "done", "cancelled")))
    at_risk = fields.Bool(load_default=None)  # true: only requests expected past their wait bound
    limit = fields.Int(load_default=100, validate=validate.Range(1, 500))


class SuggestionQuerySchema(Schema):
    start = Day(load_default=None)  # first day to look at; default tomorrow
    days = fields.Int(load_default=None, validate=validate.Range(1, 120))  # working days
    limit = fields.Int(load_default=10, validate=validate.Range(1, 50))


class PlanRequestSchema(Schema):
    start = Day(load_default=None)  # first day of the plan; default tomorrow
    days = fields.Int(load_default=20, strict=True, validate=validate.Range(1, 60))  # working days

    @validates("start")
    def in_the_future(self, value: dt.date | None, **kwargs: Any) -> None:
        if value is not None and value <= clock.today():
            raise ValidationError("Must be a future date.")


class SessionRequestSchema(Schema):
    """A hall session (集団申請): where, which crew, the day, when the doors open and close, and how
    many people it can take."""

    venue = VenueField(required=True, metadata={"description": "The hall's id or Japanese name"})
    crew_id = fields.Str(required=True, validate=validate.Length(1, 64))
    date = Day(required=True)
    opens = ClockTime(required=True)
    closes = ClockTime(required=True)
    capacity = fields.Int(required=True, strict=True, validate=validate.Range(MIN_CAPACITY, MAX_CAPACITY))

    @validates_schema
    def closes_after_it_opens(self, data: dict, **kwargs: Any) -> None:
        if "opens" in data and "closes" in data:
            opens, closes = (data[k].hour * 60 + data[k].minute for k in ("opens", "closes"))
            if closes - opens < MIN_SESSION_MINUTES:
                raise ValidationError("Must be at least 30 minutes after the opening time.", "closes")

    @post_load
    def as_moments(self, data: dict, **kwargs: Any) -> dict:
        zone = clock.zone()
        data["start"] = dt.datetime.combine(data["date"], data["opens"], zone)
        data["end"] = dt.datetime.combine(data["date"], data["closes"], zone)
        return data


class SessionQuerySchema(Schema):
    start = Day(load_default=None)  # first day; default today
    days = fields.Int(load_default=60, validate=validate.Range(1, 366))  # calendar days
    venue = VenueField(load_default=None)
