"""Booking: takes requests from residents, reception staff and outreach channels."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from marshmallow import ValidationError
from nameko.rpc import RpcProxy
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from services.booking import api, bookings, choices, links, references, rpc_args, seats, short_referrals
from services.booking import metrics as m
from services.booking.api import OPENAPI
from services.booking.schemas import (
    AuditQuery,
    BookingQuery,
    BookingRequestSchema,
    CancelSchema,
    CloseReferralSchema,
    CodeExchangeSchema,
    PickSchema,
    PreferSchema,
    ResidentCancelSchema,
)
from shared import audit, clock, events, municipality, referral_seal, rpc_identity, sealing, settings
from shared.auth import Staff
from shared.db import Mongo, is_duplicate_key
from shared.delivery import reliable_queue, rpc
from shared.handlers import on
from shared.household import HouseholdSchema
from shared.http import conflict, invalid_field, json_response, load_body, load_query, not_found, screen_and_load
from shared.operations import Operations
from shared.outbox import OutboxRelay, channel_exchange
from shared.public import public
from shared.routes import route
from shared.validation import is_booking_id, normalize_phone, schema_instance

log = logging.getLogger(__name__)

RETENTION_CHECK_SECONDS = 3600
AUDIT_CHECK_SECONDS = 3600

REFERRALS_QUEUE = reliable_queue("booking.referrals", channel_exchange(), "referral.#")


class BookingService(Operations):
    name = "booking"
    openapi = OPENAPI

    db = Mongo(
        indexes={
            "audit": audit.INDEXES,
            "short_referrals": short_referrals.INDEXES,
            "bookings": [
                *references.INDEXES,
                ("referral_id", {"unique": True, "sparse": True}),
                ("created_at", {}),
                ("phone_hash", {}),
                ("visited_at", {"sparse": True}),
                ("cancelled_at", {"sparse": True}),
            ],
        }
    )
    outbox = OutboxRelay("bookings", "short_referrals")
    scheduling = RpcProxy("scheduling")  # the resident's choices of date (choices.py)

    @route(api.POST_BOOKINGS)
    @public("bookings", on_refused=lambda reason: m.public_refused.labels(reason).inc())
    def create_booking(self, request: Request, caller: Staff | None) -> Response:
        try:
            household = load_body(request, BookingRequestSchema)
        except ValidationError as error:
            if "website" in error.messages:
                m.public_refused.labels("honeypot").inc()
            raise
        channel = household.pop("channel")
        household.pop("consent"), household.pop("website")
        referral_id, session_id = household.pop("referral_id"), household.pop("session_id")
        is_reception = caller is not None and caller.has("reception")
        if session_id is not None and not is_reception:
            raise invalid_field(
                "session_id",
                "Only reception signs households up to a session.",
                "会（集団申請）への申込は、受付でお受けします。",
            )
        if caller is None and channel != "web":
            # The public door is the web channel's: a phone or a channel's booking comes from staff.
            raise invalid_field(
                "channel",
                "The public form books for the web channel only.",
                "インターネットからの申込のみ受け付けます。",
            )
        if household["eligibility"] is None and not is_reception:
            # The public door asks who the car is for; only staff on the phone judge it in conversation.
            raise invalid_field("eligibility", "Missing data for required field.", "必須項目です。")
        if referral_id is not None:
            # Reception completing a channel's short referral: the booking is the channel's.
            waiting = short_referrals.claim(self.db, referral_id) if is_reception else None
            if waiting is None:
                raise invalid_field(
                    "referral_id",
                    "No referral waiting to be completed has this id.",
                    "入力を待っている紹介が見つかりません（すでに入力済みかもしれません）。",
                )
            channel = waiting["channel"]
        booking_id = bookings.new_id()
        session = self._seat(session_id, booking_id, household, referral_id) if session_id else None
        try:
            booking = self._store(
                household, channel, referral_id=referral_id, session_id=session_id, booking_id=booking_id
            )
        except Exception as error:
            if session_id is not None:
                seats.give_back(self.scheduling, session_id, booking_id)
            if referral_id is None:
                raise
            if not is_duplicate_key(error):
                short_referrals.release(self.db, referral_id)
                raise
            # Booked already (a crash before it was marked): mark it now, and say so.
            existing = self.db.bookings.find_one({"referral_id": referral_id}, {"_id": 1})
            short_referrals.complete(self.db, referral_id, existing["_id"] if existing else "")
            raise conflict(
                "referral_completed", "This referral already has a booking.", "この紹介はすでに申込になっています。"
            ) from None
        if referral_id is not None:
            short_referrals.complete(self.db, referral_id, booking["_id"])
        extra = {}
        if is_reception:
            # On the phone, reception learns of the household's other open bookings (a repeat?);
            # the public form never tells anyone what else a phone number has booked.
            extra["open_bookings"] = self._open_bookings(booking, caller)
        return json_response(
            {
                **extra,
                "booking_id": booking["_id"],
                "reference": booking["reference"],
                "status": booking["status"],
                # The booker's own page: the link for a browser, the code to read out on the phone.
                "link": {"token": links.token_for(booking["_id"]), "code": links.phone_code(booking["_id"])},
                "message": bookings.received_message(booking["reference"], session),
            },
            status=201,
        )

    @route(api.GET_BOOKINGS)
    def find_bookings(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, BookingQuery)
        phone_hash = sealing.keyring().lookup_hash(normalize_phone(query["phone"]))
        found = list(
            self.db.bookings.find({"phone_hash": phone_hash}, {"outbox": 0})
            .sort("created_at", -1)
            .limit(query["limit"])
        )
        audit.record(self.db, audit.actor(staff, "find bookings by phone"), "search", [b["_id"] for b in found])
        # A neighbour a chair referred may phone in first: their referral waits under this number.
        referred = short_referrals.waiting_for_phone(self.db, phone_hash)
        if referred:
            audit.record(self.db, audit.actor(staff, "find referrals by phone"), "read", [r["_id"] for r in referred])
        return json_response(
            {
                "bookings": [bookings.public_view(b) for b in found],
                "referrals_waiting": [short_referrals.view(r) for r in referred],
            }
        )

    @route(api.GET_BOOKING)
    def get_booking(self, request: Request, booking_id: str, staff: Staff) -> Response:
        booking = self.db.bookings.find_one({"_id": booking_id}, {"outbox": 0})
        if booking is None:
            raise not_found("booking")
        audit.record(self.db, audit.actor(staff, "booking"), "read", [booking_id])
        return json_response(bookings.public_view(booking))

    @route(api.POST_BOOKING_CANCEL)
    def cancel_booking(self, request: Request, booking_id: str, staff: Staff) -> Response:
        data = load_body(request, CancelSchema) if request.get_data() else schema_instance(CancelSchema).load({})
        booking, cancelled_now = bookings.cancel(self.db, booking_id, data["reason"])
        if booking is None:
            raise not_found("booking")
        audit.record(self.db, audit.actor(staff, f"cancel ({data['reason']})"), "change", [booking_id])
        if cancelled_now:
            m.bookings_cancelled.labels(booking["channel"]).inc()
            self.outbox.kick("bookings", booking_id)
        return json_response(bookings.public_view(booking))

    # --- the resident's own page (links.py) ------------------------------------------------------

    @route(api.POST_LINKS)
    @public("links")
    def exchange_code(self, request: Request, caller: Staff | None) -> Response:
        """The reference and the code reception read out on the phone, for a link token."""
        data = load_body(request, CodeExchangeSchema)
        token = links.exchange_code(self.db, data["reference"], data["code"])
        return json_response({"token": token, "expires_in_days": links.link_days()})

    @route(api.GET_SELF)
    @public("self", own_page=True)
    @links.resident
    def own_booking(self, request: Request, caller: Staff | None, booking_id: str) -> Response:
        booking = self._own(booking_id, "read")
        return json_response(bookings.resident_view(booking))

    @route(api.POST_SELF_CANCEL)
    @public("self", own_page=True)
    @links.resident
    def cancel_own_booking(self, request: Request, caller: Staff | None, booking_id: str) -> Response:
        data = load_body(request, ResidentCancelSchema)
        booking, cancelled_now = bookings.cancel(self.db, booking_id, "resident_request", data["reason"])
        audit.record(self.db, links.ACTOR | {"purpose": f"cancel ({data['reason']})"}, "change", [booking_id])
        if cancelled_now:
            m.bookings_cancelled.labels(booking["channel"]).inc()
            self.outbox.kick("bookings", booking_id)
        return json_response(bookings.resident_view(booking))

    @route(api.GET_SELF_OFFERS)
    @public("self", own_page=True)
    @links.resident
    def own_offers(self, request: Request, caller: Staff | None, booking_id: str) -> Response:
        """The windows the resident may pick: waiting-list offers, and the best current ones."""
        self._own(booking_id, "read", "own offers")
        return json_response(choices.offers(self.scheduling, booking_id))

    @route(api.POST_SELF_SLOT)
    @public("self", own_page=True)
    @links.resident
    def pick_own_slot(self, request: Request, caller: Staff | None, booking_id: str) -> Response:
        choice = load_body(request, PickSchema)
        self._own(booking_id, "change", "pick a window")
        answer = choices.pick(self.scheduling, booking_id, choice)
        # The resident's page shows the window at once (slot_fixed confirms it moments later).
        bookings.note_slot(self.db, choices.slot_payload(booking_id, answer["visit"]), clock.now())
        return json_response(answer["visit"])

    @route(api.POST_SELF_DATES)
    @public("self", own_page=True)
    @links.resident
    def prefer_own_dates(self, request: Request, caller: Staff | None, booking_id: str) -> Response:
        wishes = load_body(request, PreferSchema)["preferred"]
        self._own(booking_id, "change", "ask for other days")
        choices.prefer(self.scheduling, booking_id, wishes)
        return json_response({"preferred": [{"date": w["date"].isoformat(), "period": w["period"]} for w in wishes]})

    @staticmethod
    def _refuse(method: str, answer: Any) -> Any:
        """A malformed RPC argument: counted and logged (without the argument), answered as nothing found."""
        m.rpc_refused.labels(method, "malformed").inc()
        log.warning("%s refused: malformed arguments", method)
        return answer

    def _own(self, booking_id: str, action: str, purpose: str = "own booking") -> dict:
        booking = self.db.bookings.find_one({"_id": booking_id}, {"outbox": 0})
        if booking is None or not booking.get("personal"):
            raise links.gone()  # erased after the retention period: nothing left to show
        audit.record(self.db, links.ACTOR | {"purpose": purpose}, action, [booking_id])
        return booking

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        bookings.note_slot(self.db, event.payload, event.occurred_at)

    @on(events.SLOT_RELEASED)
    def on_slot_released(self, event: events.Event) -> None:
        bookings.forget_slot(self.db, event.payload)

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        if event.payload["outcome"] in events.VISITED_OUTCOMES:
            bookings.mark_visited(self.db, event.payload["booking_id"], event.occurred_at)

    @timer(interval=AUDIT_CHECK_SECONDS, eager=True)  # at start too: a restart is no blind hour
    def check_audit_chain(self) -> None:
        """Walks the audit log's chain (shared.audit) so that tampering raises an alert, not only a
        finding when someone thinks to run the operator's check."""
        checked, broken = audit.check(self.db)
        m.audit_chain_broken.set(1 if broken else 0)
        if broken:
            log.error("audit chain broken after %d entries in order: %s", checked, broken)
        last = audit.newest(self.db)
        if last is not None:
            m.audit_last_seq.set(last[0])
            # Shipped with the logs, out of the database's reach: `verify --checkpoint SEQ:MAC`.
            log.info("audit checkpoint %d:%s", *last)

    @timer(interval=RETENTION_CHECK_SECONDS)
    def erase_expired(self) -> None:
        """Retention: personal data goes RETENTION_DAYS after the visit or the cancellation."""
        now = clock.now()
        cutoff = now - dt.timedelta(days=settings.retention_days())
        erased = bookings.erase_expired(self.db, cutoff, now)
        if erased:
            m.personal_data_erased.inc(erased)
            log.info("retention: erased the personal data of %d bookings", erased)
        closed = short_referrals.erase_closed(self.db, cutoff)
        if closed:
            log.info("retention: erased %d short referrals closed without a booking", closed)

    @rpc
    def get_contact(self, booking_id: str, identity: dict) -> dict | None:
        """Contact details for notification, asked at the moment of sending so that events never
        carry them. Notification speaks for itself (a signed assertion naming this booking), and
        the read is recorded."""
        if not is_booking_id(booking_id):
            return self._refuse("get_contact", None)
        asker = self._asker("get_contact", identity, [booking_id], services=("notification",))
        if asker is None:
            return None
        booking = self.db.bookings.find_one({"_id": booking_id}, {"outbox": 0})
        found = bookings.message_contact(booking) if booking else None
        if found is not None:
            audit.record(self.db, asker.as_actor(), "read", [booking_id])
        return found

    @rpc
    def existing_bookings(self, booking_ids: list[str]) -> list[str]:
        """Which of these bookings are stored and still open (ids only, no personal data): scheduling
        keeps a hall-session seat for one whose event has not arrived yet, and gives back the others'."""
        if not rpc_args.booking_ids_ok(booking_ids):
            return self._refuse("existing_bookings", [])
        found = self.db.bookings.find({"_id": {"$in": list(booking_ids)}, "status": "received"}, {"_id": 1})
        return [b["_id"] for b in found]

    @rpc
    def keep_visit_note(self, booking_id: str, visit_id: str, result_id: str, note: str, identity: dict) -> dict:
        """The crew's free-text note of a visit, kept sealed with the household (scheduling holds no
        keys); `identity` carries the crew member's token, and the change is recorded."""
        if not rpc_args.note_ok(booking_id, visit_id, result_id, note):
            return self._refuse("keep_visit_note", {"result": "refused"})
        asker = self._asker("keep_visit_note", identity, [booking_id], staff_roles=("crew", "reception", "manager"))
        if asker is None:
            return {"result": "refused"}
        kept = bookings.keep_visit_note(self.db, booking_id, visit_id, result_id, note)
        if kept == "kept":
            audit.record(self.db, asker.as_actor(), "change", [booking_id])
        return {"result": kept}

    @rpc
    def get_contacts(self, booking_ids: list[str], identity: dict, details: bool = False) -> dict[str, dict]:
        """Contacts for a screen a staff member looks at (a crew's day sheet, the call list): the
        identity carries their token, and the read is recorded under them. `details` adds what the
        crew needs at the door (bookings.visit_details)."""
        if not rpc_args.booking_ids_ok(booking_ids) or not isinstance(details, bool):
            return self._refuse("get_contacts", {})
        asker = self._asker("get_contacts", identity, booking_ids, staff_roles=("reception", "crew", "manager"))
        if asker is None:
            return {}
        contacts = {}
        describe = bookings.visit_details if details else bookings.contact
        for booking in self.db.bookings.find({"_id": {"$in": list(booking_ids)}}, {"outbox": 0}):
            reachable = describe(booking)
            if reachable is not None:  # erased bookings have none to give
                contacts[booking["_id"]] = reachable
        audit.record(self.db, asker.as_actor(), "read", sorted(contacts))
        return contacts

    def _asker(
        self,
        method: str,
        identity: Any,
        booking_ids: list[str],
        staff_roles: tuple[str, ...] = (),
        services: tuple[str, ...] = (),
    ) -> rpc_identity.Asker | None:
        """Who asks, verified; None (counted, logged without the identity) when no one valid does."""
        try:
            return rpc_identity.verify(identity, "booking", booking_ids, staff_roles, services)
        except rpc_identity.Refused as refused:
            m.rpc_refused.labels(method, refused.reason).inc()
            log.warning("%s refused: %s", method, refused.reason)
            return None

    @route(api.GET_AUDIT)
    def audit_log(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, AuditQuery)
        match: dict[str, Any] = {}
        if query["booking_id"]:
            match["booking_ids"] = query["booking_id"]
        if query["subject"]:
            match["subject"] = query["subject"]
        period = clock.local_day_range(query["from_"], query["to"])
        if period:
            match["at"] = period
        found = self.db.audit.find(match).sort("at", -1).limit(query["limit"])
        return json_response({"entries": [audit.view(entry) for entry in found]})

    @route(api.GET_SHORT_REFERRALS)
    def list_short_referrals(self, request: Request, staff: Staff) -> Response:
        """Channels' short referrals reception has still to phone and complete, longest waiting first."""
        found = short_referrals.waiting(self.db)
        audit.record(self.db, audit.actor(staff, "short referrals to complete"), "read", [r["_id"] for r in found])
        return json_response({"referrals": [short_referrals.view(r) for r in found]})

    @route(api.POST_SHORT_REFERRAL_CLOSE)
    def close_short_referral(self, request: Request, referral_id: str, staff: Staff) -> Response:
        """The neighbour declined, or could not be reached: closed with a reason the channel hears."""
        reason = load_body(request, CloseReferralSchema)["reason"]
        closed = short_referrals.close(self.db, referral_id, reason)
        if closed is None:
            raise not_found("referral waiting to be completed")
        self.outbox.kick("short_referrals", referral_id, closed["outbox"])
        return json_response({"referral_id": referral_id, "status": closed["status"], "reason": reason})

    @on(events.REFERRAL_RECEIVED, queue=REFERRALS_QUEUE)
    def on_referral(self, event: events.Event) -> None:
        """A referral from any outreach channel becomes a booking with that channel."""
        referral = event.payload
        channel = referral["channel"]
        try:
            opened = referral_seal.open_sealed(sealing.keyring(), referral["sealed_household"], referral["referral_id"])
        except sealing.SealError as error:
            m.referrals_rejected.labels(channel).inc()
            raise events.InvalidEvent(f"referral household: {error}") from None
        if referral["form"] == "short":  # reception completes it on the phone (short_referrals.py)
            try:
                if short_referrals.receive(self.db, referral, opened):
                    log.info("short referral %s from %s waits for reception", referral["referral_id"], channel)
            except short_referrals.InvalidShortReferral as error:
                m.referrals_rejected.labels(channel).inc()
                raise events.InvalidEvent(f"short referral: {error}") from None
            return
        try:
            household = screen_and_load(HouseholdSchema, opened)
        except ValidationError as error:
            m.referrals_rejected.labels(channel).inc()
            # A contract breach by the channel: parked in the dead-letter queue for an operator.
            raise events.InvalidEvent(f"referral household: bad fields {sorted(error.messages)}") from None
        try:
            self._store(household, channel, referral_id=referral["referral_id"])
        except Exception as error:
            if not is_duplicate_key(error):
                raise
            log.info("referral %s already booked", referral["referral_id"])

    def _seat(self, session_id: str, booking_id: str, household: dict, referral_id: str | None) -> dict:
        """The hall session's seat for the household, taken before the booking is stored."""
        try:
            return seats.take(self.scheduling, session_id, booking_id, len(household["applicants"]))
        except Exception:
            if referral_id is not None:  # the referral waits to be completed again
                short_referrals.release(self.db, referral_id)
            raise

    def _open_bookings(self, booking: dict, caller: Staff) -> list[dict]:
        others = list(
            self.db.bookings.find(
                {"phone_hash": booking["phone_hash"], "status": "received", "_id": {"$ne": booking["_id"]}},
                {"reference": 1, "created_at": 1, "channel": 1},
            ).sort("created_at", -1)
        )
        audit.record(self.db, audit.actor(caller, "repeat check on booking"), "search", [b["_id"] for b in others])
        return [
            {
                "booking_id": b["_id"],
                "reference": b["reference"],
                "channel": b["channel"],
                "created_at": clock.iso(b["created_at"]),
            }
            for b in others
        ]

    def _store(self, household: dict, channel: str, **options: Any) -> dict[str, Any]:
        """Stores the booking (bookings.create's options: referral_id, session_id, booking_id)."""
        booking = bookings.create(self.db, household, channel, municipality.load().code, **options)
        m.bookings_received.labels(channel).inc()
        m.persons_requested.labels(channel).inc(len(household["applicants"]))
        self.outbox.kick("bookings", booking["_id"], booking["outbox"])
        log.info("booking %s received from %s", booking["_id"], channel)
        return booking
