"""What the outreach API accepts."""

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from shared.validation import Day, Month
from shared.workcalendar import fiscal_year


class PeriodSchema(Schema):
    from_ = Day(data_key="from", load_default=None)
    to = Day(load_default=None)

    @validates_schema
    def ordered(self, data: dict, **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("Must be on or after 'from'.", "to")


class ReportQuerySchema(Schema):
    """A 年度 (default: the running one) and, within it, the first and last month (default: all of
    it, or up to this month). A range never crosses 年度: the targets are by 年度."""

    year = fields.Int(load_default=None, validate=validate.Range(2000, 2199))
    from_ = Month(data_key="from", load_default=None)
    to = Month(load_default=None)

    @validates_schema
    def within_one_fiscal_year(self, data: dict, **kwargs: Any) -> None:
        first, last, year = data.get("from_"), data.get("to"), data.get("year")
        if year is None and (first or last):
            year = fiscal_year(first or last)
        errors: dict[str, list[str]] = {}
        for name, month in (("from", first), ("to", last)):
            if month and year is not None and fiscal_year(month) != year:
                errors[name] = ["Must be a month of the fiscal year."]
        if not errors and first and last and first > last:
            errors["to"] = ["Must be on or after 'from'."]
        if errors:
            raise ValidationError(errors)
