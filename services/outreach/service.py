"""Outreach: follows every channel's referrals and the bookings, visits and people that came of
them. Channels are separate services; a new one needs no change here."""

from __future__ import annotations

from marshmallow import ValidationError
from nameko.web.handlers import http
from prometheus_client import Counter
from werkzeug.wrappers import Request, Response

from services.outreach import funnel
from services.outreach.api import OPENAPI
from services.outreach.schemas import PeriodSchema
from shared import clock, events, municipality
from shared.auth import Staff, staff
from shared.db import Mongo
from shared.delivery import reliable_queue
from shared.handlers import on
from shared.http import api, json_response, load_query
from shared.metrics import PREFIX, registry_for
from shared.operations import Operations
from shared.outbox import channel_exchange

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

    db = Mongo(indexes={"funnel": [("booked_at", {})], "referrals": [("received_at", {})]})

    @on(events.REFERRAL_RECEIVED, queue=REFERRALS_QUEUE)
    def on_referral(self, event: events.Event) -> None:
        funnel.record_referral(self.db, event)
        referrals_received.labels(event.payload["channel"]).inc()

    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        funnel.record_booking(self.db, event)

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        funnel.record_slot(self.db, event)

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        funnel.record_visit(self.db, event)

    @http("GET", "/api/v1/funnel")
    @api
    @staff("manager")
    def get_funnel(self, request: Request, staff: Staff) -> Response:
        period = load_query(request, PeriodSchema)
        today = clock.today()
        last = period["to"] or today
        first = period["from_"] or last.replace(day=1)
        if first > last:
            raise ValidationError({"from": ["Must be on or before 'to'."]})
        return json_response(funnel.figures(self.db, first, last, municipality.load().timezone))

    @http("GET", "/api/v1/channels")
    @api
    @staff("manager")
    def list_channels(self, request: Request, staff: Staff) -> Response:
        seen = set(self.db.funnel.distinct("channel")) | set(self.db.referrals.distinct("channel"))
        return json_response({"channels": sorted(c for c in seen if c)})
