"""Where a visit fits into a crew's day: feasibility and the drive time it adds.

A crew's day starts and ends at the depot inside office hours. Visits do not overlap lunch
(unless a visit is longer than either half of the day); driving may. Between two stops the crew
needs the drive time from one to the next. Pure functions: the service loads the stops.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.scheduling.travel import TravelModel
from shared import workcalendar
from shared.municipality import Municipality, Place


@dataclass(frozen=True)
class Stop:
    visit_id: str
    place: Place
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class DayFrame:
    start: dt.datetime
    end: dt.datetime
    lunch_start: dt.datetime
    lunch_end: dt.datetime

    def period(self, moment: dt.datetime) -> str:
        return "am" if moment < self.lunch_start else "pm"


@dataclass(frozen=True)
class Option:
    crew_id: str
    start: dt.datetime
    end: dt.datetime
    added_drive_minutes: int
    matches_preference: bool
    preference_rank: int = field(default=0, compare=False)


def day_frame(city: Municipality, day: dt.date) -> DayFrame:
    tz, cal = city.timezone, city.calendar

    def at(time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time, tzinfo=tz)

    return DayFrame(at(cal.day_start), at(cal.day_end), at(cal.lunch_start), at(cal.lunch_end))


def _respects_lunch(frame: DayFrame, start: dt.datetime, end: dt.datetime) -> bool:
    if end <= frame.lunch_start or start >= frame.lunch_end:
        return True
    longest_half = max(frame.lunch_start - frame.start, frame.end - frame.lunch_end)
    return end - start > longest_half  # too long for either half: the crew eats on site


def added_drive(
    stops: Sequence[Stop],
    place: Place,
    start: dt.datetime,
    end: dt.datetime,
    depot: Place,
    frame: DayFrame,
    travel: TravelModel,
) -> int | None:
    """Minutes of driving a new visit adds to the day, or None when it does not fit.
    `stops` are the day's other visits sorted by start."""
    if start < frame.start or end > frame.end or not _respects_lunch(frame, start, end):
        return None
    before = [s for s in stops if s.start < start]
    after = [s for s in stops if s.start >= start]
    prev_place, prev_end = (before[-1].place, before[-1].end) if before else (depot, frame.start)
    next_place, next_start = (after[0].place, after[0].start) if after else (depot, frame.end)
    to_new = travel.minutes(prev_place, place)
    from_new = travel.minutes(place, next_place)
    if prev_end + dt.timedelta(minutes=to_new) > start:
        return None
    if end + dt.timedelta(minutes=from_new) > next_start:
        return None
    return to_new + from_new - travel.minutes(prev_place, next_place)


def preference_rank(preferred: Iterable[dict], day: dt.date, period: str) -> int | None:
    """0 for the first preference that matches, 1 for the second, ...; None when none does."""
    for rank, wish in enumerate(preferred):
        if wish["date"] == day and wish["period"] in ("any", period):
            return rank
    return None


def suggest(
    *,
    city: Municipality,
    travel: TravelModel,
    place: Place,
    duration_minutes: int,
    preferred: Sequence[dict],
    days: Iterable[dt.date],
    stops_by_crew_day: dict[tuple[str, dt.date], list[Stop]],
    not_before: dt.datetime,
    limit: int = 10,
) -> list[Option]:
    """Feasible options, the resident's wishes first, then the least added driving, then the
    earliest. At most the best option per crew, day and half-day, so staff can offer a choice."""
    duration = dt.timedelta(minutes=duration_minutes)
    step = dt.timedelta(minutes=city.visits.slot_step_minutes)
    best: dict[tuple[str, dt.date, str], Option] = {}
    for day in days:
        if not workcalendar.is_working_day(day, city.calendar):
            continue
        frame = day_frame(city, day)
        for crew in city.crews:
            stops = stops_by_crew_day.get((crew.id, day), [])
            start = frame.start
            while start + duration <= frame.end:
                if start >= not_before:
                    added = added_drive(stops, place, start, start + duration, city.depot, frame, travel)
                    if added is not None:
                        period = frame.period(start)
                        rank = preference_rank(preferred, day, period)
                        option = Option(
                            crew_id=crew.id,
                            start=start,
                            end=start + duration,
                            added_drive_minutes=added,
                            matches_preference=rank is not None,
                            preference_rank=rank if rank is not None else len(preferred),
                        )
                        key = (crew.id, day, period)
                        if key not in best or added < best[key].added_drive_minutes:
                            best[key] = option
                start += step
    ranked = sorted(
        best.values(),
        key=lambda o: (not o.matches_preference, o.preference_rank, o.added_drive_minutes, o.start),
    )
    return ranked[:limit]
