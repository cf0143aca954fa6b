"""Outreach: follows every channel's referrals and the bookings, visits and people that came of
them. Channels are separate services; a new one needs no change here."""

from __future__ import annotations

from marshmallow import ValidationError
from prometheus_client import Counter
from werkzeug.wrappers import Request, Response

from services.outreach import api, funnel, report, report_files
from services.outreach.api import OPENAPI
from services.outreach.schemas import PeriodSchema, ReportQuerySchema
from shared import clock, events, municipality
from shared.auth import Staff
from shared.db import Mongo
from shared.delivery import reliable_queue
from shared.handlers import on
from shared.http import json_response, load_query
from shared.metrics import PREFIX, registry_for
from shared.operations import Operations
from shared.outbox import channel_exchange
from shared.routes import route
from shared.workcalendar import fiscal_year

REFERRALS_QUEUE = reliable_queue("outreach.referrals", channel_exchange(), "referral.#")

referrals_received = Counter(
    PREFIX + "referrals_received_total",
    "Referrals from outreach channels, by channel.",
    ["channel"],
    registry=registry_for("outreach"),
)


class OutreachService(Operations):
    name = "outreach"
    openapi = OPENAPI

    db = Mongo(
        indexes={
            "funnel": [("booked_at", {}), ("cancelled_at", {}), ("recovered_at", {}), ("visit_days", {})],
            "referrals": [("received_at", {})],
        }
    )

    @on(events.REFERRAL_RECEIVED, queue=REFERRALS_QUEUE)
    def on_referral(self, event: events.Event) -> None:
        funnel.record_referral(self.db, event)
        referrals_received.labels(event.payload["channel"]).inc()

    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        funnel.record_booking(self.db, event)

    @on(events.REQUEST_CANCELLED)
    def on_request_cancelled(self, event: events.Event) -> None:
        funnel.record_cancellation(self.db, event)

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        funnel.record_slot(self.db, event)

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        funnel.record_visit(self.db, event)

    @route(api.GET_FUNNEL)
    def get_funnel(self, request: Request, staff: Staff) -> Response:
        period = load_query(request, PeriodSchema)
        today = clock.today()
        last = period["to"] or today
        first = period["from_"] or last.replace(day=1)
        if first > last:
            raise ValidationError({"from": ["Must be on or before 'to'."]})
        return json_response(funnel.figures(self.db, first, last, municipality.load().timezone))

    @route(api.GET_CHANNELS)
    def list_channels(self, request: Request, staff: Staff) -> Response:
        seen = set(self.db.funnel.distinct("channel")) | set(self.db.referrals.distinct("channel"))
        return json_response({"channels": sorted(c for c in seen if c)})

    # --- the progress report (担当者会) ---------------------------------------------------------

    def _report(self, request: Request) -> dict:
        query = load_query(request, ReportQuerySchema)
        today = clock.today()
        year = query["year"]
        if year is None:
            given = query["from_"] or query["to"]
            year = fiscal_year(given or today)
        period = report.period_of(year, query["from_"], query["to"], today)
        return report.build(self.db, period, municipality.load())

    @route(api.GET_REPORT)
    def get_report(self, request: Request, staff: Staff) -> Response:
        return json_response(self._report(request))

    @route(api.GET_REPORT_XLSX)
    def get_report_workbook(self, request: Request, staff: Staff) -> Response:
        figures = self._report(request)
        return _download(report_files.workbook(figures, municipality.load().name), figures, "xlsx")

    @route(api.GET_REPORT_PDF)
    def get_report_handout(self, request: Request, staff: Staff) -> Response:
        figures = self._report(request)
        today = clock.today()
        printed_on = f"{today.year}年{today.month}月{today.day}日"
        return _download(report_files.handout(figures, municipality.load().name, printed_on), figures, "pdf")


def _download(content: bytes, figures: dict, suffix: str) -> Response:
    mimetype = report_files.XLSX_TYPE if suffix == "xlsx" else report_files.PDF_TYPE
    name = report_files.file_name(figures, suffix)
    return Response(content, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})
