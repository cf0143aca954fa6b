"""Slot offers while a receptionist is on the phone: every crew and working day, every window start
on the slot grid, checked against the day's route (routes.Timeline) and ranked by the resident's
wishes, then by the drive time the visit adds, then by date. Pure functions: the service loads
the stops."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from services.scheduling.routes import CachedTravel, RouteStop, Timeline, at_minute, day_of
from services.scheduling.travel import TravelModel
from shared import workcalendar
from shared.municipality import Municipality, Place


@dataclass(frozen=True)
class Option:
    crew_id: str
    start: dt.datetime  # the promised window's start: what fixing the slot takes
    window_end: dt.datetime
    estimated_start: dt.datetime  # when the crew would arrive on the day's route as it stands
    end: dt.datetime  # estimated end
    added_drive_minutes: int
    matches_preference: bool
    preference_rank: int = field(default=0, compare=False)


def preference_rank(preferred: Iterable[dict], day: dt.date, period: str) -> int | None:
    """0 for the first preference that matches, 1 for the second, ...; None when none does."""
    for rank, wish in enumerate(preferred):
        if wish["date"] == day and wish["period"] in ("any", period):
            return rank
    return None


def fit(
    stops: Sequence[RouteStop],
    place: Place,
    window_start: dt.datetime,
    duration_minutes: int,
    city: Municipality,
    travel: TravelModel | CachedTravel,
    window_minutes: int | None = None,
) -> tuple[dt.datetime, int] | None:
    """(estimated start, added drive minutes) of a visit promised the window starting at
    `window_start` (the usual window's length, or `window_minutes`) on a day with these stops, or
    None when it would break a promise or a rule."""
    cached = travel if isinstance(travel, CachedTravel) else CachedTravel(travel)
    timeline = Timeline(stops, day_of(city), city.depot, cached)
    minute = window_start.hour * 60 + window_start.minute
    length = city.visits.window_minutes if window_minutes is None else window_minutes
    found = timeline.insertion(place, minute, minute + length, duration_minutes)
    if found is None:
        return None
    start, added = found
    return at_minute(window_start.date(), start, city), added


def suggest(
    *,
    city: Municipality,
    travel: TravelModel,
    place: Place,
    duration_minutes: int,
    preferred: Sequence[dict],
    days: Iterable[dt.date],
    stops_by_crew_day: dict[tuple[str, dt.date], list[RouteStop]],
    not_before: dt.datetime,
    limit: int = 10,
    earliest_first: bool = False,
) -> list[Option]:
    """Feasible options, the resident's wishes first, then the least added driving, then the
    earliest; at most the best per crew, day and half-day, so staff can offer a choice.
    `earliest_first` ranks by time alone (the paper-calendar baseline of the benchmark)."""
    cached = CachedTravel(travel)
    day = day_of(city)
    window, step = city.visits.window_minutes, city.visits.slot_step_minutes
    best: dict[tuple[str, dt.date, str], tuple[tuple[int, ...], int, int, int]] = {}
    for date in days:
        if not workcalendar.is_working_day(date, city.calendar):
            continue
        first_allowed = day.start
        if date == not_before.date():
            first_allowed = max(first_allowed, not_before.hour * 60 + not_before.minute + 1)
        elif date < not_before.date():
            continue
        for crew in city.crews:
            if not city.crew_goes_out(crew, date):
                continue
            timeline = Timeline(stops_by_crew_day.get((crew.id, date), []), day, city.depot, cached)
            for window_start, start, added in timeline.openings(place, duration_minutes, window, step, first_allowed):
                key = (crew.id, date, day.period(start))
                # Least driving; then a window the crew reaches at its start, not its end.
                rank = (window_start,) if earliest_first else (added, start - window_start, window_start)
                if key not in best or rank < best[key][0]:
                    best[key] = (rank, added, window_start, start)
    options = []
    for (crew_id, date, period), (_, added, window_start, start) in best.items():
        rank = preference_rank(preferred, date, period)
        options.append(
            Option(
                crew_id=crew_id,
                start=at_minute(date, window_start, city),
                window_end=at_minute(date, window_start + window, city),
                estimated_start=at_minute(date, start, city),
                end=at_minute(date, start + duration_minutes, city),
                added_drive_minutes=added,
                matches_preference=rank is not None,
                preference_rank=rank if rank is not None else len(preferred),
            )
        )
    if earliest_first:
        return sorted(options, key=lambda o: (o.start, o.crew_id))[:limit]
    return sorted(options, key=lambda o: (not o.matches_preference, o.preference_rank, o.added_drive_minutes, o.start))[
        :limit
    ]
