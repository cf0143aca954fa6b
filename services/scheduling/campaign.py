"""Batch planning for a campaign: every waiting request proposed a crew, a day and a promised
window over the next working days, for reception to confirm by phone (then fix as usual).
The optimiser's part is services.scheduling.optimiser.plan_batch; this module reads the visits,
turns dates into day indices and the answer back into dates and windows."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter
from typing import Any

from services.scheduling import optimiser, visits
from services.scheduling.routes import CachedTravel, at_minute, day_of
from services.scheduling.travel import default_model
from shared import clock, workcalendar
from shared.municipality import Municipality


def requests_waiting(db: Any, city: Municipality, horizon: list[dt.date]) -> list[optimiser.Request]:
    index = {day: i for i, day in enumerate(horizon)}
    bound, target = city.visits.max_wait_working_days, city.visits.wait_target
    found = db.visits.find(
        {"status": "unscheduled"},
        {"district": 1, "venue": 1, "duration_minutes": 1, "requested_at": 1, "preferred": 1},
    ).sort("requested_at", 1)
    waiting = []
    for visit in found:
        requested = visits.as_local(visit["requested_at"], city).date()
        # A visit on the plan's day index i would have waited `waited + i` working days (the
        # horizon is working days); overdue or with its bound beyond the plan: None (any day).
        waited = workcalendar.working_days_between(requested, horizon[0], city.calendar)
        preferred = tuple(
            (index[dt.date.fromisoformat(p["date"])], p["period"])
            for p in visit["preferred"]
            if dt.date.fromisoformat(p["date"]) in index
        )
        waiting.append(
            optimiser.Request(
                visit_id=visit["_id"],
                place=visits.place_of(visit, city),
                duration=visit["duration_minutes"],
                waited_days=waited,
                deadline_index=optimiser.last_index_within(waited, bound, len(horizon)),
                target_index=optimiser.last_index_within(waited, target, len(horizon)),
                preferred=preferred,
                district=visit["district"],
            )
        )
    return waiting


def served_lately(db: Any, city: Municipality) -> dict[str, int]:
    """Per district, the visits fixed within the last wait bound's working days: the fairness pass
    counts them, so that plan after plan no district is left out more than the others."""
    day = clock.today()
    for _ in range(city.visits.max_wait_working_days):
        day = workcalendar.previous_working_day(day, city.calendar)
    since = dt.datetime.combine(day, dt.time(), city.timezone)
    found = db.visits.find(
        {"slot.fixed_at": {"$gte": since}, "status": {"$in": ["scheduled", "done"]}}, {"district": 1}
    )
    return dict(Counter(visit["district"] for visit in found))


def plan(db: Any, city: Municipality, first: dt.date, days: int, solve: optimiser.Solve) -> dict:
    horizon = list(workcalendar.working_days(first, days, city.calendar))
    index = {day: i for i, day in enumerate(horizon)}
    fixed = {
        (crew, index[day]): stops
        for (crew, day), stops in visits.stops_between(db, horizon[0], horizon[-1], city).items()
        if day in index
    }
    waiting = requests_waiting(db, city, horizon)
    started = time.perf_counter()
    fleet = optimiser.Fleet(
        crews=[crew.id for crew in city.crews],
        days=len(horizon),
        day=day_of(city),
        depot=city.depot,
        travel=CachedTravel(default_model(city)),
        step_minutes=city.visits.slot_step_minutes,
        window_minutes=city.visits.window_minutes,
        wait_bound=city.visits.max_wait_working_days,
        solve=solve,
        fixed=fixed,
        served=served_lately(db, city),
        crew_off=frozenset(
            (crew.id, index[day]) for crew in city.crews for day in horizon if not city.crew_goes_out(crew, day)
        ),
    )
    result = optimiser.plan_batch(waiting, fleet)
    seconds = time.perf_counter() - started
    window = city.visits.window_minutes
    proposals = [
        {
            "visit_id": p.visit_id,
            "crew_id": p.crew_id,
            "date": horizon[p.day_index].isoformat(),
            "window_start": clock.iso(at_minute(horizon[p.day_index], p.window_start, city)),
            "window_end": clock.iso(at_minute(horizon[p.day_index], p.window_start + window, city)),
            "estimated_start": clock.iso(at_minute(horizon[p.day_index], p.estimated_start, city)),
        }
        for p in sorted(result.proposals, key=lambda p: (p.day_index, p.crew_id, p.window_start))
    ]
    return {
        "_id": str(uuid.uuid4()),
        "created_at": clock.now(),
        "first_day": horizon[0].isoformat(),
        "last_day": horizon[-1].isoformat(),
        "working_days": len(horizon),
        "requests": len(waiting),
        "proposals": proposals,
        "unplanned": [{"visit_id": v, "reason": r} for v, r in sorted(result.unplanned.items())],
        "at_risk": [{"visit_id": v, "reason": r} for v, r in sorted(result.at_risk.items())],
        "total_drive_minutes": result.drive_minutes,
        "solve_seconds": round(seconds, 3),
    }


def view(document: dict) -> dict:
    shown = {key: value for key, value in document.items() if key not in ("_id", "created_at")}
    shown.setdefault("at_risk", [])  # a plan made before the list existed
    return {"plan_id": document["_id"], "created_at": clock.iso(document["created_at"]), **shown}
