"""What the liaison channel API accepts."""

from marshmallow import Schema, fields, validate

from shared.household import ConsentMixin, HouseholdSchema

LIAISON_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$")


class ReferralRequestSchema(HouseholdSchema, ConsentMixin):
    """The liaison is the signed-in one (the token's liaison_id), never a field: no referring for others."""

    community_hall = fields.Str(load_default="", validate=validate.Length(0, 60))


class ReferralQuery(Schema):
    """A liaison sees their own referrals (the default); a manager may name any liaison, or none for all."""

    liaison_id = fields.Str(load_default=None, validate=LIAISON_ID)
