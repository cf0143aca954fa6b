"""The day-before notice (前日のお知らせ): on the working day before a visit, at the municipality's
configured time, each resident with a fixed visit hears of it again (by e-mail, or by a call
reception makes when there is no address).

Which visits are due follows from the clock alone, so a notification process that was down at the
time catches up when it comes back (a Friday 15:00 missed is sent on Saturday for Monday). Each
notice is a message keyed by the booking and the visit's start (messages.py), so it goes once per
visit and date however often the timer runs, and a visit moved to another day gets its own."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared import workcalendar
from shared.municipality import Municipality

CHECK_SECONDS = 60


def due_visit_day(now: dt.datetime, city: Municipality) -> dt.date | None:
    """The visit day whose notices are due at `now`: the next working day after today, once the
    configured time on the working day before it has passed."""
    local = now.astimezone(city.timezone)
    visit_day = next(workcalendar.working_days(local.date() + dt.timedelta(days=1), 1, city.calendar))
    send_day = workcalendar.previous_working_day(visit_day, city.calendar)
    send_at = dt.datetime.combine(send_day, city.reminder_at, tzinfo=city.timezone)
    return visit_day if local >= send_at else None


def visits_on(db: Any, day: dt.date) -> list[dict]:
    """The day's visits still on (their day-of call tasks, which a released slot closes)."""
    return list(db.call_tasks.find({"date": day.isoformat(), "status": "open"}))


def occasion(start: dt.datetime) -> str:
    return f"{start:%Y%m%d%H%M}"
