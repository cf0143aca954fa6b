"""What the liaison channel API accepts."""

from marshmallow import Schema, fields, validate

from shared.household import ConsentMixin, HouseholdSchema

LIAISON_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$")


class ReferralRequestSchema(HouseholdSchema, ConsentMixin):
    liaison_id = fields.Str(required=True, validate=LIAISON_ID)
    community_hall = fields.Str(load_default="", validate=validate.Length(0, 60))


class ReferralQuery(Schema):
    liaison_id = fields.Str(required=True, validate=LIAISON_ID)
