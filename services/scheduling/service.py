"""Scheduling: turns requests into visits, offers and fixes slots, and gives each crew its day."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from nameko.rpc import RpcProxy
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from services.scheduling import (
    answers,
    api,
    campaign,
    daysheet,
    own_choices,
    planning,
    sessions,
    slots,
    solver,
    visits,
    waiting,
    waitlist,
)
from services.scheduling import metrics as m
from services.scheduling.api import OPENAPI
from services.scheduling.hall_session_entrypoints import HallSessionEntrypoints
from services.scheduling.locks import Busy
from services.scheduling.routes import CachedTravel
from services.scheduling.schemas import (
    FixSlotSchema,
    PlanRequestSchema,
    SuggestionQuerySchema,
    VisitQuerySchema,
    VisitResultSchema,
)
from services.scheduling.stall import stalled_working_days
from services.scheduling.travel import default_model
from shared import clock, events, municipality, rpc_identity, workcalendar
from shared.asking import ask
from shared.auth import Staff, require_owner
from shared.contacts import contacts
from shared.db import Mongo
from shared.delivery import rpc
from shared.handlers import on
from shared.http import ApiError, invalid_field, json_response, load_body, load_query, not_found
from shared.operations import Operations
from shared.outbox import OutboxRelay
from shared.routes import route
from shared.validation import is_booking_id

log = logging.getLogger(__name__)

NOTE_TIMEOUT_SECONDS = 5  # how long a result with a note waits for booking to keep the note


class SchedulingService(HallSessionEntrypoints, Operations):
    name = "scheduling"
    openapi = OPENAPI

    db = Mongo(
        indexes={
            "visits": [
                ("booking_id", {"unique": True}),
                ([("slot.crew_id", 1), ("slot.date", 1)], {}),
                # waiting visits oldest first: the visit list, batch plans and the stall gauge (every 15 s)
                ([("status", 1), ("requested_at", 1)], {}),
                ("slot.fixed_at", {}),  # the stall gauge's last fix
            ],
            "offers": waitlist.INDEXES,
            "sessions": sessions.INDEXES,
        }
    )
    outbox = OutboxRelay("visits", "offers")
    booking = RpcProxy("booking")

    # --- events -------------------------------------------------------------------------------

    @on(events.REQUEST_RECEIVED)
    def on_request_received(self, event: events.Event) -> None:
        visit = visits.create_from_request(self.db, event, municipality.load())
        if visit:
            log.info("visit %s created for booking %s", visit["_id"], visit["booking_id"])
            if visit.get("outbox"):  # fixed to a hall session (or told it was called off): out at once
                self.outbox.kick("visits", visit["_id"], visit["outbox"])

    @on(events.REQUEST_CANCELLED)
    def on_request_cancelled(self, event: events.Event) -> None:
        visit = visits.cancel(self.db, event.payload["booking_id"])
        if visit and visit.get("slot"):
            m.slots_released.labels("cancelled").inc()
            self.outbox.kick("visits", visit["_id"])

    @on(events.SLOT_RELEASED)
    def on_slot_released(self, event: events.Event) -> None:
        """A window freed by a cancellation, absence or postponement goes to the waiting list."""
        for offer in waitlist.offer_freed(self.db, event.payload, municipality.load()):
            m.slots_offered.inc()
            self.outbox.kick("offers", offer["_id"])

    # --- RPC: the resident's own page, through booking (which checked the private link) ----------

    @rpc
    def offers_for_booking(self, booking_id: str, limit: int = 5) -> dict:
        """What the resident may pick: the waiting list's offers and, while unscheduled, the best
        current windows."""
        visit = (
            self.db.visits.find_one({"booking_id": booking_id}, {"outbox": 0}) if is_booking_id(booking_id) else None
        )
        if visit is None:
            return {"status": "unknown", "waitlist": [], "suggestions": [], "expected_by": None}
        city = municipality.load()
        if visit["status"] != "unscheduled":
            return {"status": visit["status"], "waitlist": [], "suggestions": [], "expected_by": None}
        options = self._options(visit, None, None, max(1, min(int(limit), 10)))
        return {
            "status": visit["status"],
            "waitlist": [waitlist.view(o, city) for o in waitlist.open_offers(self.db, visit["booking_id"])],
            "suggestions": [answers.option_view(o) for o in options],
            # The expected visit date (ADR 21), as reception reads it out: shown to the resident too.
            "expected_by": (visit.get("expected") or {}).get("expected_by"),
        }

    @rpc
    def fix_for_booking(self, booking_id: str, crew_id: str, start: str, offer_id: str | None, deadline: str) -> dict:
        """The resident picks a window (an offer from the waiting list, or a current suggestion).
        Past `deadline` (booking stopped waiting for this answer) nothing is done."""
        city = municipality.load()
        answer, fixed, recovered = own_choices.pick(self.db, booking_id, crew_id, start, offer_id, deadline, city)
        if fixed is not None:
            if recovered:
                m.slots_recovered.inc()
            self._fixed(fixed, fixed.visit["slot"]["crew_id"], city)
        return answer

    @rpc
    def prefer_dates(self, booking_id: str, preferred: list[dict]) -> dict:
        """The resident asks for other days (at most three, each a working day ahead, am/pm/any)."""
        try:
            wishes = [
                {"date": dt.date.fromisoformat(p["date"]).isoformat(), "period": p["period"]}
                for p in list(preferred)[:3]
                if p["period"] in events.PERIODS
            ]
        except (TypeError, KeyError, ValueError):
            wishes = []
        if not is_booking_id(booking_id) or not wishes:
            return {"result": "refused"}
        result = self.db.visits.update_one(
            {"booking_id": booking_id, "status": "unscheduled"}, {"$set": {"preferred": wishes}}
        )
        return {"result": "saved" if result.matched_count else "wrong_status"}

    @timer(interval=15)
    def refresh_gauges(self) -> None:
        m.visits_waiting.set(self.db.visits.count_documents({"status": "unscheduled"}))
        m.stalled_working_days.set(stalled_working_days(self.db, municipality.load()))
        m.visits_at_risk.set(waiting.at_risk_count(self.db))

    # --- HTTP ---------------------------------------------------------------------------------

    @route(api.GET_VISITS)
    def list_visits(self, request: Request, staff: Staff) -> Response:
        query = load_query(request, VisitQuerySchema)
        match: dict = {k: query[k] for k in ("booking_id", "status") if query[k]}
        if query["at_risk"] is not None:
            match["wait_risk"] = {"$ne": None} if query["at_risk"] else None
        city = municipality.load()
        found = self.db.visits.find(match, {"outbox": 0}).sort("requested_at", 1).limit(query["limit"])
        return json_response({"visits": [visits.view(v, city) for v in found]})

    @route(api.GET_VISIT)
    def get_visit(self, request: Request, visit_id: str, staff: Staff) -> Response:
        visit = self._visit(visit_id)
        self._require_crew_or_reception(staff, visit)
        return json_response(visits.view(visit, municipality.load()))

    @route(api.GET_VISIT_SUGGESTIONS)
    def suggestions(self, request: Request, visit_id: str, staff: Staff) -> Response:
        query = load_query(request, SuggestionQuerySchema)
        visit = self._visit(visit_id)
        self._require(visit, ("unscheduled", "scheduled"))
        options = self._options(visit, query["start"], query["days"], query["limit"])
        return json_response({"visit_id": visit_id, "suggestions": [answers.option_view(o) for o in options]})

    @route(api.POST_VISIT_SLOT)
    def fix_slot(self, request: Request, visit_id: str, staff: Staff) -> Response:
        data = load_body(request, FixSlotSchema)
        city = municipality.load()
        if city.crew(data["crew_id"]) is None:
            raise ApiError(422, "unknown_crew", "Unknown crew.", "班が見つかりません。")
        visit = self._visit(visit_id)
        self._require(visit, slots.OPEN_STATUSES)
        try:
            fixed = slots.fix(self.db, visit_id, data["crew_id"], data["start"], city)
        except slots.NotAWorkingTime:
            raise answers.not_a_working_time() from None
        except slots.CrewOff:
            raise answers.crew_off([answers.option_view(o) for o in self._options(visit, None, None, 5)]) from None
        except slots.DoesNotFit:
            m.slot_clashes.inc()
            raise answers.does_not_fit(
                [answers.option_view(o) for o in self._options(self._visit(visit_id), None, None, 5)]
            ) from None
        except slots.WrongStatus as error:
            raise answers.wrong_status(error.status) from None
        except LookupError:  # removed while we waited for the crew's day
            raise not_found("visit") from None
        except Busy:
            raise answers.busy() from None
        self._fixed(fixed, data["crew_id"], city)
        return json_response({**visits.view(fixed.visit, city), "added_drive_minutes": fixed.added_drive_minutes})

    @route(api.POST_VISIT_DONE)
    def visit_done(self, request: Request, visit_id: str, staff: Staff) -> Response:
        result = load_body(request, VisitResultSchema)
        visit = self._visit(visit_id)
        self._require_crew_or_reception(staff, visit)
        if visits.recorded_already(visit, result["result_id"]):
            return json_response(visits.view(visit, municipality.load()))  # the tablet sent it again
        self._require(visit, ("scheduled",))
        if result["applicants"] is not None and len(result["applicants"]) != visit["household_size"]:
            raise invalid_field(
                "applicants",
                "Give one result for each applicant of the household.",
                "申請する方全員の結果を入力してください。",
            )
        if result["persons_applied"] > visit["household_size"]:
            raise invalid_field(
                "persons_applied", "Must not be more than the household size.", "世帯の人数を超えています。"
            )
        if result["note"]:
            self._keep_note(visit, result, rpc_identity.for_staff(request, "visit note"))
        updated = visits.record_result(self.db, visit, result, municipality.load())
        m.visits_done.labels(result["outcome"]).inc()
        if result["outcome"] == "postponed":
            m.slots_released.labels("postponed").inc()
        m.persons_applied.labels(visit["channel"], visit["district"]).inc(result["persons_applied"])
        self.outbox.kick("visits", visit_id)
        return json_response(visits.view(updated, municipality.load()))

    @route(api.POST_PLANS)
    def create_plan(self, request: Request, staff: Staff) -> Response:
        data = load_body(request, PlanRequestSchema)
        first = data["start"] or clock.today() + dt.timedelta(days=1)
        try:
            # The optimiser holds the GIL for seconds: a child process keeps this service responsive.
            document = campaign.plan(self.db, municipality.load(), first, data["days"], solver.solve_in_worker)
        except solver.SolverFailed as error:
            log.error("batch planning failed: %s", error)
            raise ApiError(
                503, "planner_unavailable", "The planner failed; try again.", "計画を作成できませんでした。"
            ) from None
        self.db.plans.insert_one(document)
        waiting.mark_from_plan(self.db, document)
        m.visits_at_risk.set(waiting.at_risk_count(self.db))
        m.plans_made.inc()
        m.plan_solve_seconds.observe(document["solve_seconds"])
        return json_response(campaign.view(document), status=201)

    @route(api.GET_PLAN)
    def get_plan(self, request: Request, plan_id: str, staff: Staff) -> Response:
        document = self.db.plans.find_one({"_id": plan_id})
        if document is None:
            raise not_found("plan")
        return json_response(campaign.view(document))

    @route(api.GET_CREWS)
    def list_crews(self, request: Request, staff: Staff) -> Response:
        crews = municipality.load().crews
        return json_response({"crews": [{"crew_id": c.id, "name": c.name, "car": c.car} for c in crews]})

    @route(api.GET_CREW_DAY)
    def crew_day(self, request: Request, crew_id: str, day: str, staff: Staff) -> Response:
        require_owner(staff, crew_id, "crew", ("reception",))
        city = municipality.load()
        if city.crew(crew_id) is None:
            raise not_found("crew")
        try:
            date = dt.date.fromisoformat(day)
        except ValueError:
            raise ApiError(
                400,
                "invalid_date",
                "The date must look like 2026-12-01.",
                "日付は 2026-12-01 の形式で指定してください。",
            ) from None
        found = list(
            self.db.visits.find(
                {"slot.crew_id": crew_id, "slot.date": date.isoformat(), "status": {"$in": list(visits.ACTIVE)}},
                {"outbox": 0},
            )
        )
        held = sessions.occupying(self.db, {"crew_id": crew_id, "date": date.isoformat()})
        known = contacts(
            self.booking, [v["booking_id"] for v in found], rpc_identity.for_staff(request, "crew day sheet"), True
        )
        # One crew's day is a few stops: solved in-process in milliseconds (see solver.py).
        travel = CachedTravel(default_model(city))
        sheet = daysheet.build(found, known, crew_id, date, city, travel, solver.solve, held)
        return json_response(sheet)

    # --- helpers ------------------------------------------------------------------------------

    def _keep_note(self, visit: dict, result: dict, identity: dict) -> None:
        """The crew's free text goes to booking, which seals it with the household and erases it
        with it: scheduling keeps only that there is one. Booking away: 503 before anything is
        recorded, and the tablet sends the whole result again."""
        result["result_id"] = result["result_id"] or str(uuid.uuid4())
        note = result.pop("note")
        answer = ask(
            self.booking.keep_visit_note,
            visit["booking_id"],
            visit["_id"],
            result["result_id"],
            note,
            identity,
            seconds=NOTE_TIMEOUT_SECONDS,
        )
        if answer.get("result") == "refused":
            raise invalid_field("note", "The note cannot be kept.", "メモを保存できませんでした。")
        result["has_note"] = answer.get("result") in ("kept", "already")

    def _fixed(self, fixed: slots.Fixed, crew_id: str, city: municipality.Municipality) -> None:
        """After any fix (staff's or the resident's own): the metrics, and the events out at once."""
        m.slots_fixed.labels(crew_id).inc()
        if fixed.before.get("slot"):
            m.slots_released.labels("rescheduled").inc()
        else:
            waited = visits.as_local(fixed.visit["slot"]["fixed_at"], city) - visits.as_local(
                fixed.before["requested_at"], city
            )
            m.request_to_slot_fixed.observe(max(0.0, waited.total_seconds()))
        self.outbox.kick("visits", fixed.visit["_id"])

    def _visit(self, visit_id: str) -> dict:
        visit = self.db.visits.find_one({"_id": visit_id}, {"outbox": 0})
        if visit is None:
            raise not_found("visit")
        return visit

    @staticmethod
    def _require_crew_or_reception(staff: Staff, visit: dict) -> None:
        """A crew acts only on visits in its own day; reception on any."""
        require_owner(staff, (visit.get("slot") or {}).get("crew_id"), "crew", ("reception",))

    @staticmethod
    def _require(visit: dict, statuses: tuple[str, ...]) -> None:
        if visit["status"] not in statuses:
            raise answers.wrong_status(visit["status"])

    def _options(self, visit: dict, first: dt.date | None, days: int | None, limit: int) -> list:
        city = municipality.load()
        first = first or clock.today() + dt.timedelta(days=1)
        horizon = list(
            workcalendar.working_days(first, days or city.visits.booking_horizon_working_days, city.calendar)
        )
        if not horizon:
            return []
        preferred = [{"date": dt.date.fromisoformat(p["date"]), "period": p["period"]} for p in visit["preferred"]]
        return planning.suggest(
            city=city,
            travel=default_model(city),
            place=visits.place_of(visit, city),
            duration_minutes=visit["duration_minutes"],
            preferred=preferred,
            days=horizon,
            stops_by_crew_day=visits.stops_between(self.db, horizon[0], horizon[-1], city, exclude=visit["_id"]),
            not_before=clock.now(),
            limit=limit,
        )
