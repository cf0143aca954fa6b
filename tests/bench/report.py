"""`make bench`: what the progress report costs over a whole 年度 of bookings: the report's figures,
its workbook and its PDF handout, each against the funnel's figures for the same year and the same
data (the baseline, measured in the same run). The year's handout is kept as var/bench-report.pdf.

    python -m tests.bench.report

In process, on the MongoDB stand-in (mongomock: the one part not run for real here), for a year at
Miyakonojo's scale (2,400 bookings, as its targets) and ten times that. Each figure is the median
of REPEATS runs; peak memory by tracemalloc. Results in var/bench-report.json."""

from __future__ import annotations

import datetime as dt
import json
import random
import statistics
import time
import tracemalloc
from collections.abc import Callable

import mongomock

from deploy.local.stack import ROOT
from services.outreach import funnel, report, report_files
from shared import municipality

RESULTS = ROOT / "var" / "bench-report.json"
HANDOUT = ROOT / "var" / "bench-report.pdf"
SCALES = (2_400, 24_000)
REPEATS = 5
CHANNELS = ("phone", "phone", "phone", "liaison", "web")


def year_of_bookings(db, count: int, town) -> None:
    """`count` bookings over 2026年度, spread over the districts as their targets are; two in three
    visited 5-30 days later with one to four people, some of the rest cancelled."""
    rng = random.Random(count)
    start = dt.datetime(2026, 4, 1, 9, tzinfo=town.timezone)
    plans = [town.report.target(2026, d.id) for d in town.districts]
    districts = rng.choices([d.id for d in town.districts], [p.target if p else 1 for p in plans], k=count)
    stories = []
    for n in range(count):
        booked = start + dt.timedelta(minutes=rng.randrange(365 * 24 * 60))
        story = {
            "_id": f"b{n}",
            "channel": rng.choice(CHANNELS),
            "district": districts[n],
            "household_size": rng.choices((1, 2, 3, 4), (50, 35, 10, 5))[0],
            "booked_at": booked,
        }
        if rng.random() < 0.65:
            day = (booked + dt.timedelta(days=rng.randint(5, 30))).date().isoformat()
            story["visits"] = {f"e{n}": {"outcome": "completed", "persons": story["household_size"], "date": day}}
            story["visit_days"] = [day]
            story["slot_fixed_at"] = booked
        elif rng.random() < 0.3:
            story["cancelled_at"] = booked + dt.timedelta(days=2)
        stories.append(story)
    db.funnel.insert_many(stories)


def measure(work: Callable[[], object]) -> dict:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        work()
        times.append(time.perf_counter() - began)
    tracemalloc.start()
    work()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"seconds": statistics.median(times), "peak_mib": peak / 2**20}


def bench_one(db, town) -> tuple[dict, dict]:
    period = report.Period(2026, dt.date(2026, 4, 1), dt.date(2027, 3, 1))
    figures = report.build(db, period, town)
    runs = {
        "funnel (baseline)": lambda: funnel.figures(db, dt.date(2026, 4, 1), dt.date(2027, 3, 31), town.timezone),
        "report JSON": lambda: report.build(db, period, town),
        "workbook (from the JSON)": lambda: report_files.workbook(figures, town.name),
        "PDF handout (from the JSON)": lambda: report_files.handout(figures, town.name, "2027年4月1日"),
    }
    return {name: measure(work) for name, work in runs.items()}, figures


def main() -> None:
    town = municipality.load()
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = {}
    for count in SCALES:
        db = mongomock.MongoClient().bench
        year_of_bookings(db, count, town)
        measured, figures = bench_one(db, town)
        if count == SCALES[0]:  # the handout of a year at Miyakonojo's scale, for the README
            HANDOUT.write_bytes(report_files.handout(figures, town.name, "2027年4月1日"))
        base = measured["funnel (baseline)"]["seconds"]
        results[count] = {name: {**m, "ratio": m["seconds"] / base} for name, m in measured.items()}
        print(f"\n{count:,} bookings in 2026年度 ({figures['total']['persons_applied']:,} people applied)")
        print(f"{'':30} {'median s':>9} {'x funnel':>9} {'peak MiB':>9}")
        for name, m in results[count].items():
            print(f"{name:30} {m['seconds']:9.3f} {m['ratio']:9.2f} {m['peak_mib']:9.1f}")
    RESULTS.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
