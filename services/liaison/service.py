"""The community-hall liaison channel (自治公民館長): a chairperson refers a resident who wants a
visit, with the resident's consent, and follows what became of the referral.

A channel is a small service of its own: it publishes `outreach.referral_received` to the shared
exchange `outreach.channels` with the routing key `referral.<channel>`, and nothing else in the
system changes when one is added. The household leaves this service's database as soon as the
broker has confirmed the referral (the outbox entry is the only copy)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from nameko.rpc import RpcProxy
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from services.liaison import api, chairs
from services.liaison.api import OPENAPI
from services.liaison.schemas import (
    ChairLinkSchema,
    ChairSchema,
    ChairSessionSchema,
    ReferralQuery,
    ReferralRequestSchema,
    ShortReferralSchema,
)
from shared import clock, events, sealing, settings
from shared.asking import ask
from shared.auth import Staff, forbidden, require_owner
from shared.db import Mongo
from shared.handlers import on
from shared.household import household_json
from shared.http import ApiError, invalid_field, json_response, load_body, load_query, not_found
from shared.mail import Mailer, Rendered
from shared.operations import Operations
from shared.outbox import OutboxRelay
from shared.public import public
from shared.referrals import referral_entry
from shared.routes import route

CHANNEL = "liaison"
log = logging.getLogger(__name__)
# Where a referral stands, in order; it only moves forward ("closed" is off this line).
STEPS = ("referred", "booked", "slot_fixed", "visited")
RETENTION_CHECK_SECONDS = 3600
SESSION_DAYS_AHEAD = 120  # hall sessions a chair may refer a neighbour for, in calendar days
STEP_DAYS = 30  # how long a booking's latest step is kept, waiting for its booking's own event


def _chair_caller(service: LiaisonChannelService, token: str) -> Staff | None:
    chair = chairs.chair_of_session(service.db, token)
    return chair.as_staff() if chair else None


# Chairs sign in with this channel's own sessions (services/liaison/chairs.py).
CHAIR = (chairs.SCHEME, _chair_caller)


def _view(referral: dict, with_name: bool = False) -> dict:
    """A referral as its referrer follows it. The neighbour's name only to the one who referred
    them (a chair's short referral keeps it sealed for that); never to a manager."""
    name = None
    if with_name and referral.get("sealed_name"):
        name = sealing.keyring().open(referral["sealed_name"], referral["_id"])["name"]
    return {
        "referral_id": referral["_id"],
        "liaison_id": referral["liaison_id"],
        "community_hall": referral["community_hall"],
        "status": referral["status"],
        "reference": referral.get("reference"),
        "created_at": clock.iso(referral["created_at"]),
        "name": name,
        "closed_reason": referral.get("closed_reason"),
    }


def sign_in_mail(chair: chairs.Chair, token: str) -> Rendered:
    link = f"{settings.public_base_url()}/chair/signin/{token}"
    return Rendered(
        subject="【マイナちゃんカー】公民館長用ページへのログイン",
        body=f"{chair.name} 様\n\n"
        f"{chair.community_hall}の公民館長用ページへのログインのご案内です。\n"
        f"次のリンクを開き、「ログインする」を押してください。\n\n{link}\n\n"
        f"このリンクは{chairs.LINK_MINUTES}分間、1回だけ使えます。"
        "お心当たりのない場合は、このメールを削除してください。\n",
    )


class LiaisonChannelService(Operations):
    name = "liaison"
    openapi = OPENAPI

    db = Mongo(
        indexes={
            "referrals": [("liaison_id", {}), ("booking_id", {"sparse": True})],
            "booking_steps": [("at", {"expireAfterSeconds": STEP_DAYS * 86400})],
            **chairs.INDEXES,
        }
    )
    outbox = OutboxRelay("referrals")
    mailer = Mailer()
    scheduling = RpcProxy("scheduling")  # hall sessions a neighbour may be referred for

    @route(api.POST_REFERRALS)
    def create_referral(self, request: Request, staff: Staff) -> Response:
        data = load_body(request, ReferralRequestSchema)
        if staff.liaison_id is None:
            raise forbidden()
        liaison_id, hall = staff.liaison_id, data.pop("community_hall")
        data.pop("consent")
        referral = self._refer(liaison_id, hall, household_json(data), "household")
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

    def _refer(self, liaison_id: str, hall: str, content: dict, form: str, keep_name: str | None = None) -> dict:
        """Stores a referral with its outreach.referral_received event (the household or the short
        form sealed to the referral id) and has the relay publish it."""
        referral_id = str(uuid.uuid4())
        referral = {
            "_id": referral_id,
            "liaison_id": liaison_id,
            "community_hall": hall,
            "status": "referred",
            "created_at": clock.now(),
            "outbox": [referral_entry(CHANNEL, referral_id, liaison_id, content, form)],
        }
        if keep_name is not None:
            referral["sealed_name"] = sealing.keyring().seal({"name": keep_name}, referral_id)
        self.db.referrals.insert_one(referral)
        self.outbox.kick("referrals", referral_id, referral["outbox"])
        return referral

    @timer(interval=RETENTION_CHECK_SECONDS)
    def erase_expired(self) -> None:
        """Retention: a neighbour's name, kept for the chair's list, goes RETENTION_DAYS after the
        visit or the closing; the status stays."""
        cutoff = clock.now() - dt.timedelta(days=settings.retention_days())
        erased = self.db.referrals.update_many(
            {"finished_at": {"$lt": cutoff}, "sealed_name": {"$ne": None}}, {"$set": {"sealed_name": None}}
        )
        if erased.modified_count:
            log.info("retention: erased %d referral names", erased.modified_count)

    @route(api.POST_REFERRALS_SHORT, other=CHAIR)
    def create_short_referral(self, request: Request, staff: Staff) -> Response:
        """A neighbour's name, phone and district, with their consent: reception completes the rest."""
        data = load_body(request, ShortReferralSchema)
        if staff.liaison_id is None:
            raise forbidden()
        chair = chairs.find(self.db, staff.liaison_id)
        hall = chair.community_hall if chair else ""
        if data["session_id"] and data["session_id"] not in {s["session_id"] for s in self._hall_sessions(chair)}:
            raise invalid_field(
                "session_id",
                "No session open for sign-ups has this id.",
                "この集団申請会には申し込めません（定員に達したか、締め切りました）。",
            )
        short = {key: data[key] for key in ("name", "phone", "district", "memo", "session_id")} | {
            "community_hall": hall
        }
        # For the chair's own list only, the name is kept, sealed to this referral (the phone is not).
        referral = self._refer(staff.liaison_id, hall, short, "short", keep_name=data["name"])
        return json_response(
            {
                **_view(referral, with_name=True),
                "message": {
                    "ja": "ご紹介を受け付けました。市の受付からご本人にお電話し、申込の内容をうかがいます。",
                    "en": "The referral is received. Reception will phone the resident to complete the request.",
                },
            },
            status=201,
        )

    @route(api.GET_HALL_SESSIONS, other=CHAIR)
    def hall_sessions(self, request: Request, staff: Staff) -> Response:
        chair = chairs.find(self.db, staff.liaison_id) if staff.liaison_id else None
        keys = ("session_id", "venue_name", "start", "end", "seats_left")
        return json_response({"sessions": [{k: s[k] for k in keys} for s in self._hall_sessions(chair)]})

    def _hall_sessions(self, chair: chairs.Chair | None) -> list[dict]:
        """Sessions open for sign-ups in the chair's district (any district for another liaison)."""
        return ask(self.scheduling.open_sessions, chair.district if chair else None, SESSION_DAYS_AHEAD)

    @route(api.GET_REFERRALS, other=CHAIR)
    def list_referrals(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, ReferralQuery)
        liaison_id = query["liaison_id"] or (None if staff.has("manager") else staff.liaison_id)
        require_owner(staff, liaison_id, "liaison", ("manager",))
        match = {"liaison_id": liaison_id} if liaison_id else {}
        found = self.db.referrals.find(match, {"outbox": 0}).sort("created_at", -1)
        own = staff.liaison_id is not None and liaison_id == staff.liaison_id
        return json_response({"referrals": [_view(r, with_name=own) for r in found]})

    # --- community-hall chairs: registered by the city, signed in by a link -----------------------

    @route(api.POST_CHAIRS)
    def register_chair(self, request: Request, staff: Staff) -> Response:
        data = load_body(request, ChairSchema)
        chair = chairs.register(self.db, data["name"], data["email"], data["community_hall"], data["district"])
        return json_response(chair.view(), status=201)

    @route(api.GET_CHAIRS)
    def list_chairs(self, request: Request, staff: Staff) -> Response:
        return json_response({"chairs": [chair.view() for chair in chairs.all_chairs(self.db)]})

    @route(api.POST_CHAIR_DISABLE)
    def disable_chair(self, request: Request, staff: Staff, chair_id: str) -> Response:
        chair = chairs.disable(self.db, chair_id)
        if chair is None:
            raise not_found("chair")
        return json_response(chair.view())

    @route(api.POST_CHAIR_LINKS)
    @public("chair-links")
    def send_chair_link(self, request: Request, caller: Staff | None) -> Response:
        """The same answer whether the address is registered or not: the form tells nobody who is."""
        email = load_body(request, ChairLinkSchema)["email"]
        issued = chairs.issue_link(self.db, email)
        if issued is not None:
            chair, token = issued
            # A message id of its own: the token must not reach the relay's logs in a header.
            message_id = f"chair-link-{uuid.uuid4()}"
            self.mailer.send_soon(
                chair.email, sign_in_mail(chair, token), message_id, f"sign-in link for {chair.chair_id}"
            )
        return json_response(
            {
                "message": {
                    "ja": "登録されているメールアドレスであれば、ログイン用のリンクを送りました。",
                    "en": "If the address is registered, a sign-in link has been sent to it.",
                }
            },
            status=202,
        )

    @route(api.POST_CHAIR_SESSIONS)
    @public("chair-links")
    def start_chair_session(self, request: Request, caller: Staff | None) -> Response:
        token = load_body(request, ChairSessionSchema)["token"]
        redeemed = chairs.redeem_link(self.db, token)
        if redeemed is None:
            raise ApiError(
                401,
                "link_invalid",
                "The sign-in link is used, expired or unknown.",
                "このリンクは使用済みか、期限が切れています。もう一度リンクを送ってください。",
            )
        chair, session_token, expires = redeemed
        return json_response(
            {
                "session_token": session_token,
                "expires_at": clock.iso(expires),
                "chair": {"chair_id": chair.chair_id, "name": chair.name, "community_hall": chair.community_hall},
            },
            status=201,
        )

    @route(api.POST_CHAIR_SIGNOUT, other=CHAIR)
    def end_chair_session(self, request: Request, staff: Staff) -> Response:
        chairs.end_session(self.db, request.headers.get("Authorization", "").partition(" ")[2].strip())
        return json_response({"ended": True})

    # What became of this channel's referrals, for the liaison's own list.
    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        request = event.payload
        if request["channel"] != CHANNEL or not request["referral_id"]:
            return
        booking_id = request["booking_id"]
        link = {"booking_id": booking_id, "reference": request["reference"]}
        self.db.referrals.update_one({"_id": request["referral_id"]}, {"$set": link})
        # Booked, unless a later step is already known: a redelivery never moves it back.
        self.db.referrals.update_one(
            {"_id": request["referral_id"], "status": "referred"}, {"$set": {"status": "booked"}}
        )
        step = self.db.booking_steps.find_one({"_id": booking_id})
        if step:  # the slot was fixed (or the visit done) before this event arrived
            self._advance(booking_id, STEPS[step["rank"]])

    @on(events.REFERRAL_CLOSED)
    def on_referral_closed(self, event: events.Event) -> None:
        closed = event.payload
        if closed["channel"] == CHANNEL:
            self.db.referrals.update_one(
                {"_id": closed["referral_id"], "status": "referred"},
                {"$set": {"status": "closed", "closed_reason": closed["reason"], "finished_at": clock.now()}},
            )

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        self._advance(event.payload["booking_id"], "slot_fixed")

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        if event.payload["outcome"] in events.VISITED_OUTCOMES:
            self._advance(event.payload["booking_id"], "visited")

    def _advance(self, booking_id: str, status: str) -> None:
        """Moves a referral forward only (events come in any order, and more than once). The step is
        also kept by booking id for a while (ids only), in case the booking's own event is late."""
        rank = STEPS.index(status)
        update = {"status": status, **({"finished_at": clock.now()} if status == STEPS[-1] else {})}
        self.db.referrals.update_one(
            {"booking_id": booking_id, "status": {"$in": list(STEPS[:rank])}}, {"$set": update}
        )
        self.db.booking_steps.update_one(
            {"_id": booking_id}, {"$max": {"rank": rank}, "$set": {"at": clock.now()}}, upsert=True
        )
