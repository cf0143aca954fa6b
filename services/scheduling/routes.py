"""A crew's day as a route with promised time windows, in whole minutes from local midnight.

Each visit has a promised window in which the crew arrives (for example 10:00-10:30), a duration
(set-up plus 30 minutes a person) and a place. The crew leaves the depot no earlier than the day's
start and is back by its end. A visit does not overlap lunch unless it is too long for either half
of the day (the crew then eats on site); driving may overlap lunch.

`Timeline` computes, for stops in route order, the earliest each can start (forward) and the latest
each may start without breaking a later promise (backward). With both, whether a new visit fits
between two stops, and what driving it adds, is a constant-time question: the heart of slot offers
while a receptionist is on the phone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from services.scheduling.travel import TravelModel
from shared.municipality import Municipality, Place


@dataclass(frozen=True)
class RouteStop:
    visit_id: str
    place: Place
    window_start: int
    window_end: int
    duration: int


@dataclass(frozen=True)
class Day:
    start: int
    end: int
    lunch_start: int
    lunch_end: int

    def eats_on_site(self, duration: int) -> bool:
        return duration > max(self.lunch_start - self.start, self.end - self.lunch_end)

    def runs_into_lunch(self, start: int, duration: int) -> bool:
        """The lunch rule: a visit starting then would overlap lunch, and it is short enough not to."""
        return start < self.lunch_end and start + duration > self.lunch_start and not self.eats_on_site(duration)

    def allowed_starts(self, first: int, last: int, duration: int) -> list[tuple[int, int]]:
        """The lunch rule as intervals: the starts within [first, last] that keep it."""
        if first > last:
            return []
        if self.eats_on_site(duration):
            return [(first, last)]
        intervals = []
        before_lunch = min(last, self.lunch_start - duration)
        if first <= before_lunch:
            intervals.append((first, before_lunch))
        after_lunch = max(first, self.lunch_end)
        if after_lunch <= last:
            intervals.append((after_lunch, last))
        return intervals

    def period(self, minute: int) -> str:
        return "am" if minute < self.lunch_start else "pm"


def minute_of(moment: dt.datetime | dt.time) -> int:
    return moment.hour * 60 + moment.minute


def day_of(city: Municipality) -> Day:
    cal = city.calendar
    return Day(minute_of(cal.day_start), minute_of(cal.day_end), minute_of(cal.lunch_start), minute_of(cal.lunch_end))


def at_minute(day: dt.date, minute: int, city: Municipality) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=city.timezone)


class CachedTravel:
    """Drive minutes memoised per pair of places: offers ask the same few pairs thousands of times.
    Keyed by identity (hashing a dataclass's fields cost a fifth of an offer's time); the pairs are
    kept alive with the cache, so an identity cannot be reused while it lives."""

    def __init__(self, model: TravelModel) -> None:
        self.model = model
        self._memo: dict[tuple[int, int], int] = {}
        self._alive: list[tuple[Place, Place]] = []

    def minutes(self, origin: Place, destination: Place) -> int:
        key = (id(origin), id(destination))
        found = self._memo.get(key)
        if found is None:
            found = self._memo[key] = self.model.minutes(origin, destination)
            self._alive.append((origin, destination))
        return found


def earliest_start(arrival: int, window_start: int, window_end: int, duration: int, day: Day) -> int | None:
    start = max(arrival, window_start)
    if day.runs_into_lunch(start, duration):
        start = day.lunch_end
    return start if start <= window_end else None


def latest_start(must_end_by: int, window_start: int, window_end: int, duration: int, day: Day) -> int | None:
    start = min(window_end, must_end_by - duration)
    if day.runs_into_lunch(start, duration):
        start = day.lunch_start - duration
    return start if start >= window_start else None


@dataclass(frozen=True)
class Gap:
    arrival: int  # the earliest the crew can be at the new place
    from_new: int  # drive on to the next stop (or the depot)
    next_latest: int  # by when it must start there (the day's end for the depot)
    added_drive: int  # the detour


@dataclass
class Timeline:
    """A day's stops in route order with their earliest finishes and latest starts."""

    stops: Sequence[RouteStop]
    day: Day
    depot: Place
    travel: CachedTravel
    feasible: bool = True

    def __post_init__(self) -> None:
        minutes = self.travel.minutes
        self.starts: list[int] = []
        self.finishes: list[int] = []
        place, free = self.depot, self.day.start
        for stop in self.stops:
            start = earliest_start(
                free + minutes(place, stop.place), stop.window_start, stop.window_end, stop.duration, self.day
            )
            if start is None:
                self.feasible = False
                return
            self.starts.append(start)
            self.finishes.append(start + stop.duration)
            place, free = stop.place, start + stop.duration
        self.latest: list[int] = [0] * len(self.stops)
        place, must_leave = self.depot, self.day.end
        for index in range(len(self.stops) - 1, -1, -1):
            stop = self.stops[index]
            latest = latest_start(
                must_leave - minutes(stop.place, place), stop.window_start, stop.window_end, stop.duration, self.day
            )
            if latest is None or latest < self.starts[index]:
                self.feasible = False
                return
            self.latest[index] = latest
            place, must_leave = stop.place, latest
        if self.stops and self.finishes[-1] + minutes(self.stops[-1].place, self.depot) > self.day.end:
            self.feasible = False

    def gap(self, position: int, place: Place) -> Gap:
        """A new visit to `place` between stop `position - 1` (or the depot at the day's start) and
        stop `position` (or the depot by the day's end)."""
        if position > 0:
            prev_place, prev_free = self.stops[position - 1].place, self.finishes[position - 1]
        else:
            prev_place, prev_free = self.depot, self.day.start
        if position < len(self.stops):
            next_place, next_latest = self.stops[position].place, self.latest[position]
        else:
            next_place, next_latest = self.depot, self.day.end
        minutes = self.travel.minutes
        to_new, from_new = minutes(prev_place, place), minutes(place, next_place)
        return Gap(
            arrival=prev_free + to_new,
            from_new=from_new,
            next_latest=next_latest,
            added_drive=to_new + from_new - minutes(prev_place, next_place),
        )

    def start_in(self, gap: Gap, window_start: int, window_end: int, duration: int) -> int | None:
        """The visit's estimated start in that gap with that window, or None if it would break a
        promise, the day's hours or lunch."""
        start = earliest_start(gap.arrival, window_start, window_end, duration, self.day)
        if start is None or start + duration + gap.from_new > gap.next_latest:
            return None
        return start

    def position_for(self, window_start: int) -> int:
        """Stops run in the order of their windows: a new window goes after those starting earlier."""
        position = 0
        while position < len(self.stops) and self.stops[position].window_start <= window_start:
            position += 1
        return position

    def insertion(self, place: Place, window_start: int, window_end: int, duration: int) -> tuple[int, int] | None:
        """(estimated start, added drive minutes) of a new visit with this window, or None."""
        if not self.feasible:
            return None
        gap = self.gap(self.position_for(window_start), place)
        start = self.start_in(gap, window_start, window_end, duration)
        return None if start is None else (start, gap.added_drive)

    def openings(
        self, place: Place, duration: int, window: int, step: int, not_before: int
    ) -> list[tuple[int, int, int]]:
        """Every (window start, estimated start, added drive) a new visit could be promised on this
        day, on the slot grid (day start + k * step) and no earlier than `not_before`. Each gap
        between two stops is one position with one detour, so its feasible window starts form a
        short run: the whole day is checked in a few dozen comparisons, not one insertion per slot."""
        if not self.feasible:
            return []
        found = []
        for position in range(len(self.stops) + 1):
            gap = self.gap(position, place)
            # windows that sort into this gap, reachable in time, leaving time to go on
            low = max(self.day.start, not_before, gap.arrival - window)
            if position > 0:
                low = max(low, self.stops[position - 1].window_start)
            high = min(gap.next_latest - duration - gap.from_new, self.day.end - duration)
            if position < len(self.stops):
                high = min(high, self.stops[position].window_start - 1)
            window_start = self.day.start + -(-(low - self.day.start) // step) * step  # first grid point >= low
            while window_start <= high:
                start = self.start_in(gap, window_start, window_start + window, duration)
                if start is not None:
                    found.append((window_start, start, gap.added_drive))
                window_start += step
        return found

    def drive_minutes(self) -> int:
        places = [self.depot, *(s.place for s in self.stops), self.depot]
        return sum(self.travel.minutes(a, b) for a, b in pairwise(places)) if self.stops else 0
