"""Hall sessions' entrypoints (a mixin of SchedulingService): reception opens and lists sessions;
booking takes and gives back seats by RPC; the liaison channel lists the sessions a chair may refer
a neighbour for. The rules live in sessions.py and slots.open_session."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from services.scheduling import answers, api, sessions, slots, visits
from services.scheduling.locks import Busy
from services.scheduling.schemas import SessionQuerySchema, SessionRequestSchema
from shared import clock, municipality
from shared.asking import ask, passed
from shared.auth import Staff, require_owner
from shared.delivery import rpc
from shared.http import conflict, invalid_field, json_response, load_body, load_query, not_found
from shared.routes import route
from shared.validation import is_booking_id

log = logging.getLogger(__name__)


class HallSessionEntrypoints:
    db: Any  # scheduling's database (shared.db.Mongo), given by the service
    outbox: Any  # its outbox relay (shared.outbox.OutboxRelay)
    booking: Any  # booking's RPC proxy

    @rpc
    def take_session_seat(self, session_id: str, booking_id: str, persons: int, deadline: str) -> dict:
        """Seats a household in a hall session before booking stores it. Past `deadline` (booking
        stopped waiting) nothing is taken."""
        if passed(deadline) is not False:  # past, or naming no moment
            return {"result": "expired"}
        if not (isinstance(session_id, str) and is_booking_id(booking_id) and isinstance(persons, int)):
            return {"result": "unknown"}
        try:
            session = sessions.take_seat(self.db, session_id, booking_id, max(1, persons))
        except sessions.SeatRefused as refused:
            return {"result": refused.reason, "seats_left": refused.free}
        return {"result": "taken", "session": sessions.view(session, municipality.load())}

    @rpc
    def release_session_seat(self, session_id: str, booking_id: str) -> None:
        """A sign-up booking could not store gives its seat back."""
        if isinstance(session_id, str) and is_booking_id(booking_id):
            sessions.release_seat(self.db, session_id, booking_id)

    @rpc
    def open_sessions(self, district: str | None = None, days: int = 120) -> list[dict]:
        """Hall sessions still taking sign-ups, at the halls of one district or all (a community-hall
        chair's choice for a neighbour, through the liaison channel)."""
        city = municipality.load()
        first = clock.today()
        span = max(1, min(int(days) if isinstance(days, int) else 120, 366))
        views = (sessions.view(s, city) for s in sessions.in_range(self.db, first, first + dt.timedelta(days=span)))
        return [v for v in views if v["open_for_signups"] and v["seats_left"] > 0 and district in (None, v["district"])]

    @timer(interval=600)
    def release_unclaimed_seats(self) -> None:
        released = sessions.release_unclaimed(self.db, self._stored_bookings)
        if released:
            log.warning("%d hall-session seats given back: their bookings never arrived", released)

    # --- HTTP: reception ----------------------------------------------------------------------

    @route(api.POST_SESSIONS)
    def create_session(self, request: Request, staff: Staff) -> Response:
        data = load_body(request, SessionRequestSchema)
        city = municipality.load()
        crew = city.crew(data["crew_id"])
        if crew is None:
            raise invalid_field("crew_id", "Unknown crew.", "班が見つかりません。")
        most = sessions.most_persons(crew, data["start"], data["end"], city)
        if data["capacity"] > most:
            raise invalid_field(
                "capacity",
                f"More than the crew can help in that time: at most {most}.",
                f"この時間で対応できるのは{most}人までです（1人約{city.visits.minutes_per_person}分・"
                f"職員{len(crew.staff)}人）。定員を減らすか、終わりの時刻を遅くしてください。",
            )
        try:
            session = slots.open_session(
                self.db, data["venue"], data["crew_id"], data["start"], data["end"], data["capacity"], city
            )
        except slots.NotAWorkingTime:
            raise answers.not_a_working_time() from None
        except slots.CrewOff:
            raise answers.crew_off([]) from None
        except slots.DoesNotFit:
            raise answers.does_not_fit([]) from None
        except Busy:
            raise answers.busy() from None
        log.info("hall session %s opened at %s on %s", session["_id"], session["venue"], session["date"])
        return json_response(sessions.view(session, city), status=201)

    @route(api.GET_SESSIONS)
    def list_sessions(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, SessionQuerySchema)
        first = query["start"] or clock.today()
        found = sessions.in_range(self.db, first, first + dt.timedelta(days=query["days"] - 1), query["venue"])
        city = municipality.load()
        return json_response({"sessions": [sessions.view(s, city) for s in found]})

    @route(api.GET_SESSION)
    def get_session(self, request: Request, session_id: str, staff: Staff) -> Response:
        session = self.db.sessions.find_one({"_id": session_id})
        if session is None:
            raise not_found("session")
        require_owner(staff, session["crew_id"], "crew", ("reception",))
        city = municipality.load()
        # Those signed up now, and, once it is called off, those it sent back to waiting (their seats).
        seated = [seat["visit_id"] for seat in session["seats"] if seat.get("visit_id")]
        match = {"$or": [{"session_id": session_id}, {"_id": {"$in": seated}}]}
        members = self.db.visits.find(match, {"outbox": 0}).sort("reference", 1)
        return json_response({**sessions.view(session, city), "signups": [visits.view(v, city) for v in members]})

    @route(api.POST_SESSION_CANCEL)
    def cancel_session(self, request: Request, session_id: str, staff: Staff) -> Response:
        """Calls the session off: each household signed up waits for a home visit again and is told."""
        found = self.db.sessions.find_one({"_id": session_id})
        if found is None:
            raise not_found("session")
        if found["status"] == "open" and clock.aware(found["end"]) <= clock.now():
            raise conflict("session_over", "The session is over.", "この会はすでに終わっています。")
        session = sessions.cancel(self.db, session_id)
        moved = 0
        for visit in self.db.visits.find({"session_id": session_id, "status": "scheduled"}, {"outbox": 0}):
            if visits.leave_cancelled_session(self.db, visit):
                moved += 1
                self.outbox.kick("visits", visit["_id"])
        log.info("hall session %s cancelled; %d households wait for a home visit again", session_id, moved)
        return json_response({**sessions.view(session, municipality.load()), "households_moved": moved})

    def _stored_bookings(self, booking_ids: list[str]) -> set[str]:
        """Which bookings booking has stored; all of them while booking cannot say (nothing is given
        back on a guess)."""
        try:
            return set(ask(self.booking.existing_bookings, booking_ids))
        except Exception:  # booking away: keep every seat until the next round
            log.warning("booking did not say which sign-ups it stored; seats kept")
            return set(booking_ids)
