"""Notification: tells residents what happens (受付, 日時確定, after the visit) and plans the
day-of phone call. E-mail where the resident gave an address; otherwise a call or a letter."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from nameko.rpc import RpcProxy
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from services.notification import api, calltasks, messages, reminders, templates
from services.notification import metrics as m
from services.notification.api import OPENAPI
from services.notification.schemas import CallResult, CallTaskQuery, NotificationQuery, PhonedResult
from shared import clock, events, municipality, rpc_identity
from shared.auth import Staff, require_owner
from shared.contacts import ContactUnavailable, contact, contacts
from shared.db import Mongo
from shared.delivery import retry_delays
from shared.faults import crash_point
from shared.handlers import on
from shared.http import conflict, json_response, load_body, load_query, not_found
from shared.mail import Mailer
from shared.operations import Operations
from shared.outbox import OutboxRelay
from shared.routes import route

log = logging.getLogger(__name__)


RETRY_BATCH = 50  # messages per timer tick


class NotificationService(Operations):
    name = "notification"
    openapi = OPENAPI

    db = Mongo(
        indexes={
            "messages": [("booking_id", {}), ([("status", 1), ("next_attempt_at", 1)], {})],
            "call_tasks": [("date", {}), ("visit_id", {})],
        }
    )
    outbox = OutboxRelay("messages")
    booking = RpcProxy("booking")
    mailer = Mailer()

    # --- events -------------------------------------------------------------------------------

    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        self._notify("acknowledgement", event, {})

    @on(events.REQUEST_CANCELLED)
    def on_request_cancelled(self, event: events.Event) -> None:
        self._notify("cancellation", event, {})

    @on(events.SLOT_FIXED)
    def on_slot_fixed(self, event: events.Event) -> None:
        slot = event.payload
        if calltasks.create(self.db, slot, municipality.load()):
            m.call_tasks_created.inc()
        details = {
            "start": clock.iso(slot["start"]),
            "window_end": clock.iso(slot["window_end"]),
            "venue": slot.get("venue"),
        }
        self._notify("confirmation", event, details, occasion=f"{slot['start']:%Y%m%d%H%M}")

    @on(events.SLOT_OFFERED)
    def on_slot_offered(self, event: events.Event) -> None:
        """A freed window offered from the waiting list: the resident accepts on their own page."""
        offer = event.payload
        details = {
            "start": clock.iso(offer["start"]),
            "window_end": clock.iso(offer["window_end"]),
            "expires_at": clock.iso(offer["expires_at"]),
            "venue": offer.get("venue"),
        }
        self._notify("slot_offer", event, details, occasion=offer["offer_id"])

    @on(events.SLOT_RELEASED)
    def on_slot_released(self, event: events.Event) -> None:
        released = event.payload
        calltasks.cancel(self.db, released["visit_id"], released["start"])
        if released["reason"] == "session_cancelled":  # nobody else would tell them not to come
            details = {"start": released["start"].isoformat()}
            self._notify("session_cancelled", event, details, occasion=f"{released['visit_id']}-session")

    @on(events.VISIT_DONE)
    def on_visit_done(self, event: events.Event) -> None:
        done = event.payload
        self._notify(
            "after_visit", event, {"outcome": done["outcome"]}, occasion=f"{done['visit_id']}-{done['outcome']}"
        )

    @timer(interval=reminders.CHECK_SECONDS)
    def send_reminders(self) -> None:
        """The day-before notices that are due (reminders.py); each goes once per visit and date."""
        city = municipality.load()
        day = reminders.due_visit_day(clock.now(), city)
        if day is None:
            return
        for task in reminders.visits_on(self.db, day):
            start = clock.aware(task["visit_start"]).astimezone(city.timezone)
            window_end = task.get("window_end") or start + dt.timedelta(minutes=city.visits.window_minutes)
            details = {
                "start": clock.iso(start),
                "window_end": clock.iso(clock.aware(window_end)),
                "venue": task.get("venue"),
            }
            self._send("reminder", task["booking_id"], city.code, details, reminders.occasion(start))

    @timer(interval=5)
    def retry_due(self) -> None:
        """Sends again what failed (SMTP or booking away) or was left pending by a crash."""
        for _ in range(RETRY_BATCH):
            message = messages.lease_due(self.db)
            if message is None:
                return
            self._deliver(message)

    # --- HTTP ---------------------------------------------------------------------------------

    @route(api.GET_NOTIFICATIONS)
    def list_notifications(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, NotificationQuery)
        match = {key: query[key] for key in ("booking_id", "status") if query[key]}
        found = self.db.messages.find(match, {"outbox": 0}).sort("created_at", 1).limit(query["limit"])
        return json_response({"notifications": [messages.view(msg) for msg in found]})

    @route(api.POST_NOTIFICATION_PHONED)
    def record_phoned(self, request: Request, message_id: str, staff: Staff) -> Response:
        data = load_body(request, PhonedResult)
        message = self.db.messages.find_one({"_id": message_id}, {"outbox": 0})
        if message is None:
            raise not_found("message")
        if message["status"] not in messages.PHONEABLE:
            raise conflict(
                "not_to_call",
                f"The message is {message['status']}.",
                "このお知らせは電話の必要がありません（送信済みか、記録済みです）。",
            )
        return json_response(messages.view(messages.record_phoned(self.db, message_id, data["result"], staff.subject)))

    @route(api.GET_CALL_TASKS)
    def list_call_tasks(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, CallTaskQuery)
        match: dict[str, Any] = {"date": query["date"].isoformat()}
        if not staff.has("reception"):  # a crew lists its own calls only
            query["crew_id"] = query["crew_id"] or staff.crew_id
            require_owner(staff, query["crew_id"], "crew", ())
        if query["crew_id"]:
            match["crew_id"] = query["crew_id"]
        tasks = list(self.db.call_tasks.find(match).sort("call_by", 1))
        known = contacts(self.booking, [t["booking_id"] for t in tasks], rpc_identity.for_staff(request, "call list"))
        city = municipality.load()
        return json_response(
            {
                "date": query["date"].isoformat(),
                "contacts_available": known is not None,
                "call_tasks": [calltasks.view(t, (known or {}).get(t["booking_id"]), city) for t in tasks],
            }
        )

    @route(api.POST_CALL_TASK_RESULT)
    def record_call(self, request: Request, task_id: str, staff: Staff) -> Response:
        data = load_body(request, CallResult)
        task = self.db.call_tasks.find_one({"_id": task_id})
        if task is None:
            raise not_found("call task")
        require_owner(staff, task.get("crew_id"), "crew", ("reception",))
        self.db.call_tasks.update_one(
            {"_id": task_id}, {"$set": {"status": "done", "result": data["result"], "closed_at": clock.now()}}
        )
        task = self.db.call_tasks.find_one({"_id": task_id})
        return json_response(calltasks.view(task, None, municipality.load()))

    # --- sending ------------------------------------------------------------------------------

    def _notify(self, kind: str, event: events.Event, details: dict, occasion: str = "") -> None:
        self._send(kind, event.payload["booking_id"], event.municipality_code, details, occasion)

    def _send(self, kind: str, booking_id: str, municipality_code: str, details: dict, occasion: str = "") -> None:
        """Claims the message (once per kind, booking and occasion) and delivers it."""
        mid = messages.message_id(kind, booking_id, occasion)
        message = messages.claim(self.db, mid, kind, booking_id, municipality_code, details)
        if message is not None:
            self._deliver(message)

    def _deliver(self, message: dict) -> None:
        kind = message["kind"]
        try:
            on_its_own = rpc_identity.for_service(self.name, "booking", f"message {kind}", [message["booking_id"]])
            found = contact(self.booking, message["booking_id"], on_its_own)
            if found["email"]:
                self.mailer.send(found["email"], self._render(message, found), message["_id"])
                crash_point("notification.after_send")  # the fault suite's crash point
                status, channel = "sent", "email"
            else:
                status, channel = "to_call", "phone"  # staff phone the resident or post a letter
        except (ContactUnavailable, OSError) as error:
            delays = retry_delays(self.config, "MESSAGE_RETRY_DELAYS", messages.DEFAULT_RETRY_DELAYS)
            retry = messages.fail(self.db, message, type(error).__name__, delays)
            m.notifications.labels(kind, "email", "retrying" if retry else "failed").inc()
            log.warning("message %s not delivered (%s); retry: %s", message["_id"], type(error).__name__, retry)
            if not retry:
                self.outbox.kick("messages", message["_id"])
            return
        written = messages.finish(self.db, message, status, channel)
        m.notifications.labels(kind, channel, status).inc()
        self.outbox.kick("messages", message["_id"], written)
        log.info("message %s %s by %s", message["_id"], status, channel)

    def _render(self, message: dict, resident: dict) -> templates.Rendered:
        city, details = municipality.load(), message["details"]
        to = templates.Addressee(
            name=resident["name"],
            reference=resident["reference"],
            link_token=resident["link"]["token"],
            has_child=bool(resident.get("has_child")),
        )
        if message["kind"] == "acknowledgement":
            return templates.acknowledgement(to, city)
        if message["kind"] in ("confirmation", "reminder"):
            start = dt.datetime.fromisoformat(details["start"])
            venue = city.venue(details["venue"]) if details.get("venue") else None
            compose = templates.confirmation if message["kind"] == "confirmation" else templates.reminder
            return compose(to, start, dt.datetime.fromisoformat(details["window_end"]), city, venue)
        if message["kind"] == "slot_offer":
            return templates.slot_offer(
                to,
                dt.datetime.fromisoformat(details["start"]),
                dt.datetime.fromisoformat(details["window_end"]),
                dt.datetime.fromisoformat(details["expires_at"]),
                city,
            )
        if message["kind"] == "after_visit":
            return templates.after_visit(to, details["outcome"], city)
        if message["kind"] == "session_cancelled":
            return templates.session_cancelled(to, dt.datetime.fromisoformat(details["start"]), city)
        return templates.cancellation(to, city)
