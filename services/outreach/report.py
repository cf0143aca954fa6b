"""The progress report for the 担当者会: monthly figures per channel and per district over a 年度
(or some of its months), and each district's progress against the year's target.

Figures are by the month things happened (activity), unlike the funnel's cohorts: requests by the
day the booking arrived, visits and people applied by the visit's day, cancellations by the day of
cancelling, recovered slots by the day the freed window was taken. The wait is the working days
from the request to the booking's first visit that met the household. Everything is computed from
the funnel's one document per booking (services/outreach/funnel.py), which the events fill."""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from shared import clock
from shared.events import VISITED_OUTCOMES
from shared.municipality import Municipality
from shared.workcalendar import add_months, fiscal_months, working_days_between

COUNTS = ("requests", "visits", "persons_applied", "cancellations", "slots_recovered")
UNKNOWN = "unknown"  # a booking whose request event has not arrived (yet)


@dataclass
class Tally:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COUNTS, 0))
    waits: list[int] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in COUNTS:
            self.counts[name] += other.counts[name]
        self.waits += other.waits

    def row(self) -> dict[str, Any]:
        return {
            **self.counts,
            "median_wait_days": round(statistics.median(self.waits), 1) if self.waits else None,
            "longest_wait_days": max(self.waits) if self.waits else None,
        }


@dataclass(frozen=True)
class Period:
    fiscal_year: int
    first: dt.date  # first day of the first month
    last: dt.date  # first day of the last month

    @property
    def months(self) -> list[dt.date]:
        return [m for m in fiscal_months(self.fiscal_year) if self.first <= m <= self.last]


def period_of(fiscal_year: int, first: dt.date | None, last: dt.date | None, today: dt.date) -> Period:
    """The months asked for, within one 年度; by default all of it, or for the running 年度 up to
    this month (later months have nothing yet)."""
    months = fiscal_months(fiscal_year)
    first = first or months[0]
    this_month = today.replace(day=1)
    if last is None:
        last = this_month if first <= this_month <= months[-1] else months[-1]
    return Period(fiscal_year, first, last)


def _month(moment: dt.datetime | None, tz: Any) -> dt.date | None:
    return clock.aware(moment).astimezone(tz).date().replace(day=1) if moment else None


def _range_query(period: Period, tz: Any) -> dict:
    start = dt.datetime.combine(period.first, dt.time(), tz)
    end = dt.datetime.combine(add_months(period.last, 1), dt.time(), tz)
    moments = {"$gte": start, "$lt": end}
    days = {"$gte": period.first.isoformat(), "$lt": add_months(period.last, 1).isoformat()}
    return {
        "$or": [
            {"booked_at": moments},
            {"cancelled_at": moments},
            {"recovered_at": moments},
            {"visit_days": {"$elemMatch": days}},
        ]
    }


def tallies(db: Any, period: Period, town: Municipality) -> dict[tuple[str, str, dt.date], Tally]:
    """(kind, key, month) -> Tally, where kind is "channel" or "district"."""
    tz, months = town.timezone, set(period.months)
    found: dict[tuple[str, str, dt.date], Tally] = defaultdict(Tally)

    def count(month: dt.date | None, name: str, story: dict, amount: int = 1, wait: int | None = None) -> None:
        if month not in months:
            return
        for kind in ("channel", "district"):
            tally = found[(kind, story.get(kind) or UNKNOWN, month)]
            tally.counts[name] += amount
            if wait is not None:
                tally.waits.append(wait)

    for story in db.funnel.find(_range_query(period, tz)):
        booked = clock.aware(story["booked_at"]).astimezone(tz).date() if story.get("booked_at") else None
        count(_month(story.get("booked_at"), tz), "requests", story)
        count(_month(story.get("cancelled_at"), tz), "cancellations", story)
        count(_month(story.get("recovered_at"), tz), "slots_recovered", story)
        first_met = True
        for visit in sorted((story.get("visits") or {}).values(), key=lambda v: v.get("date") or ""):
            if not visit.get("date"):
                continue  # recorded before visits kept their day
            day = dt.date.fromisoformat(visit["date"])
            month = day.replace(day=1)
            count(month, "persons_applied", story, visit["persons"])
            if visit["outcome"] in VISITED_OUTCOMES:
                wait = working_days_between(booked, day, town.calendar) if booked and first_met else None
                count(month, "visits", story, 1, wait)
                first_met = False
    return found


def build(db: Any, period: Period, town: Municipality) -> dict[str, Any]:
    found = tallies(db, period, town)
    months = period.months

    def series(kind: str, key: str) -> list[dict]:
        return [{"month": m.strftime("%Y-%m"), **found.get((kind, key, m), Tally()).row()} for m in months]

    def summed(kind: str, key: str | None = None, month: dt.date | None = None) -> Tally:
        """One kind's tallies added up: of one key or all, in one month or all."""
        total = Tally()
        for (k, name, when), tally in found.items():
            if k == kind and key in (None, name) and month in (None, when):
                total.add(tally)
        return total

    channels = sorted({key for kind, key, _ in found if kind == "channel"})
    districts = [d.id for d in town.districts] + sorted(
        {key for kind, key, _ in found if kind == "district"} - {d.id for d in town.districts}
    )
    district_rows = []
    for key in districts:
        known = town.district(key)
        plan = town.report.target(period.fiscal_year, key)
        row = summed("district", key).row()
        district_rows.append(
            {
                "district": key,
                "name": known.name if known else key,
                "group": plan.group if plan else None,
                "target": plan.target if plan else None,
                "progress": round(row["persons_applied"] / plan.target, 4) if plan and plan.target else None,
                **row,
                "months": series("district", key),
            }
        )
    month_rows = [{"month": m.strftime("%Y-%m"), **summed("district", month=m).row()} for m in months]
    targets = [row["target"] for row in district_rows if row["target"] is not None]
    return {
        "fiscal_year": period.fiscal_year,
        "from": period.first.strftime("%Y-%m"),
        "to": period.last.strftime("%Y-%m"),
        "basis": "by the month each thing happened: requests by arrival, visits and people applied by the "
        "visit's day, cancellations by the day of cancelling, recovered slots by the day taken",
        "target_group": town.report.target_group,
        "total": {**summed("district").row(), "target": sum(targets) if targets else None},
        "months": month_rows,
        "channels": [
            {"channel": key, **summed("channel", key).row(), "months": series("channel", key)} for key in channels
        ],
        "districts": district_rows,
    }
