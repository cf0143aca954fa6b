"""Who the car is for, as the municipality's configuration says (`eligibility:`): a resident who
cannot easily come to the counter, has a place for the car to stop, is not moving away soon, and
brings a guardian for an applicant under the guardian age.

The public form asks these one at a time; booking checks the answers again with this schema, so a
request that skips the page is held to the same rules. The answers are stored as codes."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates

from shared import municipality

NO_REASON = "Give at least one reason why coming to the counter is difficult."
UNKNOWN_REASON = "Unknown reason code."
NO_PARKING = "The car needs a place to stop near the home."
MOVING_SOON = "A move is planned soon: apply at the new address instead."
NO_GUARDIAN = "An applicant under 15 needs a guardian present at the visit."
OUTSIDE_CITY = "This postal code is not in the municipality."


class EligibilitySchema(Schema):
    """The answers of the questions before the form. `guardian_present` is checked against the
    applicants' ages by the household (shared.household)."""

    reasons = fields.List(fields.Str(validate=validate.Length(1, 40)), required=True, validate=validate.Length(0, 10))
    parking = fields.Bool(required=True)
    moving_soon = fields.Bool(required=True)
    guardian_present = fields.Bool(load_default=None, allow_none=True)

    @validates("reasons")
    def known_reasons(self, value: list[str], **_: Any) -> None:
        rules = municipality.load().eligibility
        if not value and rules.reasons:
            raise ValidationError(NO_REASON)
        if any(rules.reason(code) is None for code in value):
            raise ValidationError(UNKNOWN_REASON)

    @validates("parking")
    def has_parking(self, value: bool, **_: Any) -> None:
        if not value:
            raise ValidationError(NO_PARKING)

    @validates("moving_soon")
    def not_moving(self, value: bool, **_: Any) -> None:
        if value:
            raise ValidationError(MOVING_SOON)


def stored(answers: dict | None) -> dict | None:
    """What a booking keeps and its event carries: codes and yes/no, nothing typed freely."""
    if answers is None:
        return None
    return {
        "reasons": sorted(set(answers["reasons"])),
        "parking": answers["parking"],
        "moving_soon": answers["moving_soon"],
        "guardian_present": answers.get("guardian_present"),
    }
