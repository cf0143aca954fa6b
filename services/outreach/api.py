"""Outreach's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.outreach.schemas import PeriodSchema, ReportQuerySchema
from shared.openapi import Operation, document, errors


class Outcomes(Schema):
    """What became of the bookings received in the period."""

    booked = fields.Int(required=True)
    slot_fixed = fields.Int(required=True)
    visited = fields.Int(required=True)
    persons_applied = fields.Int(required=True)
    slots_recovered = fields.Int(
        required=True, metadata={"description": "bookings whose slot was a window freed by another (キャンセル待ち)"}
    )


class Stages(Outcomes):
    referred = fields.Int(required=True)


class ChannelRow(Stages):
    channel = fields.Str(required=True)


class DistrictRow(Outcomes):
    district = fields.Str(required=True)


class Funnel(Schema):
    from_ = fields.Date(required=True, data_key="from")
    to = fields.Date(required=True)
    basis = fields.Str(required=True)
    total = fields.Nested(Stages, required=True)
    channels = fields.List(fields.Nested(ChannelRow), required=True)
    districts = fields.List(fields.Nested(DistrictRow), required=True)


class Waits(Schema):
    median_wait_days = fields.Float(
        required=True,
        allow_none=True,
        metadata={"description": "working days from the request to the first visit that met the household"},
    )
    longest_wait_days = fields.Int(required=True, allow_none=True)


class ReportCounts(Waits):
    requests = fields.Int(required=True, metadata={"description": "bookings received in the month"})
    visits = fields.Int(required=True, metadata={"description": "visits that met the household, by the visit's day"})
    persons_applied = fields.Int(required=True, metadata={"description": "people who applied, by the visit's day"})
    cancellations = fields.Int(required=True, metadata={"description": "bookings cancelled in the month"})
    slots_recovered = fields.Int(
        required=True, metadata={"description": "windows freed by another household and taken (キャンセル待ち)"}
    )


class ReportMonth(ReportCounts):
    month = fields.Str(required=True, metadata={"example": "2026-04"})


class ReportTotal(ReportCounts):
    target = fields.Int(required=True, allow_none=True, metadata={"description": "the sum of the districts' targets"})


class ReportChannel(ReportCounts):
    channel = fields.Str(required=True)
    months = fields.List(fields.Nested(ReportMonth), required=True)


class ReportDistrict(ReportCounts):
    district = fields.Str(required=True)
    name = fields.Str(required=True)
    group = fields.Int(required=True, allow_none=True, metadata={"description": "the district's target group"})
    target = fields.Int(required=True, allow_none=True, metadata={"description": "people to apply this 年度"})
    progress = fields.Float(
        required=True, allow_none=True, metadata={"description": "persons_applied in the months shown / target"}
    )
    months = fields.List(fields.Nested(ReportMonth), required=True)


class Report(Schema):
    fiscal_year = fields.Int(required=True, metadata={"description": "年度, named by the year it starts in"})
    from_ = fields.Str(required=True, data_key="from", metadata={"example": "2026-04"})
    to = fields.Str(required=True, metadata={"example": "2027-03"})
    basis = fields.Str(required=True)
    target_group = fields.Str(required=True)
    total = fields.Nested(ReportTotal, required=True)
    months = fields.List(fields.Nested(ReportMonth), required=True)
    channels = fields.List(fields.Nested(ReportChannel), required=True)
    districts = fields.List(fields.Nested(ReportDistrict), required=True)


class ChannelList(Schema):
    channels = fields.List(fields.Str(), required=True)


GET_FUNNEL = Operation(
    "GET",
    "/api/v1/funnel",
    "Referred, booked, slot fixed, visited and people applied, per channel and district, over a period "
    "(default: this month).",
    {200: Funnel, **errors(422)},
    query=PeriodSchema,
    tags=("reports",),
    roles=("manager",),
)

GET_CHANNELS = Operation(
    "GET",
    "/api/v1/channels",
    "The outreach channels seen so far.",
    {200: ChannelList},
    tags=("reports",),
    roles=("manager",),
)

OPERATIONS = [GET_FUNNEL, GET_CHANNELS]

REPORT_SUMMARY = (
    "The progress report for the 担当者会: monthly figures per channel and per district, and each district's "
    "progress against the 年度's target, for a 年度 (default: the running one) or some of its months"
)

GET_REPORT = Operation(
    "GET",
    "/api/v1/report",
    f"{REPORT_SUMMARY}.",
    {200: Report, **errors(422)},
    query=ReportQuerySchema,
    tags=("reports",),
    roles=("manager",),
)

GET_REPORT_XLSX = Operation(
    "GET",
    "/api/v1/report.xlsx",
    f"{REPORT_SUMMARY}, as an Excel workbook (one sheet per table, Japanese headers, numbers as numbers).",
    {200: "xlsx", **errors(422)},
    query=ReportQuerySchema,
    tags=("reports",),
    roles=("manager",),
)

GET_REPORT_PDF = Operation(
    "GET",
    "/api/v1/report.pdf",
    f"{REPORT_SUMMARY}, as an A4 PDF handout with its charts (Japanese fonts embedded).",
    {200: "pdf", **errors(422)},
    query=ReportQuerySchema,
    tags=("reports",),
    roles=("manager",),
)

OPERATIONS += [GET_REPORT, GET_REPORT_XLSX, GET_REPORT_PDF]

OPENAPI = document(
    "outreach",
    "Follows every outreach channel's referrals and what came of them. Channels are services of their own "
    "that publish to the outreach.channels exchange; a new one needs no change here.",
    OPERATIONS,
)
