"""What the outreach API accepts."""

from typing import Any

from marshmallow import Schema, ValidationError, validates_schema

from shared.validation import Day


class PeriodSchema(Schema):
    from_ = Day(data_key="from", load_default=None)
    to = Day(load_default=None)

    @validates_schema
    def ordered(self, data: dict, **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must be on or after 'from'.", "to")
