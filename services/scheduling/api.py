"""Scheduling's HTTP API, as documented in OpenAPI (see shared.openapi)."""

from marshmallow import Schema, fields

from services.scheduling.schemas import (
    ApplicantResultSchema,
    FixSlotSchema,
    PlanRequestSchema,
    SessionQuerySchema,
    SessionRequestSchema,
    SuggestionQuerySchema,
    VisitQuerySchema,
    VisitResultSchema,
)
from shared.events import PreferenceSchema
from shared.openapi import Error, Operation, document, errors


class Slot(Schema):
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)
    window_start = fields.AwareDateTime(required=True)
    window_end = fields.AwareDateTime(required=True, metadata={"description": "The crew arrives by then"})


class Result(Schema):
    outcome = fields.Str(required=True)
    persons_applied = fields.Int(required=True)
    has_note = fields.Bool(metadata={"description": "The crew wrote a note: booking keeps it, sealed"})
    applicants = fields.List(fields.Nested(ApplicantResultSchema), metadata={"description": "Per applicant, in order"})


class ExpectedWait(Schema):
    expected_working_days = fields.Int(
        required=True, metadata={"description": "The wait target, or what the queue ahead needs if longer"}
    )
    expected_by = fields.Date(required=True)
    bound_by = fields.Date(required=True, metadata={"description": "The last day within the wait bound"})


RISK_REASONS = ["over_capacity", "overdue_no_room", "no_working_time", "queue_longer_than_bound"]


class WaitRisk(Schema):
    reason = fields.Str(required=True, metadata={"enum": RISK_REASONS})
    plan_id = fields.Str(allow_none=True, required=True, metadata={"description": "The plan that said so"})
    said_at = fields.AwareDateTime(required=True)


class Visit(Schema):
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    status = fields.Str(required=True, metadata={"enum": ["unscheduled", "scheduled", "done", "cancelled"]})
    district = fields.Str(required=True)
    district_name = fields.Str(required=True)
    venue = fields.Str(allow_none=True, required=True, metadata={"description": "A group session's venue id"})
    session_id = fields.Str(
        allow_none=True, required=True, metadata={"description": "The hall session the household signed up to"}
    )
    household_size = fields.Int(required=True)
    duration_minutes = fields.Int(required=True)
    preferred = fields.List(fields.Nested(PreferenceSchema), required=True)
    requested_at = fields.AwareDateTime(required=True)
    waited_working_days = fields.Int(
        required=True, metadata={"description": "Working days since the request (today in the municipality's zone)"}
    )
    expected = fields.Nested(
        ExpectedWait,
        allow_none=True,
        required=True,
        metadata={"description": "Reckoned when the request came; none for a hall-session sign-up"},
    )
    wait_risk = fields.Nested(
        WaitRisk,
        allow_none=True,
        required=True,
        metadata={"description": "Set while the request is expected to be visited past its wait bound"},
    )
    slot = fields.Nested(Slot, allow_none=True, required=True)
    result = fields.Nested(Result, allow_none=True, required=True)


class FixedVisit(Visit):
    added_drive_minutes = fields.Int(required=True)


class VisitList(Schema):
    visits = fields.List(fields.Nested(Visit), required=True)


class Option(Schema):
    crew_id = fields.Str(required=True)
    start = fields.AwareDateTime(
        required=True, metadata={"description": "The promised window's start; give it to fix the slot"}
    )
    window_end = fields.AwareDateTime(required=True, metadata={"description": "The crew arrives by then"})
    estimated_start = fields.AwareDateTime(
        required=True, metadata={"description": "When the crew would arrive on the day's route as it stands"}
    )
    end = fields.AwareDateTime(required=True, metadata={"description": "Estimated end of the visit"})
    added_drive_minutes = fields.Int(required=True)
    matches_preference = fields.Bool(required=True)


class Suggestions(Schema):
    visit_id = fields.Str(required=True)
    suggestions = fields.List(fields.Nested(Option), required=True)


class SlotConflict(Error):
    suggestions = fields.List(fields.Nested(Option))
    visit_status = fields.Str()


class Crew(Schema):
    crew_id = fields.Str(required=True)
    name = fields.Str(required=True)
    car = fields.Str(required=True)


class CrewList(Schema):
    crews = fields.List(fields.Nested(Crew), required=True)


class StopAddress(Schema):
    postal_code = fields.Str(required=True)
    district = fields.Str(required=True)
    line = fields.Str(required=True)


class StopApplicant(Schema):
    name = fields.Str(required=True)
    name_kana = fields.Str(required=True)
    birth_date = fields.Date(required=True)
    age = fields.Int(required=True, metadata={"description": "On the day of the visit"})
    guardian_needed = fields.Bool(
        required=True, metadata={"description": "Under 15 on the day: a guardian must be present"}
    )


NOTES = "What crews noted at earlier visits, oldest first (kept by booking)"


class StopHousehold(Schema):
    visit_id = fields.Str(required=True)
    booking_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    status = fields.Str(required=True)
    household_size = fields.Int(required=True)
    name = fields.Str(allow_none=True, required=True, metadata={"description": "The household's contact"})
    address = fields.Nested(StopAddress, allow_none=True, required=True)
    needs = fields.Str(allow_none=True, required=True, metadata={"description": "配慮事項, as reception noted them"})
    visit_notes = fields.List(fields.Str(), allow_none=True, required=True, metadata={"description": NOTES})
    applicants = fields.List(fields.Nested(StopApplicant), allow_none=True, required=True)


class Stop(Schema):
    kind = fields.Str(
        required=True,
        metadata={"enum": ["visit", "session"], "description": "A household's visit, or a hall session (集団申請)"},
    )
    visit_id = fields.Str(metadata={"description": "kind visit"})
    booking_id = fields.Str(metadata={"description": "kind visit"})
    reference = fields.Str(allow_none=True, required=True, metadata={"description": "None for a session"})
    status = fields.Str(required=True)
    district = fields.Str(required=True)
    district_name = fields.Str(required=True)
    venue_name = fields.Str(allow_none=True, required=True, metadata={"description": "Where a group meets"})
    household_size = fields.Int(required=True, metadata={"description": "For a session: everyone signed up"})
    drive_minutes = fields.Int(required=True)
    depart = fields.AwareDateTime(required=True)
    arrive = fields.AwareDateTime(required=True, metadata={"description": "Estimated arrival"})
    window_start = fields.AwareDateTime(required=True, metadata={"description": "The promised window"})
    window_end = fields.AwareDateTime(required=True)
    start = fields.AwareDateTime(required=True, metadata={"description": "The visit begins (estimated)"})
    end = fields.AwareDateTime(required=True)
    window_kept = fields.Bool(
        required=True,
        metadata={"description": "False when the crew cannot arrive within the promised window: call the household"},
    )
    idle_minutes_before = fields.Int(required=True)
    name = fields.Str(allow_none=True, metadata={"description": "kind visit: the household's contact"})
    address = fields.Nested(StopAddress, allow_none=True, metadata={"description": "kind visit"})
    needs = fields.Str(allow_none=True, metadata={"description": "kind visit: 配慮事項, as reception noted them"})
    visit_notes = fields.List(fields.Str(), allow_none=True, metadata={"description": "kind visit: " + NOTES})
    applicants = fields.List(fields.Nested(StopApplicant), allow_none=True, metadata={"description": "kind visit"})
    session_id = fields.Str(metadata={"description": "kind session"})
    opens = fields.AwareDateTime(metadata={"description": "kind session: the doors open (the crew sets up before)"})
    closes = fields.AwareDateTime(metadata={"description": "kind session"})
    capacity = fields.Int(metadata={"description": "kind session: persons"})
    households = fields.List(fields.Nested(StopHousehold), metadata={"description": "kind session: who signed up"})


class Call(Schema):
    visit_id = fields.Str(required=True)
    reference = fields.Str(required=True)
    call_at = fields.AwareDateTime(required=True)
    name = fields.Str(allow_none=True, required=True)
    phone = fields.Str(allow_none=True, required=True)


class DaySheet(Schema):
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    depot = fields.Str(required=True)
    day_start = fields.AwareDateTime(required=True)
    return_to_depot = fields.AwareDateTime(allow_none=True, required=True)
    total_drive_minutes = fields.Int(required=True)
    promises_at_risk = fields.List(
        fields.Str(), required=True, metadata={"description": "References of the stops whose window cannot be kept"}
    )
    route_optimised = fields.Bool(
        required=True, metadata={"description": "False: the optimiser could not keep every promise; window order"}
    )
    persons = fields.Int(required=True)
    stops = fields.List(fields.Nested(Stop), required=True)
    calls = fields.List(fields.Nested(Call), required=True)
    contacts_available = fields.Bool(required=True)


class Session(Schema):
    session_id = fields.Str(required=True)
    venue = fields.Str(required=True)
    venue_name = fields.Str(required=True)
    district = fields.Str(allow_none=True, required=True)
    crew_id = fields.Str(required=True)
    crew_name = fields.Str(required=True)
    date = fields.Date(required=True)
    start = fields.AwareDateTime(required=True, metadata={"description": "The doors open"})
    end = fields.AwareDateTime(required=True, metadata={"description": "The doors close"})
    capacity = fields.Int(required=True, metadata={"description": "Persons"})
    persons_signed_up = fields.Int(required=True)
    households_signed_up = fields.Int(required=True)
    seats_left = fields.Int(required=True)
    status = fields.Str(required=True, metadata={"enum": ["open", "cancelled"]})
    open_for_signups = fields.Bool(required=True, metadata={"description": "Open, and not started yet"})
    can_cancel = fields.Bool(required=True, metadata={"description": "Open, and not over yet"})


class SessionList(Schema):
    sessions = fields.List(fields.Nested(Session), required=True)


class SessionCancelled(Session):
    households_moved = fields.Int(required=True, metadata={"description": "Back to waiting for a home visit"})


class SessionDetail(Session):
    signups = fields.List(fields.Nested(Visit), required=True, metadata={"description": "Each household's visit"})


class Proposal(Schema):
    visit_id = fields.Str(required=True)
    crew_id = fields.Str(required=True)
    date = fields.Date(required=True)
    window_start = fields.AwareDateTime(required=True, metadata={"description": "Give it to fix the slot"})
    window_end = fields.AwareDateTime(required=True)
    estimated_start = fields.AwareDateTime(required=True)


class Unplanned(Schema):
    visit_id = fields.Str(required=True)
    reason = fields.Str(
        required=True,
        metadata={
            "enum": [
                "no_room_within_wait_bound",
                "no_room_in_horizon",
                "no_working_time_in_horizon",
                "fixed_visit_not_routable",
            ]
        },
    )


class AtRisk(Schema):
    visit_id = fields.Str(required=True)
    reason = fields.Str(required=True, metadata={"enum": RISK_REASONS})


class Plan(Schema):
    plan_id = fields.Str(required=True)
    created_at = fields.AwareDateTime(required=True)
    first_day = fields.Date(required=True)
    last_day = fields.Date(required=True)
    working_days = fields.Int(required=True)
    requests = fields.Int(required=True, metadata={"description": "Waiting requests considered"})
    proposals = fields.List(fields.Nested(Proposal), required=True)
    unplanned = fields.List(fields.Nested(Unplanned), required=True)
    at_risk = fields.List(
        fields.Nested(AtRisk),
        required=True,
        metadata={"description": "Requests this plan says will be visited past their wait bound, and why"},
    )
    total_drive_minutes = fields.Int(required=True, metadata={"description": "All crew-days, fixed visits included"})
    solve_seconds = fields.Float(required=True)


GET_VISITS = Operation(
    "GET",
    "/api/v1/visits",
    "Visits, by booking or status.",
    {200: VisitList, **errors(422)},
    query=VisitQuerySchema,
    tags=("visits",),
    roles=("reception",),
)

GET_VISIT = Operation(
    "GET",
    "/api/v1/visits/<visit_id>",
    "One visit.",
    {200: Visit, **errors(404)},
    tags=("visits",),
    roles=("reception", "crew"),
)

GET_VISIT_SUGGESTIONS = Operation(
    "GET",
    "/api/v1/visits/<visit_id>/suggestions",
    "Feasible slots: the resident's wishes first, then the least added drive time.",
    {200: Suggestions, 409: SlotConflict, **errors(404, 422)},
    query=SuggestionQuerySchema,
    tags=("visits",),
    roles=("reception",),
)

POST_VISIT_SLOT = Operation(
    "POST",
    "/api/v1/visits/<visit_id>/slot",
    "Fix a slot; 409 with fresh offers when it no longer fits.",
    {200: FixedVisit, 409: SlotConflict, **errors(400, 404, 413, 422, 503)},
    body=FixSlotSchema,
    tags=("visits",),
    roles=("reception",),
)

POST_VISIT_DONE = Operation(
    "POST",
    "/api/v1/visits/<visit_id>/done",
    "Record the visit's result (postponed: back to unscheduled).",
    {200: Visit, 409: SlotConflict, **errors(400, 404, 413, 422)},
    body=VisitResultSchema,
    tags=("visits",),
    roles=("reception", "crew"),
)

POST_SESSIONS = Operation(
    "POST",
    "/api/v1/sessions",
    "Open a hall session (集団申請): it takes its place in the crew's day like a visit.",
    {201: Session, 409: SlotConflict, **errors(400, 413, 422, 503)},
    body=SessionRequestSchema,
    tags=("sessions",),
    roles=("reception",),
)

GET_SESSIONS = Operation(
    "GET",
    "/api/v1/sessions",
    "Hall sessions in a date range, at one venue or all.",
    {200: SessionList, **errors(422)},
    query=SessionQuerySchema,
    tags=("sessions",),
    roles=("reception", "crew", "manager"),
)

GET_SESSION = Operation(
    "GET",
    "/api/v1/sessions/<session_id>",
    "One hall session with the households signed up (their visits).",
    {200: SessionDetail, **errors(404)},
    tags=("sessions",),
    roles=("reception", "crew"),
)

POST_SESSION_CANCEL = Operation(
    "POST",
    "/api/v1/sessions/<session_id>/cancel",
    "Call a hall session off: each household signed up waits for a home visit again and is told.",
    {200: SessionCancelled, 409: Error, **errors(404)},
    tags=("sessions",),
    roles=("reception",),
)

POST_PLANS = Operation(
    "POST",
    "/api/v1/plans",
    "Plan every waiting request over the next working days (proposals to confirm by phone, then fix).",
    {201: Plan, **errors(400, 413, 422, 503)},
    body=PlanRequestSchema,
    tags=("plans",),
    roles=("reception",),
)

GET_PLAN = Operation(
    "GET",
    "/api/v1/plans/<plan_id>",
    "A plan made earlier.",
    {200: Plan, **errors(404)},
    tags=("plans",),
    roles=("reception",),
)

GET_CREWS = Operation(
    "GET", "/api/v1/crews", "The crews.", {200: CrewList}, tags=("crews",), roles=("reception", "crew", "manager")
)

GET_CREW_DAY = Operation(
    "GET",
    "/api/v1/crews/<crew_id>/days/<day>",
    "A crew's day: stops in order and whom to phone.",
    {200: DaySheet, **errors(400, 404)},
    tags=("crews",),
    roles=("reception", "crew"),
)

OPERATIONS = [
    GET_VISITS,
    GET_VISIT,
    GET_VISIT_SUGGESTIONS,
    POST_VISIT_SLOT,
    POST_VISIT_DONE,
    POST_SESSIONS,
    GET_SESSIONS,
    GET_SESSION,
    POST_SESSION_CANCEL,
    POST_PLANS,
    GET_PLAN,
    GET_CREWS,
    GET_CREW_DAY,
]

OPENAPI = document(
    "scheduling",
    "Turns requests into visits, offers and fixes slots, gives each crew its day. "
    "Emits scheduling.slot_fixed, scheduling.slot_released and scheduling.visit_done.",
    OPERATIONS,
)
