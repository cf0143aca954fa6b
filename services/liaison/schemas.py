"""What the liaison channel API accepts."""

from marshmallow import Schema, fields, validate

from shared.household import ConsentMixin, DistrictField, HouseholdSchema, Phone, Text

LIAISON_ID = validate.Regexp(r"^[A-Za-z0-9_-]{1,40}$")


class ReferralRequestSchema(HouseholdSchema, ConsentMixin):
    """The liaison is the signed-in one (the token's liaison_id), never a field: no referring for others."""

    community_hall = fields.Str(load_default="", validate=validate.Length(0, 60))


class ReferralQuery(Schema):
    """A liaison sees their own referrals (the default); a manager may name any liaison, or none for all."""

    liaison_id = fields.Str(load_default=None, validate=LIAISON_ID)


class ShortReferralSchema(ConsentMixin):
    """A community-hall chair's referral: who, how to reach them and where; reception phones the
    neighbour and completes the household. `memo`: what the chair wants reception to know."""

    name = Text(required=True, validate=validate.Length(1, 40))
    phone = Phone(required=True)
    district = DistrictField(required=True)
    memo = fields.Str(load_default="", validate=validate.Length(0, 200))
    session_id = fields.Str(
        load_default=None,
        allow_none=True,
        validate=validate.Length(1, 64),
        metadata={"description": "A hall session the neighbour would like to join (GET /api/v1/hall-sessions)"},
    )


class ChairSchema(Schema):
    """A chair as reception or a manager registers them."""

    name = Text(required=True, validate=validate.Length(1, 40))
    email = fields.Email(required=True, validate=validate.Length(3, 120))
    community_hall = Text(required=True, validate=validate.Length(1, 60))
    district = DistrictField(required=True)


class ChairLinkSchema(Schema):
    email = fields.Email(required=True, validate=validate.Length(3, 120))


class ChairSessionSchema(Schema):
    token = fields.Str(required=True, validate=validate.Length(20, 100))
