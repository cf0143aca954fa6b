"""How long scheduling has made no progress while residents wait: the figure behind the alert
'no visit fixed for N working days while requests wait'. Counted in working days, so a weekend or
the New Year closure does not raise it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from services.scheduling.visits import as_local
from shared import clock, workcalendar
from shared.municipality import Municipality


def stalled_working_days(db: Any, city: Municipality, today: dt.date | None = None) -> int:
    oldest_waiting = db.visits.find_one({"status": "unscheduled"}, {"requested_at": 1}, sort=[("requested_at", 1)])
    if oldest_waiting is None:
        return 0
    since = as_local(oldest_waiting["requested_at"], city).date()
    last_fixed = db.visits.find_one(
        {"slot.fixed_at": {"$exists": True}}, {"slot.fixed_at": 1}, sort=[("slot.fixed_at", -1)]
    )
    if last_fixed is not None:
        since = max(since, as_local(last_fixed["slot"]["fixed_at"], city).date())
    today = today or clock.now().astimezone(city.timezone).date()
    return workcalendar.working_days_between(since, today, city.calendar)
