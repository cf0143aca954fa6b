"""How long a request is expected to wait, and which requests are at risk of their wait bound.

- When a request comes, its expected visit date: the municipality's wait target, or later when the
  queue ahead of it needs more working days than that at what the crews can do in a day. Reception
  reads it to the resident on the phone; past the bound, the request is at risk from the start.
- When a batch plan is made, each request it says will miss its bound is marked at risk, with the
  reason, and one the plan places within its bound is cleared; a fixed slot clears it too.
Reception's list, `GET /api/v1/visits?at_risk=true` and the gauge all read the same mark.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from services.scheduling.routes import day_of
from shared import clock, workcalendar
from shared.municipality import Municipality

# The reasons a request may be visited past its bound (the plan's and the estimate's codes).
RISK_REASONS = ("over_capacity", "overdue_no_room", "no_working_time", "queue_longer_than_bound")
# A typical household for the estimate: 3 people (the demo data's mean is 2.9), and half an hour's
# drive to it and on to the next.
TYPICAL_PERSONS = 3
TYPICAL_DRIVE_MINUTES = 30


def visits_per_crew_day(city: Municipality) -> int:
    """What one crew does in a day, for the estimate: its working minutes over a typical visit."""
    day = day_of(city)
    working = day.end - day.start - (day.lunch_end - day.lunch_start)
    return max(1, working // (city.visits.duration_minutes(TYPICAL_PERSONS) + TYPICAL_DRIVE_MINUTES))


def nth_working_day_after(day: dt.date, count: int, city: Municipality) -> dt.date:
    return list(workcalendar.working_days(day + dt.timedelta(days=1), max(1, count), city.calendar))[-1]


def expected_wait(waiting_ahead: int, requested: dt.date, city: Municipality) -> dict:
    """The expected wait of a request that came on `requested` with `waiting_ahead` requests before
    it: the wait target, or the working days the queue needs if longer (all crews, typical visits)."""
    per_day = max(1, len(city.crews)) * visits_per_crew_day(city)
    days = max(city.visits.wait_target, math.ceil((waiting_ahead + 1) / per_day))
    bound = city.visits.max_wait_working_days
    return {
        "expected_working_days": days,
        "expected_by": nth_working_day_after(requested, days, city).isoformat(),
        "bound_by": nth_working_day_after(requested, bound, city).isoformat(),
    }


def on_arrival(db: Any, visit: dict, city: Municipality) -> dict:
    """The fields a new unscheduled visit starts with: its expected wait, and a risk mark when the
    queue alone would take it past its bound."""
    ahead = db.visits.count_documents({"status": "unscheduled"})
    requested = clock.today()
    expected = expected_wait(ahead, requested, city)
    fields: dict[str, Any] = {"expected": expected}
    if expected["expected_working_days"] > city.visits.max_wait_working_days:
        fields["wait_risk"] = risk("queue_longer_than_bound", None)
    return fields


def risk(reason: str, plan_id: str | None) -> dict:
    return {"reason": reason, "plan_id": plan_id, "said_at": clock.now()}


def mark_from_plan(db: Any, plan: dict) -> None:
    """Each request the plan says will miss its bound is marked with why; one it places is cleared."""
    for item in plan["at_risk"]:
        db.visits.update_one(
            {"_id": item["visit_id"], "status": "unscheduled"},
            {"$set": {"wait_risk": risk(item["reason"], plan["_id"])}},
        )
    placed = [p["visit_id"] for p in plan["proposals"]]
    if placed:
        db.visits.update_many({"_id": {"$in": placed}, "wait_risk": {"$ne": None}}, {"$set": {"wait_risk": None}})


def at_risk_count(db: Any) -> int:
    return db.visits.count_documents({"status": "unscheduled", "wait_risk": {"$ne": None}})
