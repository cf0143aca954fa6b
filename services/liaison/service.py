"""The community-hall liaison channel (自治公民館長): a chairperson refers a resident who wants a
visit, with the resident's consent, and follows what became of the referral.

A channel is a small service of its own: it publishes `outreach.referral_received` to the shared
exchange `outreach.channels` with the routing key `referral.<channel>`, and nothing else in the
system changes when one is added. The household leaves this service's database as soon as the
broker has confirmed the referral (the outbox entry is the only copy)."""

from __future__ import annotations

import uuid

from nameko.web.handlers import http
from werkzeug.wrappers import Request, Response

from services.liaison.api import OPENAPI
from services.liaison.schemas import ReferralQuery, ReferralRequestSchema
from shared import clock, events, municipality, outbox, sealing
from shared.auth import Staff, forbidden, require_owner, staff
from shared.db import Mongo
from shared.handlers import on
from shared.household import household_json
from shared.http import api, json_response, load_body, load_query
from shared.operations import Operations
from shared.outbox import OutboxRelay

CHANNEL = "liaison"


def _view(referral: dict) -> dict:
    return {
        "referral_id": referral["_id"],
        "liaison_id": referral["liaison_id"],
        "community_hall": referral["community_hall"],
        "status": referral["status"],
        "reference": referral.get("reference"),
        "created_at": clock.iso(referral["created_at"]),
    }


class LiaisonChannelService(Operations):
    name = "liaison"
    openapi = OPENAPI

    db = Mongo(indexes={"referrals": [("liaison_id", {}), ("booking_id", {"sparse": True})]})
    outbox = OutboxRelay("referrals")

    @http("POST", "/api/v1/referrals")
    @api
    @staff("liaison")
    def create_referral(self, request: Request, staff: Staff) -> Response:
        data = load_body(request, ReferralRequestSchema)
        if staff.liaison_id is None:
            raise forbidden()
        liaison_id, hall = staff.liaison_id, data.pop("community_hall")
        data.pop("consent")
        referral_id = str(uuid.uuid4())
        referral = {
            "_id": referral_id,
            "liaison_id": liaison_id,
            "community_hall": hall,
            "status": "referred",
            "created_at": clock.now(),
            "outbox": [
                outbox.event_entry(
                    events.REFERRAL_RECEIVED,
                    {
                        "referral_id": referral_id,
                        "channel": CHANNEL,
                        "referrer_id": liaison_id,
                        "sealed_household": sealing.keyring().seal(household_json(data), referral_id),
                    },
                    correlation_id=referral_id,
                    municipality_code=municipality.load().code,
                    routing_key=f"referral.{CHANNEL}",
                )
            ],
        }
        self.db.referrals.insert_one(referral)
        self.outbox.kick("referrals", referral_id, referral["outbox"])
        return json_response(
            {
                **_view(referral),
                "message": {
                    "ja": "ご紹介を受け付けました。市の担当者からご本人に連絡します。",
                    "en": "The referral is received. City staff will contact the resident.",
                },
            },
            status=201,
        )

    @http("GET", "/api/v1/referrals")
    @api
    @staff("liaison", "manager")
    def list_referrals(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, ReferralQuery)
        liaison_id = query["liaison_id"] or (None if staff.has("manager") else staff.liaison_id)
        require_owner(staff, liaison_id, "liaison", ("manager",))
        match = {"liaison_id": liaison_id} if liaison_id else {}
        found = self.db.referrals.find(match, {"outbox": 0}).sort("created_at", -1)
        return json_response({"referrals": [_view(r) for r in found]})

    # What became of this channel's referrals, for the liaison's own list.
    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        request = event.payload
        if request["channel"] == CHANNEL and request["referral_id"]:
            self.db.referrals.update_one(
                {"_id": request["referral_id"]},
                {"$set": {"status": "booked", "booking_id": request["booking_id"], "reference": request["reference"]}},
            )

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        self._advance(event.payload["booking_id"], "slot_fixed", ("booked",))

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        if event.payload["outcome"] in events.VISITED_OUTCOMES:
            self._advance(event.payload["booking_id"], "visited", ("booked", "slot_fixed"))

    def _advance(self, booking_id: str, status: str, after: tuple[str, ...]) -> None:
        self.db.referrals.update_one(
            {"booking_id": booking_id, "status": {"$in": list(after)}}, {"$set": {"status": status}}
        )
