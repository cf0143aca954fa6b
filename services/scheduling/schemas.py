"""What the scheduling API accepts."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared import clock, municipality
from shared.events import OUTCOMES
from shared.validation import IN_DATE_RANGE, Day


class LocalDateTime(fields.DateTime):
    """An ISO date-time; one without an offset is read in the municipality's time zone."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        IN_DATE_RANGE(moment.date())  # the bounds of every date a caller gives (shared.validation)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=municipality.load().timezone)
        return moment.astimezone(municipality.load().timezone)


class FixSlotSchema(Schema):
    start = LocalDateTime(required=True)
    crew_id = fields.Str(required=True, validate=validate.Length(1, 64))


class VisitResultSchema(Schema):
    outcome = fields.Str(required=True, validate=validate.OneOf(OUTCOMES))
    persons_applied = fields.Int(required=True, strict=True, validate=validate.Range(0, 10))
    note = fields.Str(load_default="", validate=validate.Length(0, 500))

    @validates_schema
    def absent_means_nobody(self, data: dict, **kwargs: Any) -> None:
        if data.get("outcome") in ("absent", "postponed") and data.get("persons_applied"):
            raise ValidationError("Must be 0 when the resident was absent.", "persons_applied")


class VisitQuerySchema(Schema):
    booking_id = fields.Str(load_default=None, validate=validate.Length(1, 64))
    status = fields.Str(load_default=None, validate=validate.OneOf(("unscheduled", "scheduled", "done", "cancelled")))
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
