"""The household a visit is for, as residents, reception staff and liaisons enter it.

Shared by the booking API and the outreach channels, so a referral is checked with the same rules
before it leaves the channel."""

from __future__ import annotations

import datetime as dt
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates, validates_schema

from shared import clock, eligibility, municipality, validation, workcalendar
from shared.events import PERIODS


class _Normalized(fields.Str):
    """A string field that folds width variants and applies a normalizer."""

    def normalize(self, text: str) -> str:
        text = validation.normalize(text)
        if not text:
            raise ValidationError("Must not be blank.")
        return text

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if validation.has_hidden_characters(text):
            raise ValidationError(validation.CONTROL_MESSAGE)
        return self.normalize(text)


class Text(_Normalized):
    pass


class Kana(_Normalized):
    def normalize(self, text: str) -> str:
        return validation.normalize_kana(text)


class Phone(_Normalized):
    def normalize(self, text: str) -> str:
        return validation.normalize_phone(text)


class PostalCode(_Normalized):
    def normalize(self, text: str) -> str:
        return validation.normalize_postal_code(text)


class DistrictField(_Normalized):
    """Takes a district's id or Japanese name; stores its id."""

    def normalize(self, text: str) -> str:
        district = municipality.load().district(validation.normalize(text))
        if district is None:
            raise ValidationError("Unknown district.")
        return district.id


class ApplicantSchema(Schema):
    family_name = Text(required=True, validate=validate.Length(1, 30))
    given_name = Text(required=True, validate=validate.Length(1, 30))
    family_name_kana = Kana(required=True, validate=validate.Length(1, 40))
    given_name_kana = Kana(required=True, validate=validate.Length(1, 40))
    birth_date = validation.Day(required=True)

    @validates("birth_date")
    def not_in_future(self, value: dt.date, **kwargs: Any) -> None:
        if value > clock.today():
            raise ValidationError("Must not be in the future.")


class AddressSchema(Schema):
    postal_code = PostalCode(required=True)

    @validates("postal_code")
    def in_the_municipality(self, value: str, **kwargs: Any) -> None:
        if not municipality.load().lives_here(value):
            raise ValidationError(eligibility.OUTSIDE_CITY)

    district = DistrictField(required=True)
    line = Text(required=True, validate=validate.Length(1, 100))


class PreferenceInputSchema(Schema):
    date = validation.Day(required=True)
    period = fields.Str(load_default="any", validate=validate.OneOf(PERIODS))

    @validates("date")
    def on_a_working_day(self, value: dt.date, **kwargs: Any) -> None:
        if value < clock.today():
            raise ValidationError("Must be today or later.")
        if not workcalendar.is_working_day(value, municipality.load().calendar):
            raise ValidationError("Not a working day of the city office.")


class VenueField(fields.Str):
    """Takes a venue's id or Japanese name (a community hall); stores its id."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        venue = municipality.load().venue(validation.normalize(text))
        if venue is None:
            raise ValidationError("Unknown venue.")
        return venue.id


GROUP_MINIMUM = 5


class HouseholdSchema(Schema):
    applicants = fields.List(fields.Nested(ApplicantSchema), required=True, validate=validate.Length(1, 10))
    # A group session at a community hall instead of a home visit; the address is the organiser's.
    venue = VenueField(load_default=None, allow_none=True)
    address = fields.Nested(AddressSchema, required=True)
    phone = Phone(required=True)
    email = fields.Email(load_default=None, allow_none=True, validate=validate.Length(max=254))
    preferred = fields.List(fields.Nested(PreferenceInputSchema), load_default=list, validate=validate.Length(0, 10))
    needs = fields.Str(load_default="", validate=validate.Length(0, 500))
    # The answers to the questions before the public form (shared.eligibility); staff on the phone
    # and liaisons judge these in conversation and may leave them out.
    eligibility = fields.Nested(eligibility.EligibilitySchema, load_default=None, allow_none=True)

    @validates_schema
    def a_group_at_a_venue(self, data: dict, **kwargs: Any) -> None:
        if data.get("venue") and len(data.get("applicants") or []) < GROUP_MINIMUM:
            raise ValidationError("A group session needs 5 or more people.", "venue")

    @validates_schema
    def a_guardian_for_a_child(self, data: dict, **kwargs: Any) -> None:
        answers, applicants = data.get("eligibility"), data.get("applicants") or []
        if answers is None or answers.get("guardian_present") is True:
            return
        if needs_guardian([a["birth_date"] for a in applicants if "birth_date" in a]):
            raise ValidationError(eligibility.NO_GUARDIAN, "eligibility.guardian_present")


def age_on(birth: dt.date, day: dt.date) -> int:
    """Whole years on `day` (a birthday counts on the day itself)."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def needs_guardian(birth_dates: list[dt.date], on: dt.date | None = None) -> bool:
    """Whether an applicant is under the guardian age (today, or on `on`, the visit day)."""
    limit = municipality.load().eligibility.guardian_under_age
    day = on or clock.today()
    return any(age_on(birth, day) < limit for birth in birth_dates)


def household_json(household: dict) -> dict:
    """The validated household as plain JSON types (for events and documents)."""
    return {
        **household,
        "applicants": [{**a, "birth_date": a["birth_date"].isoformat()} for a in household["applicants"]],
        "preferred": [{"date": p["date"].isoformat(), "period": p["period"]} for p in household["preferred"]],
    }


class ConsentMixin(Schema):
    consent = fields.Bool(required=True)

    @validates("consent")
    def given(self, value: bool, **kwargs: Any) -> None:
        if value is not True:
            raise ValidationError("Consent is required.")
